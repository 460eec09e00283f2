"""Tags for HTML that is cached."""

from django import template
from django.utils.safestring import SafeString

from shop.fragments import CSRF_PLACEHOLDER

register = template.Library()


@register.simple_tag
def cached_csrf_token() -> SafeString:
    """`{% csrf_token %}` for HTML that is cached: a placeholder that `CsrfFieldMiddleware` fills per response."""
    return CSRF_PLACEHOLDER
