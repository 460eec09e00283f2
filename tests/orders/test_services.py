import pytest
from django.core import mail

from catalog.models import Item, StockMove, StockReason
from orders.exceptions import CartChanged, CartEmpty, CartHasProblems, IllegalTransition, NotAllowed, OutOfStock
from orders.models import Order, OrderLine, OrderStatus
from orders.selectors import cart_fingerprint
from orders.services import (
    cancel_order,
    expire_order,
    flag_order,
    mark_delivered,
    mark_order_paid,
    mark_refunded,
    place_order,
)
from orders.services import mark_shipped as ship
from tests.factories import ItemFactory, UserFactory
from tests.orders.helpers import ADDRESS, PARCEL, fill_cart, place, stock_of

pytestmark = pytest.mark.django_db


def mark_shipped(*, order: Order) -> Order:
    return ship(order=order, **PARCEL)


def test_place_order_copies_lines_at_current_prices_reserves_stock_and_empties_cart(user, item):
    fill_cart(user, (item, 2))
    Item.objects.filter(pk=item.pk).update(price_minor=1500, title="Renamed mug")

    order = place_order(buyer=user, address=ADDRESS)

    assert order.status == OrderStatus.PENDING_PAYMENT
    assert order.total_minor == 3000 and order.currency == "EUR"
    assert order.email == user.email and order.shipping_city == "Berlin" and len(order.number) == 8
    (line,) = OrderLine.objects.filter(order=order)
    assert (line.title, line.sku, line.unit_price_minor, line.quantity, line.line_total_minor) == (
        "Renamed mug", item.sku, 1500, 2, 3000)  # fmt: skip
    assert line.seller_id == item.seller_id and line.item_id == item.pk
    assert stock_of(item) == 8
    from cart.selectors import cart_for_user

    assert cart_for_user(user=user).is_empty


def test_order_line_keeps_its_copy_when_the_item_is_deleted(user, item):
    order = place(user, (item, 1))
    Item.objects.filter(pk=item.pk).delete()

    line = OrderLine.objects.get(order=order)
    assert line.item_id is None and line.title == item.title and line.unit_price_minor == 1250


def test_place_order_with_empty_cart_raises_cart_empty(user):
    with pytest.raises(CartEmpty):
        place_order(buyer=user, address=ADDRESS)
    assert not Order.objects.exists()


def test_place_order_with_an_inactive_item_refuses_naming_it_and_reserves_nothing(user, item):
    other = ItemFactory(stock=5)
    fill_cart(user, (item, 1), (other, 1))
    Item.objects.filter(pk=other.pk).update(is_active=False)

    with pytest.raises(CartHasProblems, match=other.title):
        place_order(buyer=user, address=ADDRESS)
    assert stock_of(item) == 10 and not Order.objects.exists()


def test_place_order_that_runs_short_on_one_line_releases_the_others_and_names_the_item(user, item, monkeypatch):
    short = ItemFactory(stock=5)
    fill_cart(user, (item, 2), (short, 3))
    first, last = sorted((item, short), key=lambda i: str(i.pk))
    # Another buyer takes the last line's units between the cart check and the reservation.
    from catalog.services import reserve_stocks

    def racing_reserve(*, quantities, order_number):
        Item.objects.filter(pk=last.pk).update(stock=1)
        return reserve_stocks(quantities=quantities, order_number=order_number)

    monkeypatch.setattr("orders.services.reserve_stocks", racing_reserve)
    with pytest.raises(OutOfStock, match=last.title) as excinfo:
        place_order(buyer=user, address=ADDRESS)
    assert excinfo.value.extra["item_id"] == str(last.pk)
    # The simulated buyer's write ran inside the unit of work, and was undone with it.
    assert stock_of(first) == first.stock and stock_of(last) == 5
    assert not Order.objects.exists() and not StockMove.objects.filter(reason=StockReason.RESERVED).exists()


def test_place_order_refuses_a_cart_that_changed_since_the_checkout_page(user, item):
    fill_cart(user, (item, 1))
    from cart.selectors import cart_for_user

    seen = cart_fingerprint(cart=cart_for_user(user=user))
    Item.objects.filter(pk=item.pk).update(price_minor=9999)

    with pytest.raises(CartChanged):
        place_order(buyer=user, address=ADDRESS, expected_fingerprint=seen)
    assert stock_of(item) == 10 and not Order.objects.exists()


def test_place_order_twice_with_one_token_creates_one_order(user, item):
    first = place(user, (item, 2), checkout_token="tok-1")
    second = place_order(buyer=user, address=ADDRESS, checkout_token="tok-1")

    assert second.pk == first.pk
    assert Order.objects.count() == 1 and stock_of(item) == 8


