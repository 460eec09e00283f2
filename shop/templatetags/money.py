from django import template

from shop.money import format_money

register = template.Library()


@register.filter
def money(minor: int | None, currency: str | None = None) -> str:
    """Formats an amount in minor units: `{{ line.subtotal_minor|money }}`."""
    if minor is None or minor == "":
        return ""
    return format_money(minor, currency)


@register.filter
def rate(basis_points: int | None) -> str:
    """A VAT rate in basis points as a percentage: `{{ 1900|rate }}` -> '19%', `{{ 550|rate }}` -> '5.5%'."""
    if basis_points is None or basis_points == "":
        return ""
    return f"{int(basis_points) / 100:g}%"
