"""Refunds at their edges: a line refunded unit by unit, and a refund under way while the order is restocked."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.selectors import stock_mismatches
from orders.models import Order, OrderLine, OrderStatus, Refund, RefundStatus
from payments.exceptions import PaymentGatewayError
from payments.services import handle_stripe_event, pay_demo_session, refund_order, refund_payment, start_payment
from pricing.models import DiscountCode
from shop.models import OutboxMessage
from shop.outbox import sweep
from tests.factories import ItemFactory
from tests.orders.helpers import place, stock_of
from tests.payments.conftest import SITE

pytestmark = pytest.mark.django_db


@pytest.fixture
def bolts_paid(user, settings):
    """100 bolts at 0.50 with 3% off, paid through the demo gateway: 48.50 paid for the line, 0.485 a bolt."""
    settings.PAYMENTS_DEMO_GATEWAY = True
    settings.STRIPE_SECRET_KEY = ""
    DiscountCode.objects.create(code="OFF3", kind="percent", value=3)
    bolt = ItemFactory(title="Bolt", price_minor=50, stock=200)
    order = place(user, (bolt, 100), discount_code="OFF3")
    pay_demo_session(session_id=start_payment(order=order, site_url=SITE).session_id)
    order = Order.objects.get(pk=order.pk)
    line = OrderLine.objects.get(order=order)
    line.order = order
    assert line.paid_minor == 4850
    return order, line, bolt


def test_a_line_refunded_unit_by_unit_adds_up_to_what_was_paid_for_it(bolts_paid):
    order, line, bolt = bolts_paid
    amounts = [refund_payment(order=order, lines=[(line.pk, 1)]).amount_minor for _ in range(99)]
    assert sum(amounts) == 4850 * 99 // 100 + 1  # 99 x 0.485 = 48.015, half-up
    assert set(amounts) == {48, 49}
    last = refund_payment(order=order, lines=[(line.pk, 1)], restock=True)  # the 100th: returned, back on the shelf
    assert sum(amounts) + last.amount_minor == 4850
    line.refresh_from_db()
    assert (line.refunded_quantity, line.refunded_minor, stock_of(bolt)) == (100, 4850, 101)


def test_a_line_refunded_in_uneven_steps_adds_up_exactly(bolts_paid):
    order, line, _ = bolts_paid
    amounts = [refund_payment(order=order, lines=[(line.pk, n)]).amount_minor for n in (3, 1, 33, 62, 1)]
    assert amounts == [146, 48, 1601, 3007, 48] and sum(amounts) == 4850


def test_a_refund_under_way_does_not_restock_what_the_refunded_order_put_back(user, staff, item, fake_stripe, settings):
    """Stripe makes a refund but its answer is lost; its charge.refunded marks the order refunded; staff restock the
    refunded order; then the worker finishes the refund (with restock): the units went back once."""
    order = place(user, (item, 3))
    fake_stripe.complete_session(start_payment(order=order, site_url=SITE).session_id)
    for event in fake_stripe.events_of("checkout.session.completed"):
        handle_stripe_event(event=event)
    assert stock_of(item) == 7
    settings.STRIPE_TIMEOUT_SECONDS = 1
    fake_stripe.hang_next(0)  # the look for an earlier refund answers
    fake_stripe.hang_next(2)
    with pytest.raises(PaymentGatewayError):
        refund_order(order=Order.objects.get(pk=order.pk), restock=True, actor=staff)
    refund = Refund.objects.get(order=order)
    assert refund.status == RefundStatus.PENDING and refund.restock
    for event in fake_stripe.events_of("charge.refunded"):
        handle_stripe_event(event=event)
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED and order.restocked_at is None
    refund_order(order=order, restock=True, actor=staff)  # "refunded, not restocked": staff restock it
    assert stock_of(item) == 10

    OutboxMessage.objects.filter(topic="payments.finish_refund").update(available_at=timezone.now() - timedelta(1))
    sweep()
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DONE
    assert stock_of(item) == 10 and not stock_mismatches()
    assert OrderLine.objects.get(order=order).restocked_quantity == 3


def test_a_refund_retried_after_stripe_forgot_its_key_is_not_made_twice(user, staff, item, fake_stripe, settings):
    """Stripe keeps an idempotency key for 24 hours. A refund whose answer was lost, retried later than that (the
    outbox after a long outage, or staff retrying a failed message), finds the refund made under its key."""
    order = place(user, (item, 1))
    fake_stripe.complete_session(start_payment(order=order, site_url=SITE).session_id)
    for event in fake_stripe.events_of("checkout.session.completed"):
        handle_stripe_event(event=event)
    settings.STRIPE_TIMEOUT_SECONDS = 1
    fake_stripe.hang_next(0)  # the look for an earlier refund answers
    fake_stripe.hang_next(2)  # the refund is made, its answer lost
    with pytest.raises(PaymentGatewayError):
        refund_order(order=Order.objects.get(pk=order.pk), restock=False, actor=staff)
    payment_intent = fake_stripe.events_of("charge.refunded")[0]["data"]["object"]["payment_intent"]
    assert len(fake_stripe.refunds_for(payment_intent)) == 1

    fake_stripe.forget_idempotency_keys()  # a day later
    OutboxMessage.objects.filter(topic="payments.finish_refund").update(available_at=timezone.now() - timedelta(1))
    sweep()
    assert Refund.objects.get(order=order).status == RefundStatus.DONE
    assert len(fake_stripe.refunds_for(payment_intent)) == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED
