import json
import time

import pytest
from django.core import mail

from orders.models import Order, OrderStatus
from orders.services import cancel_order
from payments.models import Payment, PaymentEvent, PaymentStatus
from payments.services import start_payment
from tests.orders.helpers import place, stock_of
from tests.payments.conftest import SITE, WEBHOOK_URL, post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_payment(user, item, fake_stripe):
    order = place(user, (item, 2))
    return start_payment(order=order, site_url=SITE)


def status_of(payment) -> tuple[str, str]:
    payment.refresh_from_db()
    return Order.objects.get(pk=payment.order_id).status, payment.status


@pytest.mark.parametrize(
    "header",
    [
        "",  # missing
        "t=1,v1=deadbeef",  # garbage
        "secret",  # signed with another secret (filled in below)
        "stale",  # signed ten minutes ago
    ],
)
def test_webhook_refuses_bad_missing_or_stale_signatures(client, open_payment, fake_stripe, header):
    session = fake_stripe.complete_session(open_payment.session_id)
    event = fake_stripe.make_event("checkout.session.completed", session)
    if header == "secret":
        response = post_event(client, event, secret="whsec_other")
    elif header == "stale":
        response = post_event(client, event, timestamp=int(time.time()) - 600)
    else:
        response = post_event(client, event, header=header)
    assert response.status_code == 400
    assert status_of(open_payment) == (OrderStatus.PENDING_PAYMENT, PaymentStatus.OPEN)
    assert not PaymentEvent.objects.exists()


def test_webhook_without_a_configured_secret_refuses_events_signed_with_an_empty_key(
    client, open_payment, fake_stripe, settings
):
    settings.STRIPE_WEBHOOK_SECRET = ""
    session = fake_stripe.complete_session(open_payment.session_id)
    response = post_event(client, fake_stripe.make_event("checkout.session.completed", session), secret="")
    assert response.status_code == 400
    assert status_of(open_payment) == (OrderStatus.PENDING_PAYMENT, PaymentStatus.OPEN)
    assert not PaymentEvent.objects.exists()


def test_webhook_refuses_a_tampered_body_and_bad_json(client, db):
    from tests.fake_stripe import sign_payload

    body = '{"id": "evt_1", "type": "checkout.session.completed"}'
    tampered = client.post(WEBHOOK_URL, data=body.replace("evt_1", "evt_2"), content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=sign_payload(body, "whsec_test_secret"))  # fmt: skip
    bad_json = client.post(WEBHOOK_URL, data="{nope", content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=sign_payload("{nope", "whsec_test_secret"))  # fmt: skip
    assert tampered.status_code == 400 and bad_json.status_code == 400
    assert client.get(WEBHOOK_URL).status_code == 405


def test_completed_paid_session_fulfils_the_order_once_even_when_replayed(client, open_payment, fake_stripe):
    session = fake_stripe.complete_session(open_payment.session_id)
    event = fake_stripe.make_event("checkout.session.completed", session)

    first = post_event(client, event)
    replay = post_event(client, event)
    # The same payment reported again under a new event id (e.g. the success page raced it) changes nothing.
    again = post_event(client, fake_stripe.make_event("checkout.session.completed", session))

    assert (first.status_code, first.content) == (200, b"paid")
    assert (replay.status_code, replay.content) == (200, b"duplicate")
    assert again.content == b"already_paid"
    assert status_of(open_payment) == (OrderStatus.PAID, PaymentStatus.PAID)
    assert open_payment.payment_intent == session["payment_intent"]
    assert len(mail.outbox) == 1
    assert PaymentEvent.objects.get(event_id=event["id"]).outcome == "paid"


def test_async_payment_processing_then_succeeded(client, open_payment, fake_stripe):
    unpaid = fake_stripe.complete_session(open_payment.session_id, payment_status="unpaid")
    assert post_event(client, fake_stripe.make_event("checkout.session.completed", unpaid)).content == b"processing"
    assert status_of(open_payment) == (OrderStatus.PENDING_PAYMENT, PaymentStatus.PROCESSING)

    paid = fake_stripe.complete_session(open_payment.session_id, payment_status="paid")
    assert post_event(client, fake_stripe.make_event("checkout.session.async_payment_succeeded", paid)).content == (
        b"paid"
    )
    # Delivered out of order: the older "completed, unpaid" event arrives last and changes nothing.
    post_event(client, fake_stripe.make_event("checkout.session.completed", unpaid))
    assert status_of(open_payment) == (OrderStatus.PAID, PaymentStatus.PAID)


def test_async_payment_failed_leaves_the_order_payable_with_a_new_attempt(client, open_payment, fake_stripe):
    unpaid = fake_stripe.complete_session(open_payment.session_id, payment_status="unpaid")
    post_event(client, fake_stripe.make_event("checkout.session.completed", unpaid))
    response = post_event(client, fake_stripe.make_event("checkout.session.async_payment_failed", unpaid))

    assert response.content == b"payment_failed"
    assert status_of(open_payment) == (OrderStatus.PENDING_PAYMENT, PaymentStatus.FAILED)
    again = start_payment(order=open_payment.order, site_url=SITE)
    assert again.attempt == 2 and again.status == PaymentStatus.OPEN


def test_expired_session_expires_the_order_and_releases_stock_once(client, open_payment, fake_stripe, item):
    session = fake_stripe.expire_session(open_payment.session_id)
    event = fake_stripe.make_event("checkout.session.expired", session)

    assert post_event(client, event).content == b"expired"
    post_event(client, fake_stripe.make_event("checkout.session.expired", session))  # a second delivery
    assert status_of(open_payment) == (OrderStatus.EXPIRED, PaymentStatus.EXPIRED)
    assert stock_of(item) == 10


