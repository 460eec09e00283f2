"""Rendered HTML kept in the shared cache, keyed by everything it was rendered from, and the version tokens that
such keys name.

A fragment is rendered without the request, so nothing personal (user, messages, CSRF token) can end up in it;
its forms carry `{% cached_csrf_token %}`, a placeholder that `shop.middleware.CsrfFieldMiddleware` fills for each
response. Keys also name the release and the language, so a deploy never serves HTML of older templates.

A version token stands for the state of some data (the catalog, one cart) in a key, so that a cached page is checked
with one cache read instead of a query. Every change to that data replaces the token with a new random one, after
the change is stored; a page cached under a token was therefore rendered after every change before that token was
written. A token is never written twice, so a lost or evicted token (replaced by a new one) cannot bring back a page.
Only meaningful when `settings.CACHE_IS_SHARED`: a token in a cache that another server does not read is useless.
"""

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from shop.outbox import enqueue, handler
from shop.release import release_key

logger = logging.getLogger(__name__)

T = TypeVar("T")

FRAGMENT_TIMEOUT = 15 * 60


def placeholder(name: str) -> str:
    """A marker for `name` in HTML rendered ahead of time, filled in per response. It carries a digest of SECRET_KEY,
    so no seller, staff member or shopper can type it into a title, a category name or a search."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"shop.placeholder:{name}".encode(), "sha256").hexdigest()
    return f"{name}-{digest[:20]}"


# Safe, so templates output it as it is; only hex digits come from outside the literal.
CSRF_PLACEHOLDER = mark_safe(f"<!--{placeholder('csrf-token')}-->")  # noqa: S308
# What marks a visitor's own CSRF token in HTML (Django's `{% csrf_token %}` field): never stored in a shared cache.
CSRF_FIELD_NAME = "csrfmiddlewaretoken"


def cached_render(
    *,
    name: str,
    parts: tuple,
    build: Callable[[], T],
    scopes: tuple | Callable[[], tuple] = (),
    version_of: Callable[..., str | None] | None = None,
) -> T:
    """What `build()` returns for `name` and `parts`, from the cache when it is there and still current, else built
    and stored. `parts` name every input of the rendering besides the versioned data (parameters, who is looking).

    With `version_of`, the data's version is read before `build()` as `version_of(*scopes)` (`scopes` may be a
    callable, called only on a miss) and stored beside the HTML: a hit is served only while `version_of` still gives
    that version for the scopes it names, and nothing is stored while it gives None (the versions cannot be read).
    """
    key = _fragment_key(name, parts)
    entry = cache.get(key)
    if entry is not None and _is_current(entry, version_of):
        return entry[2]
    if version_of is None:
        scopes, version = (), None
    else:
        scopes = tuple(scopes() if callable(scopes) else scopes)
        version = version_of(*scopes)
        if version is None:
            return build()
    value = build()
    if CSRF_FIELD_NAME in repr(value):
        # One visitor's token in HTML that others would be served: use {% cached_csrf_token %} in cached HTML.
        logger.error("Refused to cache %s: it holds a CSRF token; use {%% cached_csrf_token %%}", name)
        return value
    cache.set(key, (scopes, version, value), FRAGMENT_TIMEOUT)
    return value


def cached_value(*, name: str, parts: tuple, version_of: Callable[..., str | None] | None = None) -> object | None:
    """What `cached_render` stored for `name` and `parts` if it is still current, or None: a lookup that never
    renders."""
    entry = cache.get(_fragment_key(name, parts))
    return entry[2] if entry is not None and _is_current(entry, version_of) else None


def _is_current(entry: tuple, version_of) -> bool:
    scopes, version, _ = entry
    return version_of is None or version_of(*scopes) == version


def _fragment_key(name: str, parts: tuple) -> str:
    source = repr((release_key(), get_language(), name, parts))
    return f"fragment:{name}:" + hashlib.blake2b(source.encode(), digest_size=16).hexdigest()


def version_token(key: str) -> str | None:
    """The current token under `key`, a new one when there is none; None when the cache does not answer."""
    token = cache.get(key)
    if token is None:
        cache.add(key, secrets.token_hex(8), timeout=None)
        token = cache.get(key)
    return token


def replace_version_tokens(keys: list[str]) -> None:
    """Marks the data behind each of `keys` as changed. Call it after the change is committed (`shop.db.on_commit`).

    A key the cache does not take is handed to the outbox, whose worker retries it until the cache is back: a page
    cached under the old token must not come back with the cache.
    """
    for key in keys:
        if not _store_new_token(key):
            enqueue("cache.replace_token", dedupe_key=f"cache.replace_token:{key}", key=key)


def replace_version_token(key: str) -> None:
    replace_version_tokens([key])


def _store_new_token(key: str) -> bool:
    # The fail-safe backends answer False for a write that failed; Django's own return None for one that worked.
    return cache.set(key, secrets.token_hex(8), timeout=None) is not False


@handler("cache.replace_token")
def _retry_replace_token(payload: dict) -> None:
    if not _store_new_token(payload["key"]):
        raise ConnectionError(f"the cache still refuses to store {payload['key']!r}")
