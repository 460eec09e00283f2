"""Staff refund chosen lines and quantities, or an amount, of a paid, shipped or delivered order: Stripe refunds
exactly that, the order, the stock and the dashboard agree, and refunds never exceed what was paid."""

import threading
from datetime import date

import pytest
from django.db import connection

from orders.exceptions import IllegalTransition, RefundRefused
from orders.models import Order, OrderStatus, RefundStatus
from orders.selectors import revenue
from orders.services import check_stock, mark_delivered, mark_shipped
from payments.exceptions import PaymentGatewayError
from payments.models import Payment, PaymentStatus
from payments.services import (
    confirm_checkout_session,
    finish_refund,
    pay_demo_session,
    refund_order,
    refund_payment,
    start_payment,
)
from tests.factories import ItemFactory, UserFactory
from tests.orders.helpers import PARCEL, place, stock_of
from tests.payments.conftest import SITE, demo_paid, post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered(user, fake_stripe, rates, zones):
    """A delivered Stripe-paid order: 2 pans at 20.00 and 3 mugs at 5.00, 55.00 (standard shipping is free over 50)."""
    pan, mug = ItemFactory(title="Pan", price_minor=2000, stock=10), ItemFactory(title="Mug", price_minor=500, stock=10)
    order = place(user, (pan, 2), (mug, 3))
    payment = start_payment(order=order, site_url=SITE)
    fake_stripe.complete_session(payment.session_id)
    confirm_checkout_session(session_id=payment.session_id)
    order = mark_delivered(order=mark_shipped(order=Order.objects.get(pk=order.pk), **PARCEL))
    lines = {line.title: line for line in order.lines.all()}
    return {"order": order, "payment": Payment.objects.get(pk=payment.pk), "pan": pan, "mug": mug, **lines}


def test_staff_refund_one_line_of_a_delivered_order_and_everything_agrees(delivered, fake_stripe, staff):
    order, pan = delivered["order"], delivered["pan"]
    assert order.total_minor == 5500 and stock_of(pan) == 8

    refund = refund_payment(order=order, actor=staff, lines=[(delivered["Pan"].pk, 1)], restock=True, note="dented")

    assert refund.status == RefundStatus.DONE and refund.amount_minor == 2000
    assert [r["amount"] for r in fake_stripe.refunds_for(delivered["payment"].payment_intent)] == [2000]
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_REFUNDED and order.refunded_minor == 2000
    assert stock_of(pan) == 9 and check_stock().clean  # the ledger and the order agree on the unit returned
    today = date.today()
    assert revenue(since=today, until=today).net_minor == 5500 - 2000
    payment = Payment.objects.get(pk=delivered["payment"].pk)
    assert payment.status == PaymentStatus.PAID and payment.amount_refunded_minor == 2000

    rest = refund_order(order=order, restock=True)  # the rest: one pan, three mugs (shipping was free)

    order.refresh_from_db()
    assert (
        order.status == OrderStatus.REFUNDED and order.refunded_minor == 5500 and rest.status == PaymentStatus.REFUNDED
    )
    assert sum(r["amount"] for r in fake_stripe.refunds_for(delivered["payment"].payment_intent)) == 5500
    assert (stock_of(pan), stock_of(delivered["mug"])) == (10, 10) and check_stock().clean
    assert revenue(since=today, until=today).net_minor == 0


def test_a_line_refunded_in_parts_adds_up_to_what_was_paid_for_it(user, fake_stripe, rates, zones):
    from pricing.models import DiscountCode

    DiscountCode.objects.create(code="TEN", kind="percent", value=10)
    cup = ItemFactory(title="Cup", price_minor=333, stock=10)
    order = place(user, (cup, 3), discount_code="TEN")  # 9.99, less 1.00: 8.99 paid for the line
    payment = start_payment(order=order, site_url=SITE)
    fake_stripe.complete_session(payment.session_id)
    confirm_checkout_session(session_id=payment.session_id)
    line = order.lines.get()

    amounts = [refund_payment(order=order, lines=[(line.pk, 1)]).amount_minor for _ in range(3)]

    # What 1, 2 and 3 of the 3 units are worth, less what the units before were: 3.00, 5.99 - 3.00, 8.99 - 5.99.
    assert amounts == [300, 299, 300] and sum(amounts) == 899
    with pytest.raises(RefundRefused, match="Only 0 of Cup are left to refund"):
        refund_payment(order=order, lines=[(line.pk, 1)])


def test_an_amount_refund_and_every_bad_refund_is_refused_with_a_message(delivered, fake_stripe):
    order = delivered["order"]
    assert refund_payment(order=order, amount_minor=550, note="late delivery").amount_minor == 550

    bad = [
        ({"amount_minor": 5000}, "Only €49.50 of order"),
        ({"amount_minor": 0}, "at least 0.01"),
        ({"amount_minor": -5}, "at least 0.01"),
        ({}, "Choose the lines to refund, or an amount"),
        ({"lines": [(delivered["Pan"].pk, 1)], "amount_minor": 100}, "not both"),
        ({"lines": [("nope", 1)]}, "has no line nope"),
        ({"lines": [(delivered["Pan"].pk, 3)]}, "Only 2 of Pan are left to refund"),
        ({"lines": [(delivered["Pan"].pk, 0)]}, "at least one unit"),
    ]
    for kwargs, message in bad:
        with pytest.raises(RefundRefused, match=message):
            refund_payment(order=order, **kwargs)
    order.refresh_from_db()
    assert order.refunded_minor == 550 and order.refunds.count() == 1
    assert len(fake_stripe.refunds_for(delivered["payment"].payment_intent)) == 1


