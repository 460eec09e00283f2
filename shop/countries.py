"""The countries the shop ships to (settings.SHOP_SHIPPING_COUNTRIES, ISO 3166-1 alpha-2 codes) and their names."""

from babel import Locale
from django.conf import settings
from django.core.exceptions import ValidationError


def country_name(code: str) -> str:
    """The English name of the country with this code; the code itself when babel does not know it."""
    return Locale("en").territories.get(code, code)


def shipping_country_choices() -> list[tuple[str, str]]:
    """The countries the shop ships to with English names, sorted by name, after an empty "Choose a country". A real
    shop ships to a known list; it also keeps the select small and quick to render."""
    names = Locale("en").territories
    countries = [(code, names.get(code, code)) for code in settings.SHOP_SHIPPING_COUNTRIES]
    return [("", "Choose a country"), *sorted(countries, key=lambda pair: pair[1])]


def validate_shipping_country(code: str) -> None:
    """A model field validator: the code is one of the countries the shop ships to (read when called, so that a
    change of the setting needs no migration)."""
    if code not in settings.SHOP_SHIPPING_COUNTRIES:
        raise ValidationError(
            "We do not ship to %(country)s.", code="invalid_country", params={"country": country_name(code)}
        )
