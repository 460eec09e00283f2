from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from catalog.models import Category, Item
        from catalog.receivers import category_changed, item_changed, item_created

        post_save.connect(item_created, sender=Item, dispatch_uid="catalog.item_created")
        for model, receiver in ((Item, item_changed), (Category, category_changed)):
            for signal in (post_save, post_delete):
                signal.connect(receiver, sender=model, dispatch_uid=f"catalog.changed.{model.__name__}.{signal}")
