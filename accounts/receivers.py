"""What the accounts app does when a user's row is written: every process reads it again (see `signed_in_user`)."""

from django.conf import settings

from accounts.selectors import user_version_key
from shop.db import on_commit
from shop.fragments import replace_version_tokens


def users_changed(*, user_ids: list) -> None:
    """Rows of these users were written: once that commits, every process reads them again
    (`accounts.selectors.signed_in_user`)."""
    if settings.CACHE_IS_SHARED and user_ids:
        keys = [user_version_key(user_id=user_id) for user_id in user_ids]  # now: a deleted user's pk is gone later
        on_commit(lambda: replace_version_tokens(keys))


def user_saved_or_deleted(sender, instance, **kwargs) -> None:
    users_changed(user_ids=[instance.pk])


def users_updated(sender, user_ids: list, **kwargs) -> None:
    users_changed(user_ids=user_ids)
