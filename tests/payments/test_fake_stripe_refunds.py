"""The fake Stripe server's partial refunds, their events and idempotency, driven through the real stripe
library; the last tests feed the fake's own refund events to the shop's webhook."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import stripe

from orders.models import Order, OrderStatus
from payments.models import PaymentStatus
from payments.services import start_payment
from tests.fake_stripe import FakeStripe, sign_payload
from tests.orders.helpers import place
from tests.payments.conftest import SITE, post_event

SECRET = "whsec_test_secret"


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as server:
        yield server


@pytest.fixture
def stripe_client(fake: FakeStripe) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_x", base_addresses={"api": fake.base_url}, max_network_retries=0)


@pytest.fixture
def paid(fake: FakeStripe, stripe_client: stripe.StripeClient) -> str:
    """The payment intent of a paid 30.00 EUR session."""
    session = stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [
                {"price_data": {"currency": "eur", "unit_amount": 1500, "product_data": {"name": "Mug"}}, "quantity": 2}
            ],
        }
    )
    return fake.complete_session(session.id)["payment_intent"]


def refund(stripe_client: stripe.StripeClient, payment_intent: str, amount: int | None = None, key: str | None = None):
    params: dict = {"payment_intent": payment_intent}
    if amount is not None:
        params["amount"] = amount
    return stripe_client.v1.refunds.create(params=params, options={"idempotency_key": key} if key else {})


def test_two_partial_refunds_then_an_over_refund_is_refused(
    fake: FakeStripe, stripe_client: stripe.StripeClient, paid: str
) -> None:
    first = refund(stripe_client, paid, 1000)
    second = refund(stripe_client, paid, 1000)

    assert (first.amount, second.amount) == (1000, 1000) and first.id != second.id
    assert [(r["id"], r["amount"]) for r in fake.refunds_for(paid)] == [(first.id, 1000), (second.id, 1000)]
    charge = fake.charge_for(paid)
    assert (charge["amount"], charge["amount_refunded"], charge["refunded"]) == (3000, 2000, False)

    with pytest.raises(stripe.InvalidRequestError) as info:
        refund(stripe_client, paid, 2000)
    assert info.value.http_status == 400
    assert info.value.error.type == "invalid_request_error"
    assert info.value.param == "amount"
    assert info.value.user_message == "Refund amount (€20.00) is greater than unrefunded amount on charge (€10.00)"
    assert len(fake.refunds_for(paid)) == 2 and fake.charge_for(paid)["amount_refunded"] == 2000


def test_refund_without_amount_refunds_the_remainder_then_nothing_is_left(
    fake: FakeStripe, stripe_client: stripe.StripeClient, paid: str
) -> None:
    refund(stripe_client, paid, 1200)

    rest = refund(stripe_client, paid)

    assert rest.amount == 1800
    assert [r["amount"] for r in fake.refunds_for(paid)] == [1200, 1800]
    charge = fake.charge_for(paid)
    assert (charge["amount_refunded"], charge["refunded"]) == (3000, True)
    for amount in (None, 1):
        with pytest.raises(stripe.InvalidRequestError) as info:
            refund(stripe_client, paid, amount)
        assert info.value.code == "charge_already_refunded"
        assert info.value.user_message == f"Charge {charge['id']} has already been refunded."


def test_refund_with_the_same_idempotency_key_refunds_once(
    fake: FakeStripe, stripe_client: stripe.StripeClient, paid: str
) -> None:
    first = refund(stripe_client, paid, 500, key="order-A1-refund-1")
    again = refund(stripe_client, paid, 500, key="order-A1-refund-1")

    assert again.id == first.id
    assert [r["amount"] for r in fake.refunds_for(paid)] == [500]
    assert fake.charge_for(paid)["amount_refunded"] == 500
    assert len(fake.events_of("charge.refunded")) == 1
    assert [r.replayed for r in fake.requests_to("/v1/refunds")] == [False, True]

    with pytest.raises(stripe.IdempotencyError):
        refund(stripe_client, paid, 600, key="order-A1-refund-1")
    assert refund(stripe_client, paid, 500, key="order-A1-refund-2").id != first.id


def test_refused_over_refund_is_replayed_for_its_key(
    fake: FakeStripe, stripe_client: stripe.StripeClient, paid: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        refund(stripe_client, paid, 5000, key="k")
    # Stripe stores the endpoint's refusal: the same request with the same key gets it again.
    with pytest.raises(stripe.InvalidRequestError, match="greater than unrefunded"):
        refund(stripe_client, paid, 5000, key="k")
    assert fake.refunds_for(paid) == []


def test_malformed_refund_amounts_store_nothing_for_the_key(
    fake: FakeStripe, stripe_client: stripe.StripeClient, paid: str
) -> None:
    for bad, message in (
        (0, "Invalid positive integer"),
        (-100, "Invalid positive integer"),
        ("1.5", "Invalid integer"),
    ):
        with pytest.raises(stripe.InvalidRequestError, match=message) as info:
            stripe_client.v1.refunds.create(
                params={"payment_intent": paid, "amount": bad}, options={"idempotency_key": "k"}
            )
        assert (info.value.http_status, info.value.param) == (400, "amount")

    assert refund(stripe_client, paid, 100, key="k").amount == 100  # the parameters failed validation: nothing stored


def test_refund_events_carry_the_charges_amount_refunded(
    fake: FakeStripe, stripe_client: stripe.StripeClient, paid: str
) -> None:
    partial = refund(stripe_client, paid, 1000, key="r1")
    refund(stripe_client, paid)

    charge_events = fake.events_of("charge.refunded")
    assert [(e["data"]["object"]["amount_refunded"], e["data"]["object"]["refunded"]) for e in charge_events] == [
        (1000, False),
        (3000, True),
    ]
    assert charge_events[0]["data"]["object"]["payment_intent"] == paid
    assert charge_events[0]["request"]["idempotency_key"] == "r1"
    refund_events = fake.events_of("refund.created")
    assert [e["data"]["object"]["amount"] for e in refund_events] == [1000, 2000]
    assert refund_events[0]["data"]["object"]["id"] == partial.id

    payload = json.dumps(charge_events[0])
    event = stripe.Webhook.construct_event(payload, sign_payload(payload, SECRET), SECRET)
    assert isinstance(event.data.object, stripe.Charge)
    assert (event.data.object.amount, event.data.object.amount_refunded) == (3000, 1000)


def test_module_level_refund_create_and_retrieve(fake: FakeStripe, paid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stripe, "api_key", "sk_test_x")
    monkeypatch.setattr(stripe, "api_base", fake.base_url)
    monkeypatch.setattr(stripe, "max_network_retries", 0)

    created = stripe.Refund.create(payment_intent=paid, amount=700, reason="requested_by_customer")

    assert isinstance(created, stripe.Refund)
    assert (created.amount, created.currency, created.status, created.reason) == (
        700,
        "eur",
        "succeeded",
        "requested_by_customer",
    )
    assert created.charge == fake.charge_for(paid)["id"]
    assert stripe.Refund.retrieve(created.id).to_dict() == created.to_dict()


def test_refund_by_charge_and_refusals(fake: FakeStripe, stripe_client: stripe.StripeClient, paid: str) -> None:
    charge_id = fake.charge_for(paid)["id"]
    assert stripe_client.v1.refunds.create(params={"charge": charge_id, "amount": 100}).payment_intent == paid

    cases = [
        ({}, 400, None),
        ({"charge": "ch_nope"}, 400, "resource_missing"),
        ({"payment_intent": paid, "reason": "changed_my_mind"}, 400, None),
    ]
    for params, status, code in cases:
        with pytest.raises(stripe.InvalidRequestError) as info:
            stripe_client.v1.refunds.create(params=params)
        assert (info.value.http_status, info.value.code) == (status, code)
    with pytest.raises(stripe.InvalidRequestError) as info:
        stripe_client.v1.refunds.retrieve("re_nope")
    assert info.value.http_status == 404


def test_a_payment_still_processing_cannot_be_refunded(fake: FakeStripe, stripe_client: stripe.StripeClient) -> None:
    session = stripe_client.v1.checkout.sessions.create(
        params={
            "line_items": [
                {"price_data": {"currency": "eur", "unit_amount": 900, "product_data": {"name": "Tea"}}, "quantity": 1}
            ]
        }
    )
    pending = fake.complete_session(session.id, payment_status="unpaid")["payment_intent"]

    with pytest.raises(stripe.InvalidRequestError, match="does not have a successful charge"):
        refund(stripe_client, pending)
    fake.complete_session(session.id)
    assert refund(stripe_client, pending).amount == 900


# -- the shop's webhook, fed the fake's own events -----------------------------------------------


@pytest.mark.django_db
def test_shop_webhook_handles_the_fakes_checkout_and_refund_events(client, user, item, fake_stripe):
    payment = start_payment(order=place(user, (item, 2)), site_url=SITE)
    fake_stripe.complete_session(payment.session_id)
    [completed] = fake_stripe.events_of("checkout.session.completed")
    assert post_event(client, completed).content == b"paid"

    shop_key = stripe.StripeClient("sk_test_shop", base_addresses={"api": fake_stripe.base_url}, max_network_retries=0)
    payment.refresh_from_db()
    shop_key.v1.refunds.create(params={"payment_intent": payment.payment_intent, "amount": 500})
    assert post_event(client, fake_stripe.events_of("charge.refunded")[-1]).content == b"partial_refund"
    payment.refresh_from_db()
    assert payment.amount_refunded_minor == 500
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PAID

    shop_key.v1.refunds.create(params={"payment_intent": payment.payment_intent})
    assert post_event(client, fake_stripe.events_of("charge.refunded")[-1]).content == b"refunded"
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded_minor) == (PaymentStatus.REFUNDED, 2500)
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.REFUNDED
