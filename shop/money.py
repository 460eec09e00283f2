"""Money is an integer in the minor units of settings.SHOP_CURRENCY; this module converts and formats it."""

import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision
from django.conf import settings
from django.utils.translation import get_language, to_locale

# Up to a billion in major units, with at most a few decimals: no signs, exponents or thousands separators.
MAJOR_AMOUNT = re.compile(r"\d{1,9}(\.\d{0,4})?")


def currency_places(currency: str | None = None) -> int:
    """The number of minor-unit digits of the currency (2 for EUR, 0 for JPY)."""
    return get_currency_precision(currency or settings.SHOP_CURRENCY)


def format_money(minor: int, currency: str | None = None) -> str:
    """The amount formatted for the active language, e.g. 1999 -> '€19.99'."""
    locale = to_locale(get_language() or settings.LANGUAGE_CODE)
    return _formatted(int(minor), currency or settings.SHOP_CURRENCY, locale)


# Babel looks the locale's patterns up on every call; a shop shows the same few hundred prices over and over.
@lru_cache(maxsize=8192)
def _formatted(minor: int, currency: str, locale: str) -> str:
    return format_currency(Decimal(minor).scaleb(-currency_places(currency)), currency, locale=locale)


def parse_major(text: str, currency: str | None = None) -> int | None:
    """Minor units for a major-unit amount typed by a person ('12.5' -> 1250); None when it is not one."""
    text = (text or "").strip().replace(",", ".")
    if not MAJOR_AMOUNT.fullmatch(text):
        return None
    minor = Decimal(text).scaleb(currency_places(currency)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(minor)


def percent_of(minor: int, percent: int | Decimal) -> int:
    """`percent` % of an amount, rounded half-up once."""
    return int((Decimal(minor) * Decimal(percent) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fraction_of(minor: int, numerator: int, denominator: int) -> int:
    """`minor` x numerator / denominator in whole minor units, rounded half-up once, in exact integer arithmetic:
    19% of 5 is `fraction_of(5, 1900, 10000)` = 1; the VAT inside 5 at 19% is `fraction_of(5, 1900, 11900)` = 1."""
    return (2 * minor * numerator + denominator) // (2 * denominator)


def allocate(amount: int, weights: list[int]) -> list[int]:
    """`amount` split in proportion to `weights`, in whole minor units that add up to exactly `amount`: each share
    rounded down, the units left over going to the largest remainders (the first of equal ones)."""
    total = sum(weights)
    if not total:
        return [0] * len(weights)
    shares = [amount * weight // total for weight in weights]
    remainders = sorted(range(len(weights)), key=lambda n: (-(amount * weights[n] % total), n))
    for n in remainders[: amount - sum(shares)]:
        shares[n] += 1
    return shares
