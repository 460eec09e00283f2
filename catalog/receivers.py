from catalog.models import Item
from catalog.services import bump_catalog_revision, record_opening_stock


def catalog_changed(sender, **kwargs) -> None:
    """An item or category was saved or deleted (admin, shell, services): cached pages must not show the old one."""
    bump_catalog_revision()


def item_created(sender, instance: Item, created: bool, raw: bool = False, **kwargs) -> None:
    """Every item created through `save()` gets its opening stock move here, and only here: `create_item`, the admin's
    add form, factories and the shell alike (`create_item` and the admin name the creator in `opening_actor`), so no
    path records it twice. Bulk creations (imports, the demo loader) record their own; fixtures (`raw`) bring theirs.
    """
    if created and not raw:
        record_opening_stock(item=instance, actor=instance.opening_actor)