def test_amount_mismatch_is_not_fulfilled_but_flagged(client, open_payment, fake_stripe):
    session = fake_stripe.complete_session(open_payment.session_id, amount_total=100)
    response = post_event(client, fake_stripe.make_event("checkout.session.completed", session))

    order = Order.objects.get(pk=open_payment.order_id)
    assert response.content == b"amount_mismatch"
    assert order.status == OrderStatus.PENDING_PAYMENT and order.needs_attention
    assert "paid 100 eur" in order.attention_reason and not mail.outbox


def test_currency_mismatch_is_not_fulfilled_but_flagged(client, open_payment, fake_stripe):
    session = fake_stripe.complete_session(open_payment.session_id, currency="usd")
    assert post_event(client, fake_stripe.make_event("checkout.session.completed", session)).content == (
        b"amount_mismatch"
    )
    assert Order.objects.get(pk=open_payment.order_id).needs_attention


def test_cancelling_an_order_expires_its_open_stripe_session(open_payment, fake_stripe, user):
    cancel_order(order=open_payment.order, actor=user)

    assert len(fake_stripe.requests_to(f"/v1/checkout/sessions/{open_payment.session_id}/expire", "POST")) == 1
    with pytest.raises(ValueError, match="expired"):  # the buyer can no longer pay it
        fake_stripe.complete_session(open_payment.session_id)
    open_payment.refresh_from_db()
    assert open_payment.status == PaymentStatus.EXPIRED


def test_payment_made_while_the_order_is_cancelled_is_refunded_and_flagged(client, open_payment, fake_stripe, user):
    session = fake_stripe.complete_session(open_payment.session_id)  # the buyer pays at Stripe...
    cancel_order(order=open_payment.order, actor=user)  # ...as the order is cancelled: Stripe refuses the expiry
    response = post_event(client, fake_stripe.make_event("checkout.session.completed", session))

    order = Order.objects.get(pk=open_payment.order_id)
    open_payment.refresh_from_db()
    assert response.content == b"paid_closed_order"
    assert order.status == OrderStatus.CANCELLED and order.needs_attention and "refund" in order.attention_reason
    refunds = fake_stripe.requests_to("/v1/refunds", "POST")
    assert len(refunds) == 1 and refunds[0].params["amount"] == str(order.total_minor)
    assert open_payment.status == PaymentStatus.REFUNDED
    assert open_payment.amount_refunded_minor == order.total_minor


def test_event_for_an_unknown_order_is_acknowledged_and_ignored(client, fake_stripe, db):
    session = {"id": "cs_test_elsewhere", "object": "checkout.session", "status": "complete", "payment_status": "paid",
               "amount_total": 999, "currency": "eur", "metadata": {"order_number": "ZZZZ9999", "attempt": "1"},
               "client_reference_id": "ZZZZ9999", "payment_intent": "pi_x"}  # fmt: skip
    response = post_event(client, fake_stripe.make_event("checkout.session.completed", session))
    assert (response.status_code, response.content) == (200, b"unknown_session")
    assert not Payment.objects.exists() and not Order.objects.exists()


def test_unhandled_event_types_are_acknowledged(client, db, fake_stripe):
    response = post_event(client, fake_stripe.make_event("customer.created", {"id": "cus_1", "object": "customer"}))
    assert (response.status_code, response.content) == (200, b"ignored")


def test_charge_refunded_refunds_the_order_and_a_partial_refund_is_flagged(client, open_payment, fake_stripe):
    session = fake_stripe.complete_session(open_payment.session_id)
    post_event(client, fake_stripe.make_event("checkout.session.completed", session))
    intent = session["payment_intent"]

    partial = fake_stripe.charge_refunded_object(intent, amount_refunded=500)
    assert post_event(client, fake_stripe.make_event("charge.refunded", partial)).content == b"partial_refund"
    order = Order.objects.get(pk=open_payment.order_id)
    assert order.status == OrderStatus.PAID and order.needs_attention

    full = fake_stripe.charge_refunded_object(intent, amount_refunded=2500)
    assert post_event(client, fake_stripe.make_event("charge.refunded", full)).content == b"refunded"
    assert status_of(open_payment) == (OrderStatus.REFUNDED, PaymentStatus.REFUNDED)
    unknown = fake_stripe.charge_refunded_object("pi_unknown", amount_refunded=100)
    assert post_event(client, fake_stripe.make_event("charge.refunded", unknown)).content == b"unknown_payment"


def test_webhook_before_the_redirect_then_success_page_shows_paid(client, user, open_payment, fake_stripe):
    session = fake_stripe.complete_session(open_payment.session_id)
    post_event(client, fake_stripe.make_event("checkout.session.completed", session))
    client.force_login(user)
    page = client.get(f"/payments/success/?session_id={open_payment.session_id}")
    assert "is paid" in page.content.decode() and len(mail.outbox) == 1


def test_a_failure_while_processing_forgets_the_event_so_stripe_retries(client, open_payment, fake_stripe,
                                                                          monkeypatch):  # fmt: skip
    session = fake_stripe.complete_session(open_payment.session_id)
    event = fake_stripe.make_event("checkout.session.completed", session)

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("payments.services.fulfil_checkout_session", broken)
    client.raise_request_exception = False
    assert post_event(client, event).status_code == 500
    monkeypatch.undo()
    assert post_event(client, event).content == b"paid"
    assert json.loads(json.dumps(event))["id"] == PaymentEvent.objects.get().event_id
