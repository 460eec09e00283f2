"""A placed order freezes its price breakdown; discount codes are counted by conditional updates, given back when
the order is cancelled or expires, and never used beyond their limit however many buyers race."""

import threading

import pytest
from django.db import connection

from cart.selectors import cart_for_user
from catalog.models import Item
from orders.models import Order
from orders.services import ShippingAddress, cancel_order, expire_order, place_order
from pricing.exceptions import DiscountRefused, ShippingUnavailable
from pricing.models import DiscountCode, DiscountRedemption, TaxRate
from tests.factories import ItemFactory, UserFactory
from tests.orders.helpers import ADDRESS, fill_cart, place, stock_of

pytestmark = pytest.mark.django_db


def test_an_order_freezes_the_breakdown_it_was_placed_with(user, make_item, rates, zones):
    pan, book = make_item(title="Pan", price_minor=2000, stock=5), make_item(title="Book", price_minor=1000)
    book.tax_class = "reduced"
    book.save()
    DiscountCode.objects.create(code="TEN", kind="percent", value=10)

    order = place(user, (pan, 1), (book, 2), discount_code="ten", shipping_method_id=str(zones["express"].pk))

    assert (order.subtotal_minor, order.discount_minor, order.discount_code) == (4000, 400, "TEN")
    assert (order.shipping_method, order.shipping_minor, order.shipping_tax_minor) == ("Express", 1290, 206)
    lines = {line.title: line for line in order.lines.all()}
    assert (lines["Pan"].discount_minor, lines["Pan"].tax_rate_bp, lines["Pan"].tax_minor) == (200, 1900, 287)
    assert (lines["Book"].discount_minor, lines["Book"].tax_rate_bp, lines["Book"].tax_minor) == (200, 700, 118)
    assert order.total_minor == 4000 - 400 + 1290
    assert order.taxes == [(1900, 287 + 206), (700, 118)] and order.tax_minor == 287 + 206 + 118
    assert DiscountCode.objects.get(code="TEN").used_count == 1

    TaxRate.objects.filter(country="DE").update(rate_bp=2500)  # later changes never alter history
    pan.price_minor = 9999
    pan.save()
    order = Order.objects.get(pk=order.pk)
    assert order.total_minor == 4890 and order.taxes == [(1900, 493), (700, 118)]


@pytest.mark.parametrize(
    "kwargs, refusal",
    [
        ({"discount_code": "NOPE"}, DiscountRefused),
        ({"discount_code": "SPENT"}, DiscountRefused),
        ({"shipping_method_id": "europe"}, ShippingUnavailable),
    ],
)
def test_a_refused_code_or_method_changes_nothing(user, make_item, rates, zones, kwargs, refusal):
    DiscountCode.objects.create(code="SPENT", kind="percent", value=10, usage_limit=1, used_count=1)
    if kwargs.get("shipping_method_id") == "europe":
        kwargs["shipping_method_id"] = str(zones["europe"].pk)  # serves AT and FR, not Germany
    pan = make_item(price_minor=2000, stock=5)
    fill_cart(user, (pan, 2))

    with pytest.raises(refusal):
        place_order(buyer=user, address=ADDRESS, **kwargs)

    assert Order.objects.count() == 0 and stock_of(pan) == 5
    assert cart_for_user(user=user).count == 2 and not DiscountRedemption.objects.exists()


def test_a_country_no_method_serves_is_refused(user, make_item, zones):
    fill_cart(user, (make_item(stock=5), 1))
    with pytest.raises(ShippingUnavailable, match="cannot ship"):
        belgium = ShippingAddress(name="A", line1="1", postal_code="1000", city="B", country="BE")
        place_order(buyer=user, address=belgium)
    assert Order.objects.count() == 0


@pytest.mark.parametrize("close", ["cancel", "expire"])
def test_a_closed_order_gives_its_code_back_once(user, make_item, rates, zones, close):
    DiscountCode.objects.create(code="ONE", kind="fixed", value=100, usage_limit=1, per_customer_limit=1)
    order = place(user, (make_item(stock=5), 1), discount_code="ONE")
    assert DiscountCode.objects.get(code="ONE").used_count == 1

    if close == "cancel":
        cancel_order(order=order, actor=user)
    else:
        expire_order(order=order)

    assert DiscountCode.objects.get(code="ONE").used_count == 0
    assert DiscountRedemption.objects.get(order_number=order.number).released_at is not None
    again = place(user, (Item.objects.first(), 1), discount_code="ONE")  # usable again, by the same customer
    assert again.discount_minor == 100


BUYERS = 10
USES_LEFT = 3


@pytest.mark.django_db(transaction=True)
def test_ten_buyers_racing_for_three_uses_left_exactly_three_get_it(concurrent_db):
    DiscountCode.objects.create(code="LAST3", kind="percent", value=20, usage_limit=10, used_count=10 - USES_LEFT)
    item = ItemFactory(stock=100, price_minor=1000)
    buyers = [UserFactory() for _ in range(BUYERS)]
    for buyer in buyers:
        fill_cart(buyer, (item, 1))
    start = threading.Barrier(BUYERS)
    results: list[str] = []
    lock = threading.Lock()

    def buy(buyer) -> None:
        try:
            start.wait()
            place_order(buyer=buyer, address=ADDRESS, discount_code="LAST3")
            outcome = "ordered"
        except DiscountRefused as refusal:
            outcome = f"refused: {refusal.extra['reason']}"
        except Exception as exc:  # recorded so the assertion shows it
            outcome = f"error: {exc!r}"
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=buy, args=(buyer,)) for buyer in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(results) == ["ordered"] * USES_LEFT + ["refused: used_up"] * (BUYERS - USES_LEFT)
    assert DiscountCode.objects.get(code="LAST3").used_count == 10
    assert Order.objects.filter(discount_code="LAST3").count() == USES_LEFT == DiscountRedemption.objects.count()
    assert stock_of(item) == 100 - USES_LEFT  # the refused buyers reserved nothing
