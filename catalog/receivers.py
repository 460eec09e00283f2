from catalog.models import Category, Item
from catalog.services import catalog_changed, record_opening_stock


def item_changed(sender, instance: Item, **kwargs) -> None:
    """An item was saved or deleted (admin, API, shell, services): the pages of its category, and of the one it left,
    must not show the old one."""
    catalog_changed(category_ids={instance.category_id, instance.loaded_category_id})
    instance.loaded_category_id = instance.category_id  # what the database holds now


def category_changed(sender, instance: Category, **kwargs) -> None:
    """A category was saved or deleted: its name and place show on every page (menus, filters, breadcrumbs)."""
    catalog_changed(everything=True, category_slugs={instance.slug, instance.loaded_slug} - {None})
    instance.loaded_slug = instance.slug


def item_created(sender, instance: Item, created: bool, raw: bool = False, **kwargs) -> None:
    """Every item created through `save()` gets its opening stock move here, and only here: `create_item`, the admin's
    add form, factories and the shell alike (`create_item` and the admin name the creator in `opening_actor`), so no
    path records it twice. Bulk creations (imports, the demo loader) record their own; fixtures (`raw`) bring theirs.
    """
    if created and not raw:
        record_opening_stock(item=instance, actor=instance.opening_actor)
