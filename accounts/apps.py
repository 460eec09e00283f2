from django.apps import AppConfig
from django.conf import settings


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from accounts.models import User
        from accounts.receivers import user_saved_or_deleted, users_updated
        from accounts.signals import users_updated as users_updated_signal

        for signal in (post_save, post_delete):
            signal.connect(user_saved_or_deleted, sender=User, dispatch_uid=f"accounts.user_changed.{signal}")
        users_updated_signal.connect(users_updated, sender=User, dispatch_uid="accounts.users_updated")
        if settings.USE_MONGODB:
            from accounts import allauth_compat

            allauth_compat.install()
