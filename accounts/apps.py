from django.apps import AppConfig
from django.conf import settings


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        if settings.USE_MONGODB:
            from accounts import allauth_compat

            allauth_compat.install()
