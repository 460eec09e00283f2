"""The demo prices: VAT rates, a shipping zone for every country the shop ships to, and two codes, loaded once."""

from collections import Counter
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pricing.demo import VAT_RATES, load_pricing_demo
from pricing.models import DiscountCode, ShippingMethod, ShippingZone, TaxRate, WeightTier
from pricing.selectors import price, shipping_options, tax_rates

pytestmark = pytest.mark.django_db


@dataclass
class Line:
    item: object
    quantity: int


def _rows() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (TaxRate, ShippingZone, ShippingMethod, WeightTier, DiscountCode))


def test_loading_twice_gives_the_same_counts_and_no_duplicates():
    first = load_pricing_demo()
    rows = _rows()
    second = load_pricing_demo()

    assert first.pop("created") == sum(rows) and second.pop("created") == 0
    assert first == second
    assert _rows() == rows == (first["tax_rates"], first["zones"], first["methods"], first["tiers"], first["codes"])
    assert first == {"tax_rates": 63, "zones": 4, "methods": 5, "tiers": 2, "codes": 2}  # 32 countries, DK no reduced
    pairs = list(TaxRate.objects.values_list("country", "tax_class"))
    assert len(pairs) == len(set(pairs))
    zone_names = list(ShippingZone.objects.values_list("name", flat=True))
    assert len(zone_names) == len(set(zone_names))


def test_a_second_run_keeps_what_staff_changed():
    load_pricing_demo()
    TaxRate.objects.filter(country="DE", tax_class="reduced").update(rate_bp=500)
    DiscountCode.objects.filter(code="WELCOME10").update(value=15)

    load_pricing_demo()
    assert tax_rates(country="DE")["reduced"] == 500
    assert DiscountCode.objects.get(code="WELCOME10").value == 15


def test_every_country_we_ship_to_is_in_exactly_one_zone_and_has_an_option(settings):
    load_pricing_demo()
    zones_of = Counter(code for zone in ShippingZone.objects.all() for code in zone.country_list)

    assert zones_of == Counter(settings.SHOP_SHIPPING_COUNTRIES)
    for country in settings.SHOP_SHIPPING_COUNTRIES:
        assert shipping_options(country=country), country


def test_a_country_outside_the_known_regions_gets_a_zone_too(settings):
    settings.SHOP_SHIPPING_COUNTRIES = ["DE", "FR", "CH", "US", "JP"]
    load_pricing_demo()

    zones = {zone.name: zone.country_list for zone in ShippingZone.objects.all()}
    assert zones == {
        "Germany": ["DE"],
        "European Union": ["FR"],
        "Rest of Europe": ["CH"],
        "North America": ["US"],
        "Rest of the world": ["JP"],
    }
    assert set(TaxRate.objects.values_list("country", flat=True)) == {"DE", "FR", "CH"}
    assert shipping_options(country="JP")


def test_rates_are_the_current_ones():
    load_pricing_demo()

    assert tax_rates(country="DE") == {"standard": 1900, "reduced": 700, "zero": 0}
    assert tax_rates(country="FR")["reduced"] == 550 and tax_rates(country="FI")["standard"] == 2550
    assert tax_rates(country="DK") == {"standard": 2500, "zero": 0}  # no reduced rate
    assert tax_rates(country="US") == {"zero": 0}
    assert all(0 < rate <= 2700 for pair in VAT_RATES.values() for rate in pair if rate is not None)


def test_shipping_methods_follow_the_zones():
    load_pricing_demo()

    germany = {option.name: option for option in shipping_options(country="DE")}
    assert (germany["Standard"].price_minor, germany["Standard"].free_over_minor) == (490, 5000)
    assert germany["Express"].price_minor == 1290
    assert shipping_options(country="DE", goods_minor=5000)[0].price_minor == 0
    assert [(option.name, option.price_minor) for option in shipping_options(country="FR")] == [("Standard", 990)]
    assert shipping_options(country="CH", weight_grams=2000)[0].price_minor == 1490
    assert shipping_options(country="GB", weight_grams=2001)[0].price_minor == 2490
    assert shipping_options(country="NO", weight_grams=10001) == []  # beyond the last tier
    assert [option.name for option in shipping_options(country="CA")] == ["International"]


def test_welcome10_and_freeship_price_a_demo_like_cart(make_item):
    load_pricing_demo()
    lines = [Line(make_item(title="Classic Frying Pan", price_minor=1999), 2)]

    breakdown = price(lines=lines, country="DE", code="welcome10")
    assert breakdown.discount_code == "WELCOME10" and breakdown.discount_minor == 400  # 10% of 39.98
    assert breakdown.shipping_minor == 490  # 35.98 after the discount: under the 50.00 threshold
    assert breakdown.tax_minor == 574 + 78  # 35.98 x 19/119, 4.90 x 19/119
    assert breakdown.total_minor == 3998 - 400 + 490

    free = price(lines=lines, country="AT", code="FREESHIP")
    assert free.shipping_minor == 0 and free.discount_minor == 0 and free.lines[0].tax_rate_bp == 2000


def test_load_demo_prints_the_discount_codes_with_the_logins(capsys, settings):
    settings.DEBUG = True
    call_command("load_demo", "--items", "2", "--orders", "0")

    out = capsys.readouterr().out
    assert "shopper@example.com" in out and "WELCOME10" in out and "FREESHIP" in out
    assert out.index("Logins") < out.index("Discount codes:")
    assert tax_rates(country="DE")["standard"] == 1900 and DiscountCode.objects.count() == 2


def test_load_pricing_demo_refuses_to_run_in_production_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("load_pricing_demo")
    assert not TaxRate.objects.exists()
    call_command("load_pricing_demo", "--force")
    assert DiscountCode.objects.filter(code="FREESHIP", kind="free_shipping").exists()


@pytest.mark.parametrize("args", [["--items", "99999999999"], ["--orders", "100001"]])
def test_load_demo_refuses_a_size_that_can_only_be_a_typo(args, settings):
    from catalog.models import Item

    settings.DEBUG = True
    with pytest.raises(CommandError, match="--items may be at most 1,000,000 and --orders 100,000"):
        call_command("load_demo", *args)
    assert not Item.objects.exists()
