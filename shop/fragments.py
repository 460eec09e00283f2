"""Rendered HTML kept in the shared cache, keyed by everything it was rendered from.

A fragment is rendered without the request, so nothing personal (user, messages, CSRF token) can end up in it;
its forms carry `CSRF_PLACEHOLDER`, which `with_csrf` fills for each response. Keys also name the release, so a
deploy never serves HTML rendered by older templates.
"""

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.template.backends.utils import csrf_input
from django.utils.safestring import SafeString, mark_safe

from shop.release import release_key

T = TypeVar("T")

FRAGMENT_TIMEOUT = 15 * 60
CSRF_PLACEHOLDER = "<!--csrf-token-->"


def cached_render(*, name: str, parts: tuple, build: Callable[[], T]) -> T:
    """What `build()` returns for `name` and `parts`, from the cache when it is there, else built and stored.

    `parts` must name every input of the rendering that can change (a version, the lines shown...).
    """
    source = repr((release_key(), name, parts))
    key = f"fragment:{name}:" + hashlib.blake2b(source.encode(), digest_size=16).hexdigest()
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, FRAGMENT_TIMEOUT)
    return value


def with_csrf(html: str, request) -> SafeString:
    """The cached HTML with this request's CSRF field in each form."""
    return mark_safe(html.replace(CSRF_PLACEHOLDER, str(csrf_input(request))))  # noqa: S308 (HTML we rendered)