def test_an_unpaid_order_cannot_be_refunded(user, fake_stripe):
    order = place(user, (ItemFactory(stock=5), 1))
    with pytest.raises(IllegalTransition, match="only a paid order can be refunded"):
        refund_payment(order=order, amount_minor=100)


def test_stripe_not_answering_leaves_the_refund_under_way_and_the_worker_finishes_it_once(delivered, fake_stripe):
    order = delivered["order"]
    fake_stripe.fail_next(status=500)

    with pytest.raises(PaymentGatewayError):
        refund_payment(order=order, amount_minor=1000)

    refund = order.refunds.get()
    assert refund.status == RefundStatus.PENDING and Order.objects.get(pk=order.pk).refunded_minor == 1000
    finish_refund({"refund_id": str(refund.pk)})  # the worker, later
    finish_refund({"refund_id": str(refund.pk)})

    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE
    assert [r["amount"] for r in fake_stripe.refunds_for(delivered["payment"].payment_intent)] == [1000]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PARTIALLY_REFUNDED


def test_stripe_refusing_fails_the_refund_gives_the_amount_back_and_flags_the_order(delivered, fake_stripe):
    order = delivered["order"]
    fake_stripe.fail_next(status=400, error_type="invalid_request_error", message="Charge is disputed")

    with pytest.raises(PaymentGatewayError):
        refund_payment(order=order, lines=[(delivered["Mug"].pk, 2)], restock=True)

    order.refresh_from_db()
    assert order.refunds.get().status == RefundStatus.FAILED and order.refunded_minor == 0
    assert order.lines.get(title="Mug").refunded_quantity == 0 and stock_of(delivered["mug"]) == 7
    assert order.needs_attention and "Charge is disputed" in order.attention_reason
    assert order.status == OrderStatus.DELIVERED


def test_our_partial_refund_reported_by_stripe_is_not_flagged(client, delivered, fake_stripe):
    refund_payment(order=delivered["order"], amount_minor=700)
    (event,) = fake_stripe.events_of("charge.refunded")

    assert post_event(client, event).content == b"partial_refund_recorded"
    assert not Order.objects.get(pk=delivered["order"].pk).needs_attention


@pytest.mark.django_db(transaction=True)
def test_two_staff_refunding_the_rest_at_once_refund_it_once(concurrent_db):

    buyer, item = UserFactory(), ItemFactory(stock=10, price_minor=1500)
    payment = start_payment(order=place(buyer, (item, 2)), site_url=SITE)
    pay_demo_session(session_id=payment.session_id)
    order = Order.objects.get(pk=payment.order_id)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def click() -> None:
        try:
            start.wait()
            refund_payment(order=Order.objects.get(pk=order.pk), amount_minor=3000)
            outcomes.append("refunded")
        except (RefundRefused, IllegalTransition) as refusal:
            outcomes.append(type(refusal).__name__)
        except Exception as exc:
            outcomes.append(f"error: {exc!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) in (["RefundRefused", "refunded"], ["IllegalTransition", "refunded"])
    order.refresh_from_db()
    assert order.refunded_minor == 3000 and order.status == OrderStatus.REFUNDED
    assert order.refunds.filter(status=RefundStatus.DONE).count() == 1


def test_a_partly_refunded_order_ships_once_and_is_delivered_once_after_shipping(user, staff, settings):
    """Its status no longer says how far the parcel got: shipping again (a second "on its way" email, the tracking
    number overwritten) or delivering an order that never shipped is refused."""
    settings.PAYMENTS_DEMO_GATEWAY, settings.STRIPE_SECRET_KEY = True, ""
    unshipped = demo_paid(user, (ItemFactory(price_minor=1250, stock=5), 2))
    refund_payment(order=unshipped, actor=staff, lines=[(unshipped.lines.get().pk, 1)])
    with pytest.raises(IllegalTransition):
        mark_delivered(order=Order.objects.get(pk=unshipped.pk))

    delivered = demo_paid(user, (ItemFactory(price_minor=1250, stock=5), 2))
    mark_shipped(order=delivered, **PARCEL)
    mark_delivered(order=delivered)
    refund_payment(order=delivered, actor=staff, lines=[(delivered.lines.get().pk, 1)])
    with pytest.raises(IllegalTransition):
        mark_shipped(order=Order.objects.get(pk=delivered.pk), carrier="UPS", tracking_number="1Z999")
    with pytest.raises(IllegalTransition):
        mark_delivered(order=Order.objects.get(pk=delivered.pk))
    delivered.refresh_from_db()
    assert (delivered.status, delivered.carrier) == (OrderStatus.PARTIALLY_REFUNDED, "DHL")

    mark_shipped(order=Order.objects.get(pk=unshipped.pk), **PARCEL)  # the rest of the first ships, then arrives
    assert mark_delivered(order=Order.objects.get(pk=unshipped.pk)).status == OrderStatus.DELIVERED
