"""Demo prices: VAT rates, shipping zones and methods, and two discount codes, for every country the shop ships to
(`settings.SHOP_SHIPPING_COUNTRIES`), created idempotently.

Like the catalog's demo it only adds what is missing, matched on natural keys (a rate's country and class, a zone's
name, a method's zone and name, a code): staff edit all of it in the admin, and `make run` loads the demo on every
start, so a second run must never overwrite their changes.
"""

from babel import Locale
from django.conf import settings
from django.db import models

from catalog.models import TaxClass
from pricing.models import DiscountCode, DiscountKind, ShippingMethod, ShippingZone, TaxRate, WeightTier
from shop.db import unit_of_work

# Standard and main reduced VAT rates in basis points, in force on 1 December 2026. Source: Eurofiscalis, "EU VAT
# rates 2026" (eurofiscalis.com/en/vat-rates-in-ue, updated 2 February 2026), checked on 1 December 2026 against the
# 2025/2026 changes as reported by vatcalc.com, vatapi.com and marosavat.com: Estonia 24% from 1 July 2025; Romania
# 21% and one 11% reduced rate from 1 August 2025; Slovakia 23%/19% since 2025; from 1 January 2026 Finland's 14%
# cut to 13.5% and Lithuania's 9% replaced by 12% (books and medicines 5%).
# One reduced rate per country, its main one: Sweden's food at 6% (April 2026 to 2027) is temporary, so 12%;
# Austria's 4.9% from July 2026 covers a basket of basic foods only, so 10%. Denmark has no reduced rate.
# Liechtenstein applies Switzerland's rates (8.1%/2.6% since 1 January 2024). The US and Canada get none.
# These are demo data: rates change, and staff keep them current in the admin (Prices, tax and shipping > Tax rates).
VAT_RATES: dict[str, tuple[int, int | None]] = {
    "AT": (2000, 1000),
    "BE": (2100, 600),
    "BG": (2000, 900),
    "CY": (1900, 900),
    "CZ": (2100, 1200),
    "DE": (1900, 700),
    "DK": (2500, None),
    "EE": (2400, 900),
    "ES": (2100, 1000),
    "FI": (2550, 1350),
    "FR": (2000, 550),
    "GR": (2400, 1300),
    "HR": (2500, 1300),
    "HU": (2700, 500),
    "IE": (2300, 1350),
    "IT": (2200, 1000),
    "LT": (2100, 1200),
    "LU": (1700, 800),
    "LV": (2100, 1200),
    "MT": (1800, 700),
    "NL": (2100, 900),
    "PL": (2300, 800),
    "PT": (2300, 600),
    "RO": (2100, 1100),
    "SE": (2500, 1200),
    "SI": (2200, 950),
    "SK": (2300, 1900),
    "CH": (810, 260),
    "GB": (2000, 500),
    "IS": (2400, 1100),
    "LI": (810, 260),
    "NO": (2500, 1500),
}

EU_COUNTRIES = frozenset(
    {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU"}
    | {"IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}
)
# European countries outside the EU that the shop might be configured to ship to.
OTHER_EUROPE = frozenset(
    {"AD", "AL", "BA", "CH", "FO", "GB", "GI", "IS", "LI", "MC", "MD", "ME", "MK", "NO", "RS", "SM", "TR", "UA"}
    | {"VA", "XK"}
)
NORTH_AMERICA = frozenset({"US", "CA"})


def _method(name: str, price: int, estimate: str, *, free_over: int | None = None, tiers=(), position: int = 0):
    return {
        "name": name,
        "price_minor": price,
        "free_over_minor": free_over,
        "estimate": estimate,
        "position": position,
        "tiers": tiers,
    }


def _zones() -> list[tuple[str, list[str], list[dict]]]:
    """(name, countries, methods) for each zone that has a country the shop ships to: the shop's own country, the
    rest of the EU, the rest of Europe, North America, and the rest of the world for any other country configured."""
    shipping = [code.upper() for code in settings.SHOP_SHIPPING_COUNTRIES]
    home = settings.SHOP_COUNTRY.upper()
    home_list = [home] if home in shipping else []
    abroad = [code for code in shipping if code != home]
    europe_other = [code for code in abroad if code in OTHER_EUROPE]
    north_america = [code for code in abroad if code in NORTH_AMERICA]
    eu = [code for code in abroad if code in EU_COUNTRIES]
    elsewhere = [code for code in abroad if code not in EU_COUNTRIES | OTHER_EUROPE | NORTH_AMERICA]
    zones = [
        (
            Locale("en").territories.get(home, home),
            home_list,
            [
                _method("Standard", 490, "2-3 working days", free_over=5000),
                _method("Express", 1290, "next working day", position=1),
            ],
        ),
        ("European Union", eu, [_method("Standard", 990, "3-6 working days", free_over=10000)]),
        (
            "Rest of Europe",
            europe_other,
            [_method("Standard", 1490, "5-8 working days", tiers=((2000, 1490), (10000, 2490)))],
        ),
        ("North America", north_america, [_method("International", 2490, "7-14 working days")]),
        ("Rest of the world", elsewhere, [_method("International", 3490, "10-20 working days")]),
    ]
    return [(name, countries, methods) for name, countries, methods in zones if countries]


DISCOUNT_CODES = [
    {"code": "WELCOME10", "kind": DiscountKind.PERCENT, "value": 10},
    {"code": "FREESHIP", "kind": DiscountKind.FREE_SHIPPING, "value": 0},
]


def _ensure(model: type[models.Model], lookup: dict, defaults: dict | None = None) -> tuple[models.Model, bool]:
    """The row matching `lookup`, untouched, or a new one validated by `full_clean()` (unlike `get_or_create`)."""
    found = model.objects.filter(**lookup).first()
    if found is not None:
        return found, False
    row = model(**lookup, **(defaults or {}))
    row.full_clean()
    row.save()
    return row, True


@unit_of_work
def load_pricing_demo() -> dict:
    """Creates whatever demo prices are missing, all or none; running it twice changes nothing the second time.
    Returns how many rates, zones, methods, weight tiers and codes the demo holds, and how many rows it created."""
    counts = {"tax_rates": 0, "zones": 0, "methods": 0, "tiers": 0, "codes": 0, "created": 0}

    def ensure(kind: str, model, lookup: dict, defaults: dict | None = None):
        row, created = _ensure(model, lookup, defaults)
        counts[kind] += 1
        counts["created"] += created
        return row

    for country in settings.SHOP_SHIPPING_COUNTRIES:
        standard, reduced = VAT_RATES.get(country.upper(), (None, None))
        for tax_class, rate in ((TaxClass.STANDARD, standard), (TaxClass.REDUCED, reduced)):
            if rate is not None:
                ensure("tax_rates", TaxRate, {"country": country.upper(), "tax_class": tax_class}, {"rate_bp": rate})

    for name, countries, methods in _zones():
        zone = ensure("zones", ShippingZone, {"name": name}, {"countries": ", ".join(countries)})
        for spec in methods:
            fields = {key: value for key, value in spec.items() if key not in ("name", "tiers")}
            method = ensure("methods", ShippingMethod, {"zone": zone, "name": spec["name"]}, fields)
            for up_to_grams, price_minor in spec["tiers"]:
                ensure(
                    "tiers", WeightTier, {"method": method, "up_to_grams": up_to_grams}, {"price_minor": price_minor}
                )

    for spec in DISCOUNT_CODES:
        ensure("codes", DiscountCode, {"code": spec["code"]}, {"kind": spec["kind"], "value": spec["value"]})
    return counts
