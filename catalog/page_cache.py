"""The shopper-independent part of catalog pages, cached under the catalog version (see `shop.fragments`).

Each request reads `catalog_version()` (a token in the shared cache, or one indexed row), so a page cached by one
gunicorn worker is never served after a change made through another worker, the admin or a bulk update: the key
moves with the data and old entries simply expire.
"""

from collections.abc import Callable

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage

from catalog.selectors import CatalogVersion
from shop.fragments import cached_render


def cached_fragment(*, version: CatalogVersion, name: str, params: str, build: Callable[[], dict]) -> dict:
    """The fragment for `name` and `params` at this catalog version, built and stored on a miss."""
    return cached_render(name=f"catalog:{name}", parts=(version.key, params), build=build)


def is_anonymous_visitor(request) -> bool:
    """True when nothing personal can be on the page: no session (so no login, no cart) and no pending messages."""
    return request.method == "GET" and not (
        settings.SESSION_COOKIE_NAME in request.COOKIES or CookieStorage.cookie_name in request.COOKIES
    )
