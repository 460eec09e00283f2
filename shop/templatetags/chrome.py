"""The page chrome around every page's content."""

import functools

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.safestring import SafeString, mark_safe

from shop.fragments import CSRF_PLACEHOLDER, cached_render

register = template.Library()


@register.simple_tag(takes_context=True)
def navbar(context) -> SafeString:
    """The navigation bar for this visitor, rendered once per distinct state (signed in as whom, staff or not,
    units in the cart, the search typed) and then cached: it is on every page."""
    request = context.get("request")  # None only where no request is rendered (then nobody is signed in)
    user = context.get("user")
    signed_in = bool(user and user.is_authenticated)
    cart_count = context.get("cart_count") or 0
    state = {
        "signed_in": signed_in,
        "email": user.email if signed_in else "",
        "is_staff": signed_in and user.is_staff,
        "cart_count": cart_count() if callable(cart_count) else cart_count,
        "q": request.GET.get("q", "") if request else "",
    }
    html = cached_render(
        name="navbar",
        parts=tuple(state.items()),
        build=lambda: render_to_string("partials/_navbar.html", {**state, "SHOP_NAME": settings.SHOP_NAME}),
    )
    return mark_safe(html)  # noqa: S308 (HTML we rendered)


@register.simple_tag
def asset(path: str) -> str:
    """`{% static %}` for the files every page links, looked up once per process (the manifest is read at start)."""
    return _asset_url(path)


@functools.lru_cache(maxsize=64)
def _asset_url(path: str) -> str:
    return static(path)


@register.simple_tag
def cached_csrf_token() -> SafeString:
    """`{% csrf_token %}` for HTML that is cached: a placeholder that `CsrfFieldMiddleware` fills per response."""
    return CSRF_PLACEHOLDER
