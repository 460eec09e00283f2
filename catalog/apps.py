from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from catalog.models import Category, Item
        from catalog.receivers import catalog_changed, item_created

        post_save.connect(item_created, sender=Item, dispatch_uid="catalog.item_created")
        for model in (Item, Category):
            for signal in (post_save, post_delete):
                signal.connect(catalog_changed, sender=model, dispatch_uid=f"catalog.changed.{model.__name__}.{signal}")
