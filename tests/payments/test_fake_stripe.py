"""Tests for the fake Stripe server, driven through the real stripe library (no database).

The price breakdown and coupons are in test_fake_stripe_checkout.py, partial refunds in
test_fake_stripe_refunds.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from tests.fake_stripe import FakeStripe, format_amount, parse_nested, sign_payload

SECRET = "whsec_test_secret"


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as server:
        yield server


@pytest.fixture
def client(fake: FakeStripe) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_x", base_addresses={"api": fake.base_url}, max_network_retries=0)


def session_params(order_id: str = "42", unit_amount: int = 1250, quantity: int = 2) -> dict[str, Any]:
    return {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {"currency": "EUR", "unit_amount": unit_amount, "product_data": {"name": "Mug"}},
                "quantity": quantity,
            },
            {"price_data": {"currency": "eur", "unit_amount": 500, "product_data": {"name": "Tea"}}, "quantity": 1},
        ],
        "client_reference_id": f"order-{order_id}",
        "metadata": {"order_id": order_id},
        "success_url": "https://shop.test/pay/success?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.test/pay/cancel",
    }


def raw_request(fake: FakeStripe, method: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    """Call the fake without the stripe library, to see status codes and bodies directly."""
    req = urllib.request.Request(fake.base_url + path, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


# -- sessions -----------------------------------------------------------------------------------


def test_create_session_returns_stripe_shaped_object(fake: FakeStripe, client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": "order-42-1"})

    assert isinstance(session, stripe.checkout.Session)
    assert session.id.startswith("cs_test_")
    assert session.status == "open"
    assert session.payment_status == "unpaid"
    assert session.amount_total == 1250 * 2 + 500
    assert session.currency == "eur"
    assert session.client_reference_id == "order-42"
    assert session.metadata.to_dict() == {"order_id": "42"}
    assert session.payment_intent is None
    assert session.url == f"https://checkout.stripe.test/c/pay/{session.id}"
    assert session.mode == "payment"
    assert 23 * 3600 < session.expires_at - time.time() <= 24 * 3600


def test_create_session_is_recorded_with_form_params_and_key(fake: FakeStripe, client: stripe.StripeClient) -> None:
    client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": "order-42-1"})

    [record] = fake.requests_to("/v1/checkout/sessions", method="POST")
    assert record.path == "/v1/checkout/sessions"
    assert record.idempotency_key == "order-42-1"
    assert record.headers["Authorization"] == "Bearer sk_test_x"
    assert record.form["line_items[0][price_data][unit_amount]"] == "1250"
    assert record.form["line_items[0][quantity]"] == "2"
    assert record.form["metadata[order_id]"] == "42"
    assert record.params["line_items"][1]["price_data"]["product_data"]["name"] == "Tea"
    assert record.status == 200


def test_library_adds_its_own_idempotency_key_to_posts(fake: FakeStripe, client: stripe.StripeClient) -> None:
    client.v1.checkout.sessions.create(params=session_params())
    client.v1.checkout.sessions.create(params=session_params())

    keys = [r.idempotency_key for r in fake.requests]
    assert all(keys) and keys[0] != keys[1]
    assert len(fake.sessions) == 2


def test_retrieve_and_unknown_session(fake: FakeStripe, client: stripe.StripeClient) -> None:
    created = client.v1.checkout.sessions.create(params=session_params())

    fetched = client.v1.checkout.sessions.retrieve(created.id)
    assert fetched.id == created.id
    assert fake.requests[-1].method == "GET"
    assert fake.requests[-1].idempotency_key is None

    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert info.value.http_status == 404
    assert info.value.code == "resource_missing"


def test_expire_only_open_sessions(fake: FakeStripe, client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())

    expired = client.v1.checkout.sessions.expire(session.id)
    assert expired.status == "expired"
    assert fake.requests[-1].path == f"/v1/checkout/sessions/{session.id}/expire"

    with pytest.raises(stripe.InvalidRequestError, match="open"):
        client.v1.checkout.sessions.expire(session.id)


def test_complete_session_then_retrieve(fake: FakeStripe, client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())

    completed = fake.complete_session(session.id)
    assert completed["status"] == "complete"
    assert completed["payment_status"] == "paid"
    assert completed["payment_intent"].startswith("pi_")

    fetched = client.v1.checkout.sessions.retrieve(session.id)
    assert (fetched.status, fetched.payment_status) == ("complete", "paid")
    assert fetched.payment_intent == completed["payment_intent"]

    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id)


def test_complete_session_overrides_and_async_payment(fake: FakeStripe, client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())

    pending = fake.complete_session(session.id, payment_status="unpaid", amount_total=1, currency="USD")
    assert (pending["status"], pending["payment_status"]) == ("complete", "unpaid")
    assert (pending["amount_total"], pending["currency"]) == (1, "usd")

    paid = fake.complete_session(session.id)
    assert paid["payment_status"] == "paid"
    assert paid["payment_intent"] == pending["payment_intent"]


def test_expire_session_helper(fake: FakeStripe, client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())

    assert fake.expire_session(session.id)["status"] == "expired"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    with pytest.raises(ValueError):
        fake.complete_session(session.id)


def test_create_session_validates_line_items(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.create(params={"mode": "payment", "line_items": [{"price": "price_1"}]})
    assert "price_data" in str(info.value.user_message)


# -- idempotency --------------------------------------------------------------------------------


def test_same_key_same_params_replays_first_response(fake: FakeStripe, client: stripe.StripeClient) -> None:
    first = client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": "k"})
    second = client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": "k"})

    assert second.id == first.id
    assert len(fake.sessions) == 1
    assert [r.replayed for r in fake.requests] == [False, True]


def test_same_key_different_params_is_idempotency_error(fake: FakeStripe, client: stripe.StripeClient) -> None:
    client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": "k"})

    with pytest.raises(stripe.IdempotencyError):
        client.v1.checkout.sessions.create(params=session_params(quantity=3), options={"idempotency_key": "k"})
    assert len(fake.sessions) == 1


# -- failure injection --------------------------------------------------------------------------


def test_fail_next_500_raises_api_error_then_recovers(fake: FakeStripe, client: stripe.StripeClient) -> None:
    fake.fail_next(500, message="boom", count=2)

    for _ in range(2):
        with pytest.raises(stripe.APIError, match="boom"):
            client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": "k"})
    assert fake.sessions == {}

    # An injected failure stores nothing for the key, so the retry goes through.
    session = client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": "k"})
    assert session.status == "open"
    assert [r.status for r in fake.requests] == [500, 500, 200]


def test_fail_next_400_raises_invalid_request_error(fake: FakeStripe, client: stripe.StripeClient) -> None:
    fake.fail_next(400, error_type="invalid_request_error", message="bad")

    with pytest.raises(stripe.InvalidRequestError, match="bad"):
        client.v1.checkout.sessions.create(params=session_params())


def test_hang_next_times_out_and_retry_with_same_key_gets_same_session(fake: FakeStripe) -> None:
    slow_client = stripe.StripeClient(
        "sk_test_x",
        base_addresses={"api": fake.base_url},
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=0.3),
    )
    fake.hang_next(2)

    with pytest.raises(stripe.APIConnectionError):
        slow_client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": "k"})

    # The first request was handled, only its response was lost: the retry replays it.
    session = slow_client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": "k"})
    assert list(fake.sessions) == [session.id]


def test_stopped_server_refuses_connections() -> None:
    with FakeStripe() as server:
        base = server.base_url
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": base}, max_network_retries=0)

    with pytest.raises(stripe.APIConnectionError):
        client.v1.checkout.sessions.retrieve("cs_test_1")


def test_unknown_route_and_missing_key_are_json_errors(fake: FakeStripe) -> None:
    status, body = raw_request(fake, "GET", "/v1/customers", {"Authorization": "Bearer sk_test_x"})
    assert status == 404
    assert body["error"]["type"] == "invalid_request_error"

    status, body = raw_request(fake, "GET", "/v1/checkout/sessions/cs_test_1")
    assert status == 401


# -- refunds ------------------------------------------------------------------------------------


def paid_payment_intent(fake: FakeStripe, client: stripe.StripeClient) -> str:
    session = client.v1.checkout.sessions.create(params=session_params())
    return fake.complete_session(session.id)["payment_intent"]


def test_refund_full_and_partial(fake: FakeStripe, client: stripe.StripeClient) -> None:
    pi = paid_payment_intent(fake, client)

    partial = client.v1.refunds.create(params={"payment_intent": pi, "amount": 500}, options={"idempotency_key": "r1"})
    assert isinstance(partial, stripe.Refund)
    assert partial.id.startswith("re_")
    assert (partial.amount, partial.currency, partial.payment_intent, partial.status) == (500, "eur", pi, "succeeded")
    assert fake.requests_to("/v1/refunds")[0].form == {"payment_intent": pi, "amount": "500"}

    rest = client.v1.refunds.create(params={"payment_intent": pi})
    assert rest.amount == 3000 - 500

    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": pi, "amount": 1})


def test_refund_unknown_payment_intent(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create(params={"payment_intent": "pi_nope"})
    assert info.value.http_status == 400


# -- events and webhook signatures --------------------------------------------------------------


def test_signed_event_is_accepted_by_construct_event(fake: FakeStripe, client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())
    event = fake.make_event("checkout.session.completed", fake.complete_session(session.id))
    payload = json.dumps(event).encode()

    parsed = stripe.Webhook.construct_event(payload, sign_payload(payload, SECRET), SECRET)

    assert parsed.id == event["id"] and parsed.id.startswith("evt_")
    assert parsed.type == "checkout.session.completed"
    assert isinstance(parsed.data.object, stripe.checkout.Session)
    assert parsed.data.object.payment_status == "paid"


def test_signature_matches_stripe_scheme() -> None:
    payload = b'{"id": "evt_1"}'
    header = sign_payload(payload, SECRET, timestamp=1700000000)

    expected = hmac.new(SECRET.encode(), b"1700000000." + payload, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_tampered_wrong_secret_and_stale_signatures_are_rejected(fake: FakeStripe) -> None:
    payload = json.dumps(fake.make_event("checkout.session.completed", {"id": "cs_1"})).encode()
    header = sign_payload(payload, SECRET)

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload.replace(b"cs_1", b"cs_2"), header, SECRET)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, header, "whsec_other")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, sign_payload(payload, SECRET, int(time.time()) - 301), SECRET)


def test_charge_refunded_event(fake: FakeStripe, client: stripe.StripeClient) -> None:
    pi = paid_payment_intent(fake, client)
    client.v1.refunds.create(params={"payment_intent": pi, "amount": 1000})

    partial = fake.charge_refunded_object(pi)
    assert (partial["object"], partial["payment_intent"], partial["amount_refunded"]) == ("charge", pi, 1000)
    assert partial["refunded"] is False  # as at Stripe: only a full refund sets it
    full = fake.charge_refunded_object(pi, amount_refunded=3000)
    assert full["refunded"] is True and full["id"].startswith("ch_")

    payload = json.dumps(fake.make_event("charge.refunded", full)).encode()
    event = stripe.Webhook.construct_event(payload, sign_payload(payload, SECRET), SECRET)
    assert isinstance(event.data.object, stripe.Charge)
    assert event.data.object.payment_intent == pi


# -- form decoding ------------------------------------------------------------------------------


def test_parse_nested_rebuilds_lists_and_dicts() -> None:
    pairs = [
        ("line_items[0][price_data][unit_amount]", "1250"),
        ("line_items[0][quantity]", "2"),
        ("line_items[1][quantity]", "1"),
        ("metadata[order_id]", "42"),
        ("payment_method_types[]", "card"),
        ("mode", "payment"),
    ]
    assert parse_nested(pairs) == {
        "line_items": [{"price_data": {"unit_amount": "1250"}, "quantity": "2"}, {"quantity": "1"}],
        "metadata": {"order_id": "42"},
        "payment_method_types": ["card"],
        "mode": "payment",
    }
    with pytest.raises(ValueError):
        parse_nested([("a", "1"), ("a[b]", "2")])


def test_format_amount_writes_money_as_stripe_errors_do() -> None:
    assert format_amount(2000, "EUR") == "€20.00"
    assert format_amount(5, "usd") == "$0.05"
    assert format_amount(500, "jpy") == "¥500"  # a zero-decimal currency
    assert format_amount(1234, "chf") == "12.34 CHF"


def test_reset_forgets_coupons_refunds_and_events(fake: FakeStripe, client: stripe.StripeClient) -> None:
    client.v1.coupons.create(params={"percent_off": 10})
    client.v1.refunds.create(params={"payment_intent": paid_payment_intent(fake, client)})
    assert fake.coupons and fake.refunds and fake.events and fake.shipping_rates == {}

    fake.reset()

    assert (fake.coupons, fake.refunds, fake.events, fake.sessions, fake.payment_intents) == ({}, {}, [], {}, {})
