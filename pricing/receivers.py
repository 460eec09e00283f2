from django.conf import settings

from pricing.selectors import PRICING_VERSION_KEY
from shop.db import on_commit
from shop.fragments import replace_version_token


def pricing_changed(sender, **kwargs) -> None:
    """A rate, zone, method, tier or code was saved or deleted: cached carts must be priced again (after commit)."""
    if settings.CACHE_IS_SHARED:
        on_commit(lambda: replace_version_token(PRICING_VERSION_KEY))
