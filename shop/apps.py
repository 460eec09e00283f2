from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Shop"

    def ready(self) -> None:
        # System checks, and the outbox handlers of the shop itself, register themselves on import.
        from shop import checks, csrf, fragments, mail  # noqa: F401

        csrf.install()
