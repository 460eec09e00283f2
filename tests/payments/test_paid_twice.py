"""Money that is not the order's: a second payment of a paid order, and the refund of a payment that never counted.
Neither may pay, refund or restock the order; the buyer gets the second payment back, once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import Order, OrderEvent, OrderStatus
from payments.exceptions import PaymentInProgress
from payments.models import Payment, PaymentStatus
from payments.services import confirm_checkout_session, handle_stripe_event, refund_order, start_payment
from shop import db as unit
from shop.models import OutboxMessage
from shop.outbox import sweep
from tests.conftest import Crash
from tests.factories import ItemFactory
from tests.orders.helpers import place
from tests.payments.conftest import SITE, post_event

pytestmark = pytest.mark.django_db


def _fulfil(fake_stripe, kind: str) -> list[str]:
    return [handle_stripe_event(event=event) for event in fake_stripe.events_of(kind)]


def test_no_second_session_while_a_completed_one_waits_for_its_money(user, item, fake_stripe):
    """A bank debit: the session completes unpaid and Stripe confirms days later. Paying again would charge twice."""
    order = place(user, (item, 1))
    first = start_payment(order=order, site_url=SITE)
    fake_stripe.complete_session(first.session_id, payment_status="unpaid")  # its webhook not here yet
    with pytest.raises(PaymentInProgress):
        start_payment(order=Order.objects.get(pk=order.pk), site_url=SITE)
    assert Payment.objects.filter(order=order).count() == 1
    assert Payment.objects.get(pk=first.pk).status == PaymentStatus.PROCESSING


def test_a_second_payment_of_a_paid_order_is_refunded_and_flagged(user, item, fake_stripe, mailoutbox):
    order = place(user, (item, 1))
    first = start_payment(order=order, site_url=SITE)
    Payment.objects.filter(pk=first.pk).update(status=PaymentStatus.FAILED)  # given up on, yet paid in the end
    second = start_payment(order=Order.objects.get(pk=order.pk), site_url=SITE)
    fake_stripe.complete_session(second.session_id)
    assert _fulfil(fake_stripe, "checkout.session.completed") == ["paid"]

    fake_stripe.complete_session(first.session_id)
    outcomes = [handle_stripe_event(event=event) for event in fake_stripe.events_of("checkout.session.completed")[1:]]
    assert outcomes == ["paid_twice"]
    # The shopper's return to the success page asks again: nothing more is refunded.
    assert confirm_checkout_session(session_id=first.session_id)[1] == "paid_twice"
    assert len(fake_stripe.refunds_for(Payment.objects.get(pk=first.pk).payment_intent)) == 1

    order.refresh_from_db()
    first.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.needs_attention and "second time" in order.attention_reason
    assert first.status == PaymentStatus.DUPLICATE and first.amount_refunded_minor == order.total_minor  # the outbox
    assert Payment.objects.get(pk=second.pk).status == PaymentStatus.PAID
    assert order.refunded_minor == 0
    late = OrderEvent.objects.filter(order=order, kind="refunded", data__cause="paid_twice")
    assert late.count() == 1
    [mail] = [m for m in mailoutbox if "refunded" in m.subject]
    assert "already been paid" in mail.body and "Nothing will be sent" not in mail.body

    # Stripe's charge.refunded for that refund changes nothing more; a refund of the order refunds the right payment.
    mails = len(mailoutbox)
    assert _fulfil(fake_stripe, "charge.refunded") == ["late_payment_refunded"]
    order.refresh_from_db()
    assert (order.status, order.refunded_minor, len(mailoutbox)) == (OrderStatus.PAID, 0, mails)
    refund_order(order=order, restock=False, actor=None)
    assert len(fake_stripe.refunds_for(Payment.objects.get(pk=second.pk).payment_intent)) == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED


def test_refunding_a_payment_of_the_wrong_amount_leaves_the_paid_order_alone(client, user, fake_stripe, rates, zones):
    """Paid 1.00 instead of 60.00: not fulfilled, flagged. The shopper pays again, correctly. Staff refund the 1.00 in
    Stripe's dashboard, as the flag asks: its charge.refunded is that payment's, not the order's."""
    pan = ItemFactory(title="Pan", price_minor=2000, stock=10)
    order = place(user, (pan, 3))
    first = start_payment(order=order, site_url=SITE)
    fake_stripe.complete_session(first.session_id, amount_total=100)
    assert confirm_checkout_session(session_id=first.session_id)[1] == "amount_mismatch"
    second = start_payment(order=Order.objects.get(pk=order.pk), site_url=SITE)
    fake_stripe.complete_session(second.session_id)
    assert confirm_checkout_session(session_id=second.session_id)[1] == "paid"

    first.refresh_from_db()
    charge = fake_stripe.charge_refunded_object(first.payment_intent, amount_refunded=100, refunded=True)
    post_event(client, fake_stripe.make_event("charge.refunded", charge))

    order.refresh_from_db()
    assert (order.status, order.refunded_minor) == (OrderStatus.PAID, 0)
    assert Payment.objects.get(pk=first.pk).amount_refunded_minor == 100
    assert Payment.objects.get(pk=second.pk).status == PaymentStatus.PAID
    assert OrderEvent.objects.filter(order=order, kind="refunded", data__cause="wrong_amount").count() == 1


