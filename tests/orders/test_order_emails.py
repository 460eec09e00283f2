"""The buyer's shipped, cancelled and refunded emails: recorded with the change, sent by the worker after commit,
once each (running the outbox again sends nothing more), to the guest's address for a guest order; each sent email,
or one the outbox gives up on, is on the order's timeline."""

import socket
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from cart.selectors import CartOwner
from orders.exceptions import IllegalTransition
from orders.models import Order, OrderEvent
from orders.services import cancel_order, mark_refunded, mark_shipped, place_order
from payments.services import refund_payment
from shop.models import OutboxMessage, OutboxStatus
from shop.outbox import sweep
from tests.orders.helpers import ADDRESS, PARCEL, place
from tests.payments.conftest import demo_paid

pytestmark = pytest.mark.django_db

SMTP = "django.core.mail.backends.smtp.EmailBackend"
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


def run_outbox_again() -> None:
    """Plays the worker's periodic sweep, with every backoff passed: nothing pending may be sent twice."""
    OutboxMessage.objects.filter(status=OutboxStatus.PENDING).update(available_at=timezone.now() - timedelta(1))
    sweep()


def sent(kind: str) -> list:
    subjects = {"shipped": "is on its way", "cancelled": "is cancelled", "refunded": "refunded on order"}
    return [message for message in mail.outbox if subjects[kind] in message.subject]


def test_the_shipped_email_gives_carrier_and_tracking_once(user, item):
    order = demo_paid(user, (item, 2))
    mail.outbox.clear()

    mark_shipped(order=order, **PARCEL)
    with pytest.raises(IllegalTransition):
        mark_shipped(order=order, **PARCEL)  # shipping twice is refused: no second email
    run_outbox_again()

    (message,) = sent("shipped")
    assert message.to == [user.email] and order.number in message.subject
    assert "Carrier: DHL" in message.body and f"Tracking number: {PARCEL['tracking_number']}" in message.body
    assert OrderEvent.objects.filter(order_id=order.pk, kind="email_sent", data__email="order_shipped").count() == 1


def test_the_cancelled_email_is_sent_once(user, item):
    order = place(user, (item, 1))

    cancel_order(order=order, actor=user)
    with pytest.raises(IllegalTransition):
        cancel_order(order=order, actor=user)
    run_outbox_again()

    (message,) = sent("cancelled")
    assert message.to == [user.email] and order.number in message.body


def test_a_guest_order_mails_the_guest(client, item):
    from django.urls import reverse

    client.post(reverse("cart:add"), {"item": item.pk, "quantity": 1})
    session = client.session
    order = place_order(guest=CartOwner(session=session), guest_email="guest@example.com", address=ADDRESS)
    session.save()
    mail.outbox.clear()  # the guest's link

    cancel_order(order=order, actor=None)

    (message,) = sent("cancelled")
    assert message.to == ["guest@example.com"]


def test_each_refund_mails_its_amount_once(user, item, staff):
    order = demo_paid(user, (item, 2))
    mail.outbox.clear()

    refund_payment(order=order, actor=staff, amount_minor=500)
    refund_payment(order=Order.objects.get(pk=order.pk), actor=staff, in_full=True)
    run_outbox_again()

    messages = sent("refunded")
    assert [message.to for message in messages] == [[user.email], [user.email]]
    assert ["€5.00" in messages[0].subject, "€20.00" in messages[1].subject] == [True, True]
    assert "€5.00 of order" in messages[0].body


def test_a_full_refund_from_the_gateway_mails_the_amount_not_yet_refunded(user, item):
    order = demo_paid(user, (item, 2))
    mail.outbox.clear()

    mark_refunded(order=order)
    run_outbox_again()

    (message,) = sent("refunded")
    assert "€25.00" in message.subject


def test_shipped_email_waits_for_the_mail_server_and_its_failure_is_recorded_when_the_outbox_gives_up(
    user, item, settings
):
    order = demo_paid(user, (item, 2))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_DELIVERY_BACKEND = SMTP
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 2
    settings.OUTBOX_MAX_ATTEMPTS = 2
    mail.outbox.clear()

    mark_shipped(order=order, **PARCEL)  # first attempt fails: retried later, nothing on the timeline yet
    failed = OrderEvent.objects.filter(order_id=order.pk, kind="email_failed")
    assert not failed.exists() and not sent("shipped")

    run_outbox_again()  # the last attempt fails too: the outbox gives up, and the timeline says so

    (event,) = failed
    assert event.data["email"] == "order_shipped" and "ConnectionRefusedError" in event.data["error"]
    assert not OrderEvent.objects.filter(order_id=order.pk, kind="email_sent", data__email="order_shipped").exists()
    message = OutboxMessage.objects.get(payload__email="order_shipped")
    assert message.status == OutboxStatus.FAILED
