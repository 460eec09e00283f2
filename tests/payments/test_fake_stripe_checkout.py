"""The fake Stripe server's Checkout Sessions with a price breakdown (line items, shipping, a coupon)
and its coupons, driven through the real stripe library (no database)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from tests.fake_stripe import FakeStripe, sign_payload

SECRET = "whsec_test_secret"


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as server:
        yield server


@pytest.fixture
def client(fake: FakeStripe) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_x", base_addresses={"api": fake.base_url}, max_network_retries=0)


def line(name: str, unit_amount: Any, quantity: Any = 1, currency: str = "eur") -> dict[str, Any]:
    return {
        "price_data": {"currency": currency, "unit_amount": unit_amount, "product_data": {"name": name}},
        "quantity": quantity,
    }


def shipping(amount: Any = 495, currency: str = "eur", name: str = "Standard", **extra: Any) -> dict[str, Any]:
    data = {"type": "fixed_amount", "fixed_amount": {"amount": amount, "currency": currency}, "display_name": name}
    return {"shipping_rate_data": {**data, **extra}}


def breakdown_params(*, coupon: str | None = None, shipping_options: list | None = None, **extra: Any) -> dict:
    """Mug 2 x 12.50 + Tea 1 x 5.00 = 30.00, shipped for 4.95 by default."""
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [line("Mug", 1250, 2), line("Tea", 500)],
        "shipping_options": [shipping()] if shipping_options is None else shipping_options,
        "metadata": {"order_number": "A1"},
        "success_url": "https://shop.test/pay/success?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.test/pay/cancel",
        **extra,
    }
    if coupon is not None:
        params["discounts"] = [{"coupon": coupon}]
    return params


def make_coupon(client: stripe.StripeClient, **params: Any) -> str:
    return client.v1.coupons.create(params={"duration": "once", **params}).id


# -- the breakdown -------------------------------------------------------------------------------


def test_session_with_two_lines_shipping_and_coupon_has_stripes_exact_totals(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    coupon = make_coupon(client, amount_off=700, currency="eur", name="7 off")

    session = client.v1.checkout.sessions.create(params=breakdown_params(coupon=coupon))

    assert session.amount_subtotal == 3000
    assert session.total_details.to_dict() == {"amount_discount": 700, "amount_shipping": 495, "amount_tax": 0}
    assert session.amount_total == 3000 - 700 + 495 == 2795
    assert session.discounts[0].coupon == coupon
    assert session.discounts[0].promotion_code is None
    rate_id = session.shipping_cost.shipping_rate
    assert rate_id.startswith("shr_")
    assert session.shipping_cost.to_dict() == {
        "amount_subtotal": 495,
        "amount_tax": 0,
        "amount_total": 495,
        "shipping_rate": rate_id,
    }
    assert [o.to_dict() for o in session.shipping_options] == [{"shipping_amount": 495, "shipping_rate": rate_id}]
    assert fake.shipping_rates[rate_id]["display_name"] == "Standard"
    assert "line_items" not in session  # Stripe sends them only when asked to expand them

    assert fake.session_breakdown(session.id) == {
        "currency": "eur",
        "line_items": [
            {"name": "Mug", "unit_amount": 1250, "quantity": 2, "amount_subtotal": 2500, "amount_discount": 583,
             "amount_total": 1917},
            {"name": "Tea", "unit_amount": 500, "quantity": 1, "amount_subtotal": 500, "amount_discount": 117,
             "amount_total": 383},
        ],
        "amount_subtotal": 3000,
        "amount_discount": 700,
        "amount_shipping": 495,
        "amount_tax": 0,
        "amount_total": 2795,
        "coupon": coupon,
        "shipping": {"display_name": "Standard", "amount": 495, "shipping_rate": rate_id},
    }  # fmt: skip
    stored = fake.sessions[session.id]
    assert (stored["amount_total"], stored["total_details"]["amount_discount"]) == (2795, 700)
    assert [item["price"]["unit_amount"] for item in stored["line_items"]["data"]] == [1250, 500]


def test_retrieve_shows_the_same_totals_and_expands_line_items(fake: FakeStripe, client: stripe.StripeClient) -> None:
    coupon = make_coupon(client, amount_off=700, currency="eur")
    created = client.v1.checkout.sessions.create(params=breakdown_params(coupon=coupon))

    fetched = client.v1.checkout.sessions.retrieve(created.id)
    assert (fetched.amount_total, fetched.total_details.amount_shipping) == (2795, 495)
    assert "line_items" not in fetched

    expanded = client.v1.checkout.sessions.retrieve(created.id, params={"expand": ["line_items"]})
    items = expanded.line_items.data
    assert [(i.description, i.quantity, i.amount_subtotal) for i in items] == [("Mug", 2, 2500), ("Tea", 1, 500)]
    assert sum(i.amount_discount for i in items) == 700
    assert sum(i.amount_total for i in items) + expanded.total_details.amount_shipping == expanded.amount_total
    assert isinstance(items[0], stripe.LineItem) and isinstance(items[0].price, stripe.Price)
    assert fake.requests[-1].form == {"expand[0]": "line_items"}


def test_line_items_list_pages_like_stripe(client: stripe.StripeClient) -> None:
    params = breakdown_params(line_items=[line(f"Item {n}", 100) for n in range(12)], shipping_options=[])
    session = client.v1.checkout.sessions.create(params=params)

    first = client.v1.checkout.sessions.line_items.list(session.id)
    assert (len(first.data), first.has_more) == (10, True)  # Stripe's default page size
    names = [item.description for item in first.auto_paging_iter()]
    assert names == [f"Item {n}" for n in range(12)]
    second = client.v1.checkout.sessions.line_items.list(
        session.id, params={"limit": 5, "starting_after": first.data[9].id}
    )
    assert ([i.description for i in second.data], second.has_more) == (["Item 10", "Item 11"], False)


def test_percent_off_coupon_rounds_half_up_and_spares_shipping(fake: FakeStripe, client: stripe.StripeClient) -> None:
    coupon = make_coupon(client, percent_off=10)
    params = breakdown_params(coupon=coupon, line_items=[line("Mug", 1995), line("Tea", 1000)])

    session = client.v1.checkout.sessions.create(params=params)

    # 10% of 29.95 is 2.995: a whole cent, rounded half up; shipping is never discounted.
    assert (session.amount_subtotal, session.total_details.amount_discount) == (2995, 300)
    assert session.amount_total == 2995 - 300 + 495
    assert client.v1.coupons.retrieve(coupon).percent_off == 10.0


def test_amount_off_larger_than_the_items_takes_off_at_most_the_subtotal(client: stripe.StripeClient) -> None:
    coupon = make_coupon(client, amount_off=5000, currency="eur")

    session = client.v1.checkout.sessions.create(params=breakdown_params(coupon=coupon))

    assert session.total_details.amount_discount == 3000
    assert session.amount_total == 495  # only shipping is left to pay


def test_session_without_shipping_or_discount_has_zero_details(client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(params=breakdown_params(shipping_options=[]))

    assert session.amount_subtotal == session.amount_total == 3000
    assert session.total_details.to_dict() == {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0}
    assert session.shipping_cost is None
    assert list(session.shipping_options) == [] and list(session.discounts) == []


def test_first_shipping_option_is_the_one_charged(client: stripe.StripeClient) -> None:
    options = [shipping(495, name="Standard"), shipping(1500, name="Express")]

    session = client.v1.checkout.sessions.create(params=breakdown_params(shipping_options=options))

    assert [o.shipping_amount for o in session.shipping_options] == [495, 1500]
    assert session.total_details.amount_shipping == session.shipping_cost.amount_total == 495


# -- refusals ------------------------------------------------------------------------------------


def test_missing_coupon_is_stripes_resource_missing(fake: FakeStripe, client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.create(params=breakdown_params(coupon="NOPE"))

    assert info.value.http_status == 400
    assert info.value.code == "resource_missing"
    assert info.value.param == "discounts[0][coupon]"
    assert info.value.user_message == "No such coupon: 'NOPE'"
    assert fake.sessions == {} and fake.shipping_rates == {}


@pytest.mark.parametrize(
    ("params", "param", "message"),
    [
        (
            breakdown_params(line_items=[line("Mug", -1250)]),
            "line_items[0][price_data][unit_amount]",
            "Invalid non-negative integer",
        ),
        (
            breakdown_params(line_items=[line("Mug", "12.50")]),
            "line_items[0][price_data][unit_amount]",
            "Invalid integer: 12.50",
        ),
        (breakdown_params(line_items=[line("Mug", 1250, 0)]), "line_items[0][quantity]", "greater than or equal to 1"),
        (
            breakdown_params(shipping_options=[shipping(-5)]),
            "shipping_options[0][shipping_rate_data][fixed_amount][amount]",
            "Invalid non-negative integer",
        ),
        (
            breakdown_params(shipping_options=[shipping("4.95")]),
            "shipping_options[0][shipping_rate_data][fixed_amount][amount]",
            "Invalid integer: 4.95",
        ),
        (
            breakdown_params(shipping_options=[shipping(type="delivery_estimate")]),
            "shipping_options[0][shipping_rate_data][type]",
            "must be one of fixed_amount",
        ),
        (
            breakdown_params(shipping_options=[{"shipping_rate_data": {"type": "fixed_amount", "display_name": "X"}}]),
            "shipping_options[0][shipping_rate_data][fixed_amount]",
            "Missing required param",
        ),
        (
            breakdown_params(shipping_options=[shipping(currency="usd")]),
            "shipping_options[0][shipping_rate_data][fixed_amount][currency]",
            "currency",
        ),
        (
            breakdown_params(shipping_options=[shipping()] * 6),
            "shipping_options",
            "up to 5",
        ),
        (
            breakdown_params(line_items=[{"price_data": {"currency": "eur", "unit_amount": 1}, "quantity": 1}]),
            "line_items[0][price_data][product_data]",
            "Missing required param",
        ),
    ],
    ids=[
        "negative-unit",
        "decimal-unit",
        "zero-quantity",
        "negative-shipping",
        "decimal-shipping",
        "shipping-type",
        "shipping-without-amount",
        "shipping-currency",
        "six-shipping-options",
        "no-product-name",
    ],
)
def test_malformed_breakdowns_are_invalid_request_errors(
    fake: FakeStripe, client: stripe.StripeClient, params: dict, param: str, message: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.create(params=params)

    assert info.value.http_status == 400
    assert info.value.error.type == "invalid_request_error"
    assert info.value.param == param
    assert message in info.value.user_message
    assert fake.sessions == {} and fake.shipping_rates == {}


def test_non_integer_amount_carries_stripes_error_code(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.create(params=breakdown_params(line_items=[line("Mug", "abc")]))
    assert info.value.code == "parameter_invalid_integer"


def test_amount_off_coupon_in_another_currency_is_refused(client: stripe.StripeClient) -> None:
    coupon = make_coupon(client, amount_off=100, currency="usd")

    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.create(params=breakdown_params(coupon=coupon))
    assert info.value.param == "discounts[0][coupon]"


def test_a_malformed_request_stores_nothing_for_its_idempotency_key(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    # Stripe saves no result when the parameters fail validation, so the fixed retry goes through...
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(
            params=breakdown_params(shipping_options=[shipping(-5)]), options={"idempotency_key": "k"}
        )
    session = client.v1.checkout.sessions.create(params=breakdown_params(), options={"idempotency_key": "k"})
    assert session.amount_total == 3495

    # ...but it does save an endpoint's refusal, such as a coupon that does not exist.
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(params=breakdown_params(coupon="NOPE"), options={"idempotency_key": "k2"})
    make_coupon(client, id="NOPE", amount_off=100, currency="eur")
    with pytest.raises(stripe.InvalidRequestError, match="No such coupon"):
        client.v1.checkout.sessions.create(params=breakdown_params(coupon="NOPE"), options={"idempotency_key": "k2"})
    assert list(fake.sessions) == [session.id]


# -- completion and its event --------------------------------------------------------------------


def test_completed_event_carries_the_breakdown(fake: FakeStripe, client: stripe.StripeClient) -> None:
    coupon = make_coupon(client, amount_off=700, currency="eur")
    session = client.v1.checkout.sessions.create(params=breakdown_params(coupon=coupon))

    completed = fake.complete_session(session.id)

    [event] = fake.events_of("checkout.session.completed")
    assert event["data"]["object"] == completed
    payload = json.dumps(event)
    parsed = stripe.Webhook.construct_event(payload, sign_payload(payload, SECRET), SECRET)
    obj = parsed.data.object
    assert isinstance(obj, stripe.checkout.Session)
    assert (obj.amount_subtotal, obj.amount_total, obj.payment_status) == (3000, 2795, "paid")
    assert obj.total_details.to_dict() == {"amount_discount": 700, "amount_shipping": 495, "amount_tax": 0}
    assert obj.shipping_cost.amount_total == 495 and obj.discounts[0].coupon == coupon
    assert "line_items" not in obj  # events never carry line items
    assert fake.charge_for(completed["payment_intent"])["amount"] == 2795
    assert client.v1.coupons.retrieve(coupon).times_redeemed == 1


def test_async_payment_records_completed_then_succeeded_events(fake: FakeStripe, client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(params=breakdown_params())

    fake.complete_session(session.id, payment_status="unpaid")
    fake.complete_session(session.id)
    client.v1.checkout.sessions.expire(client.v1.checkout.sessions.create(params=breakdown_params()).id)

    assert [e["type"] for e in fake.events] == [
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.expired",
    ]
    assert fake.events[0]["data"]["object"]["payment_status"] == "unpaid"
    assert fake.events[2]["request"]["id"].startswith("req_")  # caused by the expire call


def test_a_session_totalling_zero_needs_no_payment(fake: FakeStripe, client: stripe.StripeClient) -> None:
    coupon = make_coupon(client, percent_off=100)
    session = client.v1.checkout.sessions.create(params=breakdown_params(coupon=coupon, shipping_options=[]))

    completed = fake.complete_session(session.id)

    assert session.amount_total == 0
    assert (completed["payment_status"], completed["payment_intent"]) == ("no_payment_required", None)


# -- coupons -------------------------------------------------------------------------------------


def test_module_level_coupon_create_and_retrieve(fake: FakeStripe, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stripe, "api_key", "sk_test_x")
    monkeypatch.setattr(stripe, "api_base", fake.base_url)
    monkeypatch.setattr(stripe, "max_network_retries", 0)

    coupon = stripe.Coupon.create(amount_off=500, currency="EUR", duration="once", name="Welcome")

    assert isinstance(coupon, stripe.Coupon)
    assert (coupon.amount_off, coupon.currency, coupon.percent_off, coupon.duration) == (500, "eur", None, "once")
    assert (coupon.name, coupon.valid, coupon.times_redeemed) == ("Welcome", True, 0)
    assert stripe.Coupon.retrieve(coupon.id).to_dict() == coupon.to_dict() == fake.coupons[coupon.id]
    percent = stripe.Coupon.create(percent_off=12.5, id="SPRING")
    assert (percent.id, percent.percent_off, percent.amount_off, percent.duration) == ("SPRING", 12.5, None, "once")


def test_unknown_coupon_retrieve_is_404(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.coupons.retrieve("NOPE")
    assert (info.value.http_status, info.value.code) == (404, "resource_missing")


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"amount_off": 100, "percent_off": 10, "currency": "eur"}, "amount_off"),
        ({"name": "nothing off"}, "percent_off"),
        ({"amount_off": 100}, "currency"),
        ({"amount_off": 0, "currency": "eur"}, "amount_off"),
        ({"amount_off": "1.5", "currency": "eur"}, "amount_off"),
        ({"percent_off": 0}, "percent_off"),
        ({"percent_off": 100.5}, "percent_off"),
        ({"percent_off": "lots"}, "percent_off"),
        ({"percent_off": 10, "duration": "sometimes"}, "duration"),
        ({"percent_off": 10, "duration": "repeating"}, "duration_in_months"),
    ],
)
def test_malformed_coupons_are_refused(fake: FakeStripe, client: stripe.StripeClient, params: dict, param: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.coupons.create(params=params)
    assert (info.value.http_status, info.value.param) == (400, param)
    assert fake.coupons == {}


def test_coupon_ids_are_unique(client: stripe.StripeClient) -> None:
    make_coupon(client, id="TEN", percent_off=10)
    with pytest.raises(stripe.InvalidRequestError) as info:
        make_coupon(client, id="TEN", percent_off=20)
    assert info.value.code == "resource_already_exists"