def test_place_order_losing_a_token_race_releases_its_own_stock(user, item, monkeypatch):
    winner = place(user, (item, 2), checkout_token="tok-race")
    fill_cart(user, (item, 2))
    # The twin submit checked for the token before the winner stored it; its unit then runs again and finds it.
    from orders.services import _order_for_token

    calls = []

    def stale_first_look(**kwargs):
        calls.append(kwargs)
        return None if len(calls) == 1 else _order_for_token(**kwargs)

    monkeypatch.setattr("orders.services._order_for_token", stale_first_look)

    loser = place_order(buyer=user, address=ADDRESS, checkout_token="tok-race")

    assert loser.pk == winner.pk and Order.objects.count() == 1
    assert stock_of(item) == 8


def test_another_buyers_token_is_refused(user, item):
    place(user, (item, 1), checkout_token="tok-mine")
    intruder = UserFactory()
    fill_cart(intruder, (item, 1))

    with pytest.raises(NotAllowed):
        place_order(buyer=intruder, address=ADDRESS, checkout_token="tok-mine")


def test_place_order_releases_stock_when_storing_lines_fails(user, item, monkeypatch):
    fill_cart(user, (item, 3))

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(OrderLine.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError):
        place_order(buyer=user, address=ADDRESS)
    assert stock_of(item) == 10 and not Order.objects.exists()


def test_order_goes_from_pending_to_delivered(user, item):
    order = place(user, (item, 1))
    for step, status in ((mark_order_paid, "paid"), (mark_shipped, "shipped"), (mark_delivered, "delivered")):
        order = step(order=order)
        assert Order.objects.get(pk=order.pk).status == status
    assert order.paid_at and order.shipped_at and order.delivered_at


@pytest.mark.parametrize(
    ("steps", "illegal"),
    [
        ((), mark_shipped),
        ((), mark_refunded),
        ((mark_order_paid,), expire_order),
        ((mark_order_paid, mark_shipped), expire_order),
        ((mark_order_paid, mark_shipped, mark_delivered), mark_shipped),
    ],
)
def test_illegal_transitions_are_refused_with_a_clear_error(user, item, steps, illegal):
    order = place(user, (item, 1))
    for step in steps:
        step(order=order)
    before = Order.objects.get(pk=order.pk).status

    with pytest.raises(IllegalTransition, match=f"Order {order.number} is"):
        illegal(order=order)
    assert Order.objects.get(pk=order.pk).status == before


def test_cancel_releases_stock_exactly_once(user, item):
    order = place(user, (item, 4))
    stale_copy = Order.objects.get(pk=order.pk)

    cancel_order(order=order, actor=user)
    assert stock_of(item) == 10
    with pytest.raises(IllegalTransition):
        expire_order(order=stale_copy)  # a racing expiry that still saw it pending loses
    with pytest.raises(IllegalTransition):
        cancel_order(order=order, actor=user)
    assert stock_of(item) == 10 and Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED


def test_only_the_buyer_or_staff_may_cancel(user, item, staff, seller):
    order = place(user, (item, 1))
    for stranger in (UserFactory(), seller):  # a seller's is_staff flag only opens the admin
        with pytest.raises(NotAllowed):
            cancel_order(order=order, actor=stranger)
    cancel_order(order=order, actor=staff)
    assert order.status == OrderStatus.CANCELLED


def test_mark_order_paid_twice_is_a_no_op_with_one_email(user, item):
    order = place(user, (item, 2))
    mark_order_paid(order=order)
    again = mark_order_paid(order=Order.objects.get(pk=order.pk))

    assert again.status == OrderStatus.PAID
    assert len(mail.outbox) == 1
    assert order.number in mail.outbox[0].subject and mail.outbox[0].to == [user.email]
    assert "2 x" in mail.outbox[0].body and "Berlin" in mail.outbox[0].body


def test_paying_a_cancelled_order_is_refused(user, item):
    order = place(user, (item, 1))
    cancel_order(order=order, actor=user)
    with pytest.raises(IllegalTransition):
        mark_order_paid(order=order)
    assert [message.subject for message in mail.outbox if "is paid" in message.subject] == []


def test_flag_order_keeps_every_reason(user, item):
    order = place(user, (item, 1))
    flag_order(order=order, reason="first")
    flag_order(order=order, reason="second")
    stored = Order.objects.get(pk=order.pk)
    assert stored.needs_attention and stored.attention_reason == "first\nsecond"
