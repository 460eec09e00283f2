"""A payment that arrives after its order was cancelled or expired is refunded by the shop itself (issue 14's
cleanups): the refund goes on the order's timeline, visible to the buyer, and the buyer gets one email saying so,
however often Stripe sends its events and however often the worker runs."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from orders.models import Order, OrderEvent, OrderEventKind, OrderStatus
from orders.selectors import order_timeline
from orders.services import cancel_order, expire_order
from payments.exceptions import PaymentGatewayError
from payments.gateways import StripeGateway
from payments.models import Payment, PaymentStatus
from payments.services import start_payment
from shop.models import OutboxMessage, OutboxStatus
from shop.outbox import sweep
from tests.orders.helpers import place
from tests.payments.conftest import SITE, post_event

pytestmark = pytest.mark.django_db

CLOSE = {"cancelled": lambda order, user: cancel_order(order=order, actor=user),
         "expired": lambda order, user: expire_order(order=order)}  # fmt: skip


@pytest.fixture
def open_payment(user, item, fake_stripe):
    return start_payment(order=place(user, (item, 2)), site_url=SITE)


def run_worker() -> None:
    """The worker's periodic sweep with every backoff passed: whatever is still pending runs now."""
    OutboxMessage.objects.filter(status=OutboxStatus.PENDING).update(available_at=timezone.now() - timedelta(1))
    sweep()


def refund_events(order: Order) -> list[OrderEvent]:
    return list(OrderEvent.objects.filter(order_id=order.pk, kind=OrderEventKind.REFUNDED))


def refunded_emails() -> list:
    return [message for message in mail.outbox if "refunded on order" in message.subject]


def pay_then_close(fake_stripe, open_payment, user, how: str) -> dict:
    """The buyer pays at Stripe just as the order closes (Stripe refuses to expire the completed session)."""
    session = fake_stripe.complete_session(open_payment.session_id)
    CLOSE[how](Order.objects.get(pk=open_payment.order_id), user)
    return session


@pytest.mark.parametrize("how", ["cancelled", "expired"])
def test_a_late_payment_refund_is_on_the_timeline_and_mailed_once(client, open_payment, fake_stripe, user, how):
    session = pay_then_close(fake_stripe, open_payment, user, how)
    event = fake_stripe.make_event("checkout.session.completed", session)
    assert post_event(client, event).content == b"paid_closed_order"
    run_worker()

    order = Order.objects.get(pk=open_payment.order_id)
    assert order.status == how and order.refunded_minor == 0  # the money never counted as paid for the order
    (refund,) = fake_stripe.refunds_for(session["payment_intent"])
    (recorded,) = refund_events(order)
    assert recorded.data["amount_minor"] == order.total_minor == refund["amount"]
    assert recorded.data["reference"] == refund["id"] and recorded.actor is None
    assert [(e.kind, e.buyer_data) for e in order_timeline(order=order, for_buyer=True)][-1] == (
        OrderEventKind.REFUNDED,
        {"amount_minor": order.total_minor},
    )
    (message,) = refunded_emails()
    assert message.to == [user.email] and "€25.00" in message.subject and order.number in message.subject
    assert f"arrived after the order was {how}" in " ".join(message.body.split())
    sent = OrderEvent.objects.filter(order_id=order.pk, kind="email_sent", data__email="order_late_payment_refunded")
    assert sent.count() == 1

    # Stripe sends the event again, then its report of our refund; the worker runs again: nothing more.
    assert post_event(client, event).content == b"duplicate"
    (charge_refunded,) = fake_stripe.events_of("charge.refunded")
    assert post_event(client, charge_refunded).content == b"late_payment_refunded"
    run_worker()

    assert len(refund_events(order)) == 1 and len(refunded_emails()) == 1
    assert len(fake_stripe.refunds_for(session["payment_intent"])) == 1
    payment = Payment.objects.get(pk=open_payment.pk)
    assert (payment.status, payment.amount_refunded_minor) == (PaymentStatus.REFUNDED, order.total_minor)


def test_a_late_payment_refunded_at_stripe_first_is_recorded_once(client, open_payment, fake_stripe, user, monkeypatch):
    """Our refund cannot reach Stripe; staff refund the payment in Stripe's dashboard meanwhile: its charge.refunded
    records the refund, and the worker, when it tries again, finds nothing left to do."""

    def unreachable(self, **kwargs):
        raise PaymentGatewayError(retryable=True, detail="APIConnectionError: no route to host")

    monkeypatch.setattr(StripeGateway, "refund", unreachable)
    session = pay_then_close(fake_stripe, open_payment, user, "cancelled")
    order = Order.objects.get(pk=open_payment.order_id)
    assert order.needs_attention and not refund_events(order)  # the refund is still to be made

    charge = fake_stripe.charge_refunded_object(session["payment_intent"], amount_refunded=order.total_minor)
    assert post_event(client, fake_stripe.make_event("charge.refunded", charge)).content == b"late_payment_refunded"
    monkeypatch.undo()
    run_worker()

    (recorded,) = refund_events(order)
    assert recorded.data["amount_minor"] == order.total_minor
    assert len(refunded_emails()) == 1
    assert fake_stripe.refunds_for(session["payment_intent"]) == []  # the worker did not refund a second time
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
