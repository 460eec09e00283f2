"""The shopper-independent part of catalog pages, cached under the catalog version.

Each request reads `catalog_version()` from the database (one indexed row), so a page cached by one gunicorn
worker is never served after a change made through another worker, the admin or a bulk update: the key moves
with the data and old entries simply expire. Fragments are rendered without the request, so nothing personal
(cart, user, messages, CSRF token) can end up in them; forms carry `CSRF_PLACEHOLDER`, filled per request.
"""

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.template.backends.utils import csrf_input
from django.utils.safestring import SafeString, mark_safe

from catalog.selectors import CatalogVersion

CACHE_TIMEOUT = 15 * 60
CSRF_PLACEHOLDER = "<!--csrf-token-->"


def cached_fragment(*, version: CatalogVersion, name: str, params: str, build: Callable[[], dict]) -> dict:
    """The fragment for `name` and `params` at this catalog version, built and stored on a miss."""
    key = "catalog:" + hashlib.blake2b(f"{version.key}|{name}|{params}".encode(), digest_size=16).hexdigest()
    fragment = cache.get(key)
    if fragment is None:
        fragment = build()
        cache.set(key, fragment, CACHE_TIMEOUT)
    return fragment


def with_csrf(html: str, request) -> SafeString:
    """The cached HTML with this request's CSRF field in each form."""
    return mark_safe(html.replace(CSRF_PLACEHOLDER, str(csrf_input(request))))  # noqa: S308 (HTML we rendered)


def is_anonymous_visitor(request) -> bool:
    """True when nothing personal can be on the page: no session (so no login, no cart) and no pending messages."""
    return request.method == "GET" and not (
        settings.SESSION_COOKIE_NAME in request.COOKIES or CookieStorage.cookie_name in request.COOKIES
    )
