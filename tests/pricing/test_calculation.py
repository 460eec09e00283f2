"""The one price calculation: rounding, VAT inclusive and exclusive, shipping and every discount-code rule."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from pricing.exceptions import DiscountRefused, ShippingUnavailable
from pricing.models import DiscountCode, DiscountRedemption, WeightTier
from pricing.selectors import price
from shop.money import allocate, fraction_of

pytestmark = pytest.mark.django_db


@dataclass
class Line:
    item: object
    quantity: int


@pytest.fixture
def items(make_item, shelf):
    return {
        "pan": make_item(title="Pan", price_minor=33),
        "book": make_item(title="Book", price_minor=5, tax_class="reduced"),
        "cent": make_item(title="Cent", price_minor=1),
        "kettle": make_item(title="Kettle", price_minor=2000),
    }


def test_rounding_is_half_up_once_in_exact_integers():
    assert fraction_of(5, 1900, 10000) == 1  # 19% of 0.05 = 0.0095
    assert fraction_of(5, 1900, 11900) == 1  # the VAT inside 0.05 at 19% = 0.0080
    assert fraction_of(1, 10, 100) == 0  # 10% of one cent
    assert fraction_of(5, 10, 100) == 1  # 0.5 cent rounds up
    assert fraction_of(15, 10, 100) == 2  # 1.5 cent rounds up, not to even
    assert allocate(100, [1, 1, 1]) == [34, 33, 33] and allocate(2, [1, 1, 1]) == [1, 1, 0]
    assert allocate(0, [0, 0]) == [0, 0] and sum(allocate(997, [13, 29, 58])) == 997


def test_three_at_0_33_with_vat_inside(items, rates, zones):
    breakdown = price(lines=[Line(items["pan"], 3)], country="DE")

    line = breakdown.lines[0]
    assert (line.total_minor, line.tax_rate_bp, line.tax_minor) == (99, 1900, 16)  # 99 x 19/119 = 15.8
    # Cheapest shipping serving Germany: standard 4.90 (VAT inside: 78)
    assert breakdown.shipping.name == "Standard" and breakdown.shipping_minor == 490
    assert breakdown.shipping_tax_minor == 78
    assert (breakdown.subtotal_minor, breakdown.tax_minor, breakdown.total_minor) == (99, 94, 589)
    assert breakdown.taxes == ((1900, 94),)


def test_a_reduced_rate_line_and_tax_per_rate(items, rates, zones):
    breakdown = price(lines=[Line(items["book"], 1), Line(items["kettle"], 1)], country="DE")

    assert [line.tax_rate_bp for line in breakdown.lines] == [700, 1900]
    assert breakdown.lines[0].tax_minor == 0  # 5 x 7/107 = 0.33
    assert breakdown.lines[1].tax_minor == 319  # 2000 x 19/119 = 319.3
    assert breakdown.taxes == ((1900, 319 + 78),)  # with shipping's; a rate that comes to nothing is not listed


def test_the_destination_decides_the_rate_and_the_shop_country_before_it_is_known(items, rates, zones, settings):
    assert price(lines=[Line(items["kettle"], 1)], country="AT").lines[0].tax_rate_bp == 2000
    settings.SHOP_COUNTRY = "DE"
    assert price(lines=[Line(items["kettle"], 1)]).lines[0].tax_rate_bp == 1900


def test_vat_added_on_top_when_prices_exclude_it(items, rates, zones, settings):
    settings.SHOP_PRICES_INCLUDE_TAX = False
    breakdown = price(lines=[Line(items["book"], 1)], country="DE", shipping_method_id=str(zones["express"].pk))

    assert breakdown.lines[0].tax_minor == 0  # 7% of 0.05 = 0.0035
    assert breakdown.shipping_minor == 1290 and breakdown.shipping_tax_minor == 245  # 19% of 12.90 = 2.451
    assert breakdown.total_minor == 5 + 1290 + 245
    assert price(lines=[Line(items["pan"], 3)], country="DE").lines[0].tax_minor == 19  # 19% of 0.99 = 0.1881


def test_free_shipping_from_the_threshold_after_discount(items, rates, zones):
    DiscountCode.objects.create(code="TEN", kind="percent", value=10)
    lines = [Line(items["kettle"], 3)]  # 60.00

    assert price(lines=lines, country="DE").shipping_minor == 0
    discounted = price(lines=[Line(items["kettle"], 2)], country="DE", code="ten")  # 40.00 - 4.00: under 50.00
    assert discounted.discount_minor == 400 and discounted.shipping_minor == 490
    express = price(lines=lines, country="DE", shipping_method_id=str(zones["express"].pk))
    assert express.shipping_minor == 1290  # no threshold on express


def test_shipping_options_follow_the_destination_and_refuse_others(items, rates, zones):
    lines = [Line(items["kettle"], 1)]
    assert price(lines=lines, country="FR").shipping.name == "EU Standard"
    with pytest.raises(ShippingUnavailable, match="does not deliver"):
        price(lines=lines, country="FR", shipping_method_id=str(zones["express"].pk))
    with pytest.raises(ShippingUnavailable, match="cannot ship"):
        price(lines=lines, country="US", need_shipping=True)
    assert price(lines=lines, country="US").shipping is None  # an estimate only: nothing to offer


def test_weight_tiers_price_the_parcel_and_end_the_method(items, rates, zones):
    WeightTier.objects.create(method=zones["europe"], up_to_grams=1000, price_minor=700)
    WeightTier.objects.create(method=zones["europe"], up_to_grams=5000, price_minor=1500)
    kettle = items["kettle"]
    kettle.weight_grams = 900
    kettle.save()

    assert price(lines=[Line(kettle, 1)], country="AT").shipping_minor == 700
    assert price(lines=[Line(kettle, 2)], country="AT").shipping_minor == 1500
    with pytest.raises(ShippingUnavailable):
        price(lines=[Line(kettle, 6)], country="AT", need_shipping=True)


def test_a_percentage_code_rounds_per_line(items, rates, zones):
    DiscountCode.objects.create(code="TEN", kind="percent", value=10)

    one_cent_lines = price(lines=[Line(items["cent"], 1), Line(items["pan"], 1)], country="DE", code="TEN")
    assert [line.discount_minor for line in one_cent_lines.lines] == [0, 3]  # 0.1 -> 0; 3.3 -> 3
    ten_cents = price(lines=[Line(items["cent"], 10)], country="DE", code="TEN")
    assert ten_cents.discount_minor == 1 and ten_cents.discount_code == "TEN"


def test_a_fixed_code_is_split_exactly_and_never_exceeds_the_goods(items, rates, zones):
    DiscountCode.objects.create(code="FIVE", kind="fixed", value=500)
    breakdown = price(lines=[Line(items["pan"], 3), Line(items["kettle"], 1)], country="DE", code="FIVE")

    assert breakdown.discount_minor == 500 and sum(line.discount_minor for line in breakdown.lines) == 500
    assert [line.discount_minor for line in breakdown.lines] == [24, 476]  # 500 x 99/2099, 500 x 2000/2099
    assert breakdown.lines[1].tax_minor == fraction_of(2000 - 476, 1900, 11900)
    small = price(lines=[Line(items["pan"], 1)], country="DE", code="FIVE")
    assert small.discount_minor == 33 and small.lines[0].tax_minor == 0


def test_free_shipping_code(items, rates, zones):
    DiscountCode.objects.create(code="FREESHIP", kind="free_shipping")
    breakdown = price(lines=[Line(items["pan"], 1)], country="DE", code="FreeShip")
    assert breakdown.shipping_minor == 0 and breakdown.discount_minor == 0 and breakdown.discount_code == "FREESHIP"
    assert breakdown.total_minor == 33


def test_a_code_limited_to_categories(items, rates, zones, shelf, make_item):
    code = DiscountCode.objects.create(code="KITCHEN", kind="percent", value=50)
    code.categories.add(shelf["parent"])  # the items sit in its child category
    from tests.factories import CategoryFactory

    other = make_item(title="Atlas", price_minor=1000, category=CategoryFactory(name="Books"))
    breakdown = price(lines=[Line(items["kettle"], 1), Line(other, 1)], country="DE", code="KITCHEN")
    assert [line.discount_minor for line in breakdown.lines] == [1000, 0]
    with pytest.raises(DiscountRefused) as refused:
        price(lines=[Line(other, 1)], country="DE", code="KITCHEN")
    assert refused.value.extra["reason"] == "not_for_these_items"


@pytest.mark.parametrize(
    "fields, reason",
    [
        ({"is_active": False}, "expired"),
        ({"ends_at": timezone.now() - timedelta(minutes=1)}, "expired"),
        ({"starts_at": timezone.now() + timedelta(days=1)}, "not_started"),
        ({"usage_limit": 2, "used_count": 2}, "used_up"),
        ({"min_subtotal_minor": 5000}, "below_minimum"),
    ],
)
def test_every_code_rule_refuses_with_a_reason(items, rates, zones, fields, reason):
    DiscountCode.objects.create(code="RULE", kind="percent", value=10, **fields)
    with pytest.raises(DiscountRefused) as refused:
        price(lines=[Line(items["kettle"], 2)], country="DE", code="RULE")
    assert refused.value.extra["reason"] == reason and "RULE" in refused.value.message


def test_unknown_code_and_per_customer_limit(items, rates, zones):
    with pytest.raises(DiscountRefused, match="There is no discount code NOPE"):
        price(lines=[Line(items["kettle"], 1)], country="DE", code="nope")
    code = DiscountCode.objects.create(code="ONCE", kind="percent", value=10, per_customer_limit=1)
    DiscountRedemption.objects.create(code=code, order_number="AAAA", email="ann@example.com")

    with pytest.raises(DiscountRefused, match="already used"):
        price(lines=[Line(items["kettle"], 1)], country="DE", code="ONCE", email="Ann@Example.com")
    assert price(lines=[Line(items["kettle"], 1)], country="DE", code="ONCE", email="bob@example.com").discount_minor


def test_nothing_to_ship_costs_nothing(rates, zones):
    breakdown = price(lines=[], country="DE")
    assert breakdown.shipping is None and breakdown.total_minor == 0


def test_a_rate_or_a_method_staff_change_prices_the_next_cart(items, rates, zones):
    from pricing.models import TaxRate

    lines = [Line(items["kettle"], 1)]
    assert price(lines=lines, country="DE").lines[0].tax_rate_bp == 1900  # now kept per process

    rate = TaxRate.objects.get(country="DE", tax_class="standard")
    rate.rate_bp = 2000  # as the admin saves it
    rate.save()
    zones["standard"].price_minor = 590
    zones["standard"].save()

    breakdown = price(lines=lines, country="DE")
    assert breakdown.lines[0].tax_rate_bp == 2000 and breakdown.shipping_minor == 590
