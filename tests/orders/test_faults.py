"""A process can die at any line: a failure injected between the steps of each multi-step write (through the named
checkpoints of `shop.db`) leaves no stranded unit, no half-made order, no lost or doubled email, and the same request
made again succeeds. Run on SQLite and on MongoDB (real transactions on both)."""

import pytest
from django.core import mail

from cart.selectors import cart_for_user
from catalog.models import StockMove
from orders.models import Order, OrderLine, OrderStatus
from orders.services import cancel_order, check_stock, expire_order, mark_refunded, place_order
from payments.models import Payment, PaymentEvent, PaymentStatus
from payments.services import pay_demo_session, start_payment
from shop import db as unit
from shop.models import OutboxMessage
from tests.conftest import Crash
from tests.factories import ItemFactory
from tests.orders.helpers import ADDRESS, fill_cart, place, stock_of
from tests.payments.conftest import SITE


@pytest.fixture
def two_items(db):
    return ItemFactory(stock=10), ItemFactory(stock=5)


def assert_ledger_agrees() -> None:
    report = check_stock()
    assert report.clean, (report.stock_mismatches, report.held_mismatches)


@pytest.mark.parametrize(
    ("point", "after"),
    [
        ("catalog.stock_updated", 0),  # after the first conditional decrement, before the second
        ("catalog.stock_updated", 1),  # after both decrements, before their ledger rows
        ("place_order.lines_reserved", 0),
        ("place_order.reserved", 0),
        ("place_order.order_inserted", 0),
        ("place_order.lines_inserted", 0),
    ],
)
def test_a_crash_while_placing_an_order_leaves_nothing_behind(user, two_items, crash_at, point, after):
    first, second = two_items
    fill_cart(user, (first, 3), (second, 2))
    crash_at(point, after=after)

    with pytest.raises(Crash):
        place_order(buyer=user, address=ADDRESS)

    assert not Order.objects.exists() and not OrderLine.objects.exists()
    assert (stock_of(first), stock_of(second)) == (10, 5)
    assert {line.item.pk: line.quantity for line in cart_for_user(user=user).lines} == {first.pk: 3, second.pk: 2}
    assert_ledger_agrees()

    unit.FAULTS.clear()  # the shopper tries again
    order = place_order(buyer=user, address=ADDRESS)
    assert order.lines.count() == 2 and (stock_of(first), stock_of(second)) == (7, 3)
    assert cart_for_user(user=user).is_empty
    assert_ledger_agrees()


@pytest.mark.parametrize("point", ["cancel_order.status_changed", "release_order_stock.line_released"])
def test_a_crash_while_cancelling_keeps_the_order_pending_with_its_stock(user, two_items, crash_at, point):
    first, second = two_items
    order = place(user, (first, 3), (second, 2))
    crash_at(point)

    with pytest.raises(Crash):
        cancel_order(order=order, actor=user)

    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT
    assert (stock_of(first), stock_of(second)) == (7, 3)
    assert_ledger_agrees()

    unit.FAULTS.clear()
    cancel_order(order=Order.objects.get(pk=order.pk), actor=user)
    assert (stock_of(first), stock_of(second)) == (10, 5)
    assert_ledger_agrees()


def test_a_crash_while_expiring_keeps_the_order_pending_with_its_stock(user, two_items, crash_at):
    first, _ = two_items
    order = place(user, (first, 4))
    crash_at("expire_order.status_changed")

    with pytest.raises(Crash):
        expire_order(order=order)

    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT and stock_of(first) == 6
    unit.FAULTS.clear()
    expire_order(order=Order.objects.get(pk=order.pk))
    assert stock_of(first) == 10
    assert_ledger_agrees()


@pytest.mark.parametrize("point", ["fulfil.payment_marked", "mark_order_paid.status_changed"])
def test_a_crash_while_fulfilling_a_payment_leaves_it_payable_and_sends_one_email(user, two_items, crash_at, point):
    first, _ = two_items
    order = place(user, (first, 2))
    payment = start_payment(order=order, site_url=SITE)
    mail.outbox.clear()
    crash_at(point)

    with pytest.raises(Crash):
        pay_demo_session(session_id=payment.session_id)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.OPEN
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT
    assert not mail.outbox and not OutboxMessage.objects.filter(topic="orders.email").exists()

    unit.FAULTS.clear()  # the shopper presses Pay again
    _, outcome = pay_demo_session(session_id=payment.session_id)
    assert outcome == "paid" and Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert len(mail.outbox) == 1 and order.number in mail.outbox[0].subject


def test_a_crash_while_refunding_with_restock_changes_nothing(user, two_items, crash_at):
    first, _ = two_items
    order = place(user, (first, 2))
    payment = start_payment(order=order, site_url=SITE)
    pay_demo_session(session_id=payment.session_id)
    order.refresh_from_db()
    crash_at("mark_refunded.status_changed")

    with pytest.raises(Crash):
        mark_refunded(order=order, restock=True)

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and stock_of(first) == 8
    unit.FAULTS.clear()
    mark_refunded(order=order, restock=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED and order.restocked_at is not None and stock_of(first) == 10
    assert_ledger_agrees()


def test_a_crash_after_recording_a_webhook_event_leaves_it_to_stripes_retry(
    client, user, two_items, crash_at, settings
):
    from tests.fake_stripe import FakeStripe
    from tests.payments.conftest import post_event

    first, _ = two_items
    with FakeStripe() as fake:
        settings.STRIPE_SECRET_KEY = "sk_test_shop"
        settings.STRIPE_API_BASE = fake.base_url
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        order = place(user, (first, 2))
        payment = start_payment(order=order, site_url=SITE)
        event = fake.make_event("checkout.session.completed", fake.complete_session(payment.session_id))
        crash_at("stripe_event.recorded")
        with pytest.raises(Crash):
            post_event(client, event)
        assert not PaymentEvent.objects.exists()
        assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT

        unit.FAULTS.clear()
        response = post_event(client, event)  # Stripe delivers it again

    assert response.content == b"paid"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PAID
    assert PaymentEvent.objects.get().outcome == "paid"


def test_every_stock_move_of_an_order_life_is_in_the_ledger(user, two_items):
    first, second = two_items
    order = place(user, (first, 3), (second, 1))
    cancel_order(order=order, actor=user)

    moves = list(StockMove.objects.filter(order_number=order.number).values_list("item_id", "delta", "reason"))
    assert sorted(moves, key=str) == sorted(
        [
            (first.pk, -3, "reserved"),
            (second.pk, -1, "reserved"),
            (first.pk, 3, "released"),
            (second.pk, 1, "released"),
        ],
        key=str,
    )
    assert_ledger_agrees()


@pytest.mark.parametrize("point", ["place_order.code_redeemed", "place_order.lines_inserted"])
def test_a_crash_after_a_code_was_counted_gives_the_use_back(user, two_items, crash_at, point):
    from pricing.models import DiscountCode, DiscountRedemption

    DiscountCode.objects.create(code="LAST", kind="percent", value=10, usage_limit=1)
    first, _ = two_items
    fill_cart(user, (first, 1))
    crash_at(point)

    with pytest.raises(Crash):
        place_order(buyer=user, address=ADDRESS, discount_code="LAST")

    assert DiscountCode.objects.get(code="LAST").used_count == 0 and not DiscountRedemption.objects.exists()
    unit.FAULTS.clear()
    assert place_order(buyer=user, address=ADDRESS, discount_code="LAST").discount_code == "LAST"
