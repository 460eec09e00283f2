from django import template

from shop.money import format_money

register = template.Library()


@register.filter
def money(minor: int | None, currency: str | None = None) -> str:
    """Formats an amount in minor units: `{{ line.subtotal_minor|money }}`."""
    if minor is None or minor == "":
        return ""
    return format_money(minor, currency)