def test_the_refund_of_a_second_payment_is_retried_until_the_gateway_answers(user, item, fake_stripe, settings):
    order = place(user, (item, 1))
    first = start_payment(order=order, site_url=SITE)
    Payment.objects.filter(pk=first.pk).update(status=PaymentStatus.FAILED)
    second = start_payment(order=Order.objects.get(pk=order.pk), site_url=SITE)
    fake_stripe.complete_session(second.session_id)
    fake_stripe.complete_session(first.session_id)
    settings.STRIPE_TIMEOUT_SECONDS = 1
    fake_stripe.hang_next(0)  # the look for an earlier refund answers
    fake_stripe.hang_next(2)  # the refund's first try times out
    assert _fulfil(fake_stripe, "checkout.session.completed") == ["paid", "paid_twice"]
    assert Payment.objects.get(pk=first.pk).status == PaymentStatus.DUPLICATE
    OutboxMessage.objects.filter(topic="payments.refund_late_payment").update(
        available_at=timezone.now() - timedelta(1)
    )
    sweep()
    assert Payment.objects.get(pk=first.pk).amount_refunded_minor == Order.objects.get(pk=order.pk).total_minor
    assert len(fake_stripe.refunds_for(Payment.objects.get(pk=first.pk).payment_intent)) == 1


def test_a_crash_while_recording_a_second_payment_leaves_nothing_half_done(user, item, fake_stripe, crash_at):
    """The attempt marked "Paid twice", the flag and the refund's outbox message are one unit: dying between them
    leaves none, and Stripe's retry of the event does all three, once."""
    order = place(user, (item, 1))
    first = start_payment(order=order, site_url=SITE)
    Payment.objects.filter(pk=first.pk).update(status=PaymentStatus.FAILED)
    second = start_payment(order=Order.objects.get(pk=order.pk), site_url=SITE)
    fake_stripe.complete_session(second.session_id)
    _fulfil(fake_stripe, "checkout.session.completed")
    fake_stripe.complete_session(first.session_id)
    event = fake_stripe.events_of("checkout.session.completed")[1]

    crash_at("fulfil.paid_twice_marked")
    with pytest.raises(Crash):
        handle_stripe_event(event=event)
    assert Payment.objects.get(pk=first.pk).status == PaymentStatus.FAILED
    assert not Order.objects.get(pk=order.pk).needs_attention
    assert not OutboxMessage.objects.filter(topic="payments.refund_late_payment").exists()

    unit.FAULTS.clear()  # the process is back
    assert handle_stripe_event(event=event) == "paid_twice"
    assert Payment.objects.get(pk=first.pk).status == PaymentStatus.DUPLICATE
    assert OutboxMessage.objects.filter(topic="payments.refund_late_payment").count() == 1
