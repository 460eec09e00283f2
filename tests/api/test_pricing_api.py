"""The money side of the JSON API: the cart's and the order's price breakdown, shipping methods, discount codes (in the
cart and managed by staff) and staff refunds. Every amount comes from the shop's one calculation; the API only shows
it."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from cart.models import Cart
from cart.selectors import cart_for_user
from orders.models import Order, OrderLine, OrderStatus, Refund, RefundStatus
from payments.exceptions import PaymentGatewayError
from payments.gateways import DemoGateway
from payments.services import pay_demo_session, start_payment
from pricing.models import DiscountCode, DiscountRedemption
from pricing.selectors import price
from shop.money import format_money
from tests.api.conftest import People
from tests.factories import CategoryFactory, ItemFactory
from tests.orders.helpers import fill_cart, place, stock_of

pytestmark = pytest.mark.django_db

SITE = "http://testserver/"
ADDRESS = {"name": "Ann Buyer", "line1": "1 Main Street", "postal_code": "10115", "city": "Berlin", "country": "DE"}
OWNER_TABLE = [("anonymous", 401), ("buyer", 200), ("other_buyer", 404), ("seller", 404), ("staff", 200)]
STAFF_TABLE = [("anonymous", 401), ("buyer", 403), ("seller", 403), ("staff", None)]


@pytest.fixture
def people(db) -> People:
    return People()


@pytest.fixture
def kettle(db):
    return ItemFactory(title="Kettle", price_minor=1999, stock=10)


@pytest.fixture
def cups(db):
    return ItemFactory(title="Cups", price_minor=333, stock=10)


@pytest.fixture
def welcome(db) -> DiscountCode:
    return DiscountCode.objects.create(code="WELCOME10", kind="percent", value=10)


def _cart_url(user, suffix: str = "") -> str:
    return f"/api/carts/{user.pk}{suffix}"


def _expected(user, **choices):
    """What the shop's one calculation says for the user's cart now."""
    return price(lines=[line for line in cart_for_user(user=user).lines if line.item.is_active], **choices)


# -- the cart's breakdown ---------------------------------------------------------------------------------------------


def test_the_cart_json_shows_the_one_price_calculation(people, rates, zones, kettle, cups, welcome):
    fill_cart(people.buyer, (kettle, 1), (cups, 3))
    Cart.objects.filter(user_id=people.buyer.pk).update(discount_code="WELCOME10")
    expected = _expected(people.buyer, code="WELCOME10")

    body = people.client("buyer").get(_cart_url(people.buyer)).json()

    assert expected.discount_minor > 0 and expected.shipping_minor == 490 and expected.tax_minor > 0
    assert body["subtotal"] == expected.subtotal_minor == 1999 + 3 * 333
    assert body["discount"] == {"code": "WELCOME10", "amount": expected.discount_minor}
    assert body["discount_problem"] == ""
    assert body["shipping"] == {
        "method": "Standard",
        "method_id": str(zones["standard"].pk),
        "amount": 490,
        "tax": expected.shipping_tax_minor,
    }
    assert body["tax"] == expected.tax_minor
    assert body["taxes"] == [{"rate": rate, "amount": amount} for rate, amount in expected.taxes]
    assert body["taxes"][0]["rate"] == 1900
    assert body["total"] == expected.total_minor
    assert (body["country"], body["prices_include_tax"], body["currency"], body["count"]) == ("DE", True, "EUR", 4)
    assert [line["line_total"] for line in body["lines"]] == [1999, 999]  # the lines as before


def test_the_cart_estimates_shipping_and_vat_for_the_country_asked(people, rates, zones, kettle):
    fill_cart(people.buyer, (kettle, 1))
    client = people.client("buyer")

    austria = client.get(_cart_url(people.buyer), {"country": "at"}).json()
    italy = client.get(_cart_url(people.buyer), {"country": "IT"}).json()  # no method serves it, no rate loaded

    assert austria["country"] == "AT" and austria["shipping"]["method"] == "EU Standard"
    assert austria["shipping"]["amount"] == 990 and austria["taxes"][0]["rate"] == 2000
    assert austria["total"] == _expected(people.buyer, country="AT").total_minor == 1999 + 990
    assert italy["shipping"] is None and italy["tax"] == 0 and italy["total"] == 1999


def test_shipping_is_free_in_the_cart_from_the_methods_threshold(people, rates, zones, kettle):
    fill_cart(people.buyer, (kettle, 3))  # 59.97, over Standard's 50.00
    body = people.client("buyer").get(_cart_url(people.buyer)).json()
    assert body["shipping"]["method"] == "Standard" and body["shipping"]["amount"] == 0
    assert body["total"] == body["subtotal"] == 5997


def test_an_empty_cart_costs_nothing_not_even_shipping(people, rates, zones):
    body = people.client("buyer").get(_cart_url(people.buyer)).json()
    assert (body["subtotal"], body["discount"], body["shipping"], body["tax"], body["taxes"], body["total"]) == (
        0, None, None, 0, [], 0
    )  # fmt: skip


@pytest.mark.parametrize("query", [{"country": "XX"}, {"country": "DEU"}, {"country": ""}, {"country": "1"},
                                   {"country": "EU"}, {"colour": "red"}])  # fmt: skip
def test_a_bad_country_for_the_cart_answers_400(people, kettle, query):
    fill_cart(people.buyer, (kettle, 1))
    response = people.client("buyer").get(_cart_url(people.buyer), query)
    assert response.status_code == 400
    assert set(response.json()) == {next(iter(query))}


# -- discount codes in the cart ---------------------------------------------------------------------------------------


def test_a_code_is_applied_to_the_cart_and_removed(people, rates, zones, kettle, welcome):
    fill_cart(people.buyer, (kettle, 2))
    client = people.client("buyer")

    applied = client.post(_cart_url(people.buyer, "/discount"), {"code": " welcome10 "}, format="json")

    assert applied.status_code == 200
    expected = _expected(people.buyer, code="WELCOME10")
    assert applied.json()["discount"] == {"code": "WELCOME10", "amount": 400} and expected.discount_minor == 400
    assert applied.json()["total"] == expected.total_minor
    assert cart_for_user(user=people.buyer).discount_code == "WELCOME10"
    removed = client.delete(_cart_url(people.buyer, "/discount/"))
    assert removed.status_code == 200 and removed.json()["discount"] is None
    assert removed.json()["total"] == _expected(people.buyer).total_minor
    assert cart_for_user(user=people.buyer).discount_code == ""


def test_a_code_that_no_longer_applies_is_shown_with_why_and_left_out_of_the_totals(
    people, rates, zones, kettle, welcome
):
    fill_cart(people.buyer, (kettle, 1))
    client = people.client("buyer")
    client.post(_cart_url(people.buyer, "/discount"), {"code": "WELCOME10"}, format="json")
    DiscountCode.objects.filter(pk=welcome.pk).update(ends_at=timezone.now() - timedelta(minutes=1))

    body = client.get(_cart_url(people.buyer)).json()

    assert body["discount"] is None and body["discount_problem"] == "The code WELCOME10 has expired."
    assert body["total"] == _expected(people.buyer).total_minor == 1999 + 490


def test_a_free_shipping_code_shows_as_a_zero_discount_and_free_shipping(people, rates, zones, kettle):
    DiscountCode.objects.create(code="FREESHIP", kind="free_shipping")
    fill_cart(people.buyer, (kettle, 1))
    body = people.client("buyer").post(_cart_url(people.buyer, "/discount"), {"code": "FREESHIP"}, format="json").json()
    assert body["discount"] == {"code": "FREESHIP", "amount": 0}
    assert body["shipping"]["amount"] == 0 and body["total"] == 1999


def _refused_codes() -> dict[str, str]:
    now = timezone.now()
    other = CategoryFactory()
    make = DiscountCode.objects.create
    make(code="OLD", value=10, ends_at=now - timedelta(days=1))
    make(code="SOON", value=10, starts_at=now + timedelta(days=1))
    make(code="GONE", value=10, usage_limit=3, used_count=3)
    make(code="BIG", value=10, min_subtotal_minor=100_000)
    make(code="TEA", value=10).categories.set([other])
    return {"NOPE": "unknown", "OLD": "expired", "SOON": "not_started", "GONE": "used_up", "BIG": "below_minimum",
            "TEA": "not_for_these_items"}  # fmt: skip


def test_a_code_that_cannot_be_used_answers_400_with_the_reason_and_leaves_the_cart_as_it_was(people, kettle, welcome):
    fill_cart(people.buyer, (kettle, 1))
    client = people.client("buyer")
    client.post(_cart_url(people.buyer, "/discount"), {"code": "WELCOME10"}, format="json")

    for text, reason in _refused_codes().items():
        response = client.post(_cart_url(people.buyer, "/discount"), {"code": text.lower()}, format="json")

        body = response.json()
        assert response.status_code == 400, text
        assert body["code"] == "discount_refused" and body["extra"]["reason"] == reason, text
        assert text in body["message"] and body["detail"] == body["message"]
        assert cart_for_user(user=people.buyer).discount_code == "WELCOME10"
    below = client.post(_cart_url(people.buyer, "/discount"), {"code": "BIG"}, format="json").json()
    assert format_money(100_000) in below["message"]


@pytest.mark.parametrize(
    "body", [{}, {"code": ""}, {"code": "   "}, {"code": None}, {"code": True}, {"code": ["A"]}, {"code": "A" * 41},
             {"code": "WELCOME10", "colour": "red"}, [], "WELCOME10"],
)  # fmt: skip
def test_bad_discount_input_answers_400_and_changes_nothing(people, kettle, welcome, body):
    fill_cart(people.buyer, (kettle, 1))
    response = people.client("buyer").post(_cart_url(people.buyer, "/discount"), body, format="json")
    assert response.status_code == 400
    assert cart_for_user(user=people.buyer).discount_code == ""


def test_a_discount_body_that_is_not_json_answers_415(people, kettle, welcome):
    fill_cart(people.buyer, (kettle, 1))
    response = people.client("buyer").post(
        _cart_url(people.buyer, "/discount"), data="code=WELCOME10", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415


def test_a_code_for_an_empty_cart_answers_409(people, welcome):
    response = people.client("buyer").post(_cart_url(people.buyer, "/discount"), {"code": "WELCOME10"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "cart_empty"


@pytest.mark.parametrize(("caller", "expected"), OWNER_TABLE)
def test_a_carts_code_is_for_its_owner_or_staff(people, kettle, welcome, caller, expected):
    fill_cart(people.buyer, (kettle, 1))
    client = people.client(caller)
    response = client.post(_cart_url(people.buyer, "/discount"), {"code": "WELCOME10"}, format="json")
    assert response.status_code == expected
    assert cart_for_user(user=people.buyer).discount_code == ("WELCOME10" if expected == 200 else "")
    Cart.objects.filter(user_id=people.buyer.pk).update(discount_code="WELCOME10")
    assert client.delete(_cart_url(people.buyer, "/discount")).status_code == expected
    assert cart_for_user(user=people.buyer).discount_code == ("" if expected == 200 else "WELCOME10")


# -- shipping methods -------------------------------------------------------------------------------------------------


def test_shipping_methods_for_a_country_are_public_and_cheapest_first(anon, zones):
    response = anon.get("/api/shipping-methods", {"country": "de"})
    assert response.status_code == 200
    assert response.json() == [
        {"id": str(zones["standard"].pk), "name": "Standard", "price": 490, "currency": "EUR", "free_over": 5000,
         "estimate": "2-3 days"},
        {"id": str(zones["express"].pk), "name": "Express", "price": 1290, "currency": "EUR", "free_over": None,
         "estimate": "1 day"},
    ]  # fmt: skip
    assert [method["name"] for method in anon.get("/api/shipping-methods/", {"country": "FR"}).json()] == [
        "EU Standard"
    ]


@pytest.mark.parametrize("country", ["IT", "JP", "us"])
def test_a_country_nothing_serves_has_no_shipping_methods(anon, zones, country):
    response = anon.get("/api/shipping-methods", {"country": country})
    assert response.status_code == 200 and response.json() == []


@pytest.mark.parametrize(
    "query", [{}, {"country": ""}, {"country": "XX"}, {"country": "ZZ"}, {"country": "DEU"}, {"country": "D"},
              {"country": "1E"}, {"country": "DE", "weight": "5"}],
)  # fmt: skip
def test_a_missing_or_unknown_country_answers_400(anon, zones, query):
    response = anon.get("/api/shipping-methods", query)
    assert response.status_code == 400
    if "weight" in query:
        assert response.json() == {"weight": ["Unknown field."]}
    else:
        assert list(response.json()) == ["country"]


# -- orders carry their frozen breakdown ------------------------------------------------------------------------------


def test_an_order_placed_with_a_code_and_shipping_shows_the_breakdown_it_stored(people, rates, zones, kettle, cups):
    DiscountCode.objects.create(code="FIVE", kind="fixed", value=500)
    fill_cart(people.buyer, (kettle, 1), (cups, 3))
    express = str(zones["express"].pk)
    expected = _expected(people.buyer, country="DE", shipping_method_id=express, code="FIVE")

    response = people.client("buyer").post(
        "/api/orders",
        {"shipping_address": ADDRESS, "shipping_method": express, "discount_code": "five"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    order = Order.objects.get(pk=body["id"])
    assert (order.total_minor, order.discount_code, order.shipping_method) == (expected.total_minor, "FIVE", "Express")
    assert body["subtotal"] == order.subtotal_minor == expected.subtotal_minor
    assert body["discount"] == {"code": "FIVE", "amount": order.discount_minor} and order.discount_minor == 500
    assert body["shipping"] == {
        "method": "Express",
        "amount": order.shipping_minor,
        "tax": order.shipping_tax_minor,
        "tax_rate": 1900,
    }
    assert order.shipping_minor == 1290 and order.shipping_tax_minor == expected.shipping_tax_minor
    assert body["tax"] == order.tax_minor == expected.tax_minor
    assert body["taxes"] == [{"rate": rate, "amount": amount} for rate, amount in order.taxes]
    assert body["taxes"] == [{"rate": rate, "amount": amount} for rate, amount in expected.taxes]
    assert body["total"] == order.total_minor and body["refunded"] == 0 and body["prices_include_tax"] is True
    lines = {str(line.pk): line for line in OrderLine.objects.filter(order=order)}
    assert len(body["lines"]) == 2
    for line in body["lines"]:
        stored = lines[line["id"]]
        assert (line["discount"], line["tax_rate"], line["tax"], line["refunded_quantity"], line["refunded"]) == (
            stored.discount_minor, stored.tax_rate_bp, stored.tax_minor, 0, 0
        )  # fmt: skip
    assert sum(line["discount"] for line in body["lines"]) == 500
    assert DiscountCode.objects.get(code="FIVE").used_count == 1
    shown = people.client("buyer").get(f"/api/orders/{order.pk}").json()
    listed = people.client("buyer").get(f"/api/orders/user/{people.buyer.pk}").json()["results"][0]
    for other in (shown, listed):
        assert other == body


def test_an_order_uses_the_code_applied_in_the_cart_unless_it_names_another(people, rates, zones, kettle, welcome):
    client = people.client("buyer")
    fill_cart(people.buyer, (kettle, 1))
    client.post(_cart_url(people.buyer, "/discount"), {"code": "WELCOME10"}, format="json")
    with_code = client.post("/api/orders", {}, format="json").json()
    fill_cart(people.buyer, (kettle, 1))
    client.post(_cart_url(people.buyer, "/discount"), {"code": "WELCOME10"}, format="json")
    without = client.post("/api/orders", {"discount_code": ""}, format="json").json()

    assert with_code["discount"] == {"code": "WELCOME10", "amount": 200}
    assert with_code["shipping"] == {"method": "Standard", "amount": 490, "tax": 78, "tax_rate": 1900}
    assert without["discount"] is None and without["total"] == 1999 + 490


def test_an_order_without_shipping_methods_in_the_shop_has_no_shipping(people, kettle):
    fill_cart(people.buyer, (kettle, 1))
    body = people.client("buyer").post("/api/orders", {}, format="json").json()
    assert body["shipping"] is None and body["discount"] is None and body["taxes"] == [] and body["total"] == 1999


@pytest.mark.parametrize(
    ("body", "code"),
    [({"shipping_method": "abc"}, None), ({"shipping_method": 10**30}, None), ({"shipping_method": True}, None),
     ({"shipping_method": ["1"]}, None), ({"discount_code": "A" * 41}, None), ({"discount_code": None}, None),
     ({"discount_code": {"code": "X"}}, None), ({"discount_code": "NOPE"}, "discount_refused"),
     ({"shipping_address": {**ADDRESS, "country": "JP"}}, None), ({"coupon": "X"}, None),
     ({"shipping_address": {**ADDRESS, "country": "IT"}}, "shipping_unavailable"), ("europe", "shipping_unavailable")],
)  # fmt: skip
def test_bad_order_input_answers_400_and_orders_nothing(people, rates, zones, kettle, body, code):
    if body == "europe":  # a method of another zone than the address's
        body = {"shipping_address": ADDRESS, "shipping_method": str(zones["europe"].pk)}
    fill_cart(people.buyer, (kettle, 2))
    response = people.client("buyer").post("/api/orders", body, format="json")
    assert response.status_code == 400
    if code:
        assert response.json()["code"] == code and response.json()["message"]
    assert not Order.objects.exists() and stock_of(kettle) == 10
    assert len(cart_for_user(user=people.buyer).lines) == 1 and DiscountRedemption.objects.count() == 0


# -- refunds ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def paid(people, rates, zones, kettle, cups) -> Order:
    """Two kettles and three cups, ordered over the API with shipping and paid through the demo gateway."""
    fill_cart(people.buyer, (kettle, 2), (cups, 3))
    placed = people.client("buyer").post("/api/orders", {"shipping_address": ADDRESS}, format="json").json()
    payment = start_payment(order=Order.objects.get(pk=placed["id"]), site_url=SITE)
    pay_demo_session(session_id=payment.session_id)
    order = Order.objects.get(pk=placed["id"])
    assert order.status == OrderStatus.PAID
    return order


def _line(order: Order, item) -> OrderLine:
    return OrderLine.objects.get(order=order, item_id=item.pk)


def test_staff_refund_one_unit_of_a_line_over_the_api_and_put_it_back_in_stock(people, paid, kettle):
    line = _line(paid, kettle)
    staff = people.client("staff")

    response = staff.post(
        f"/api/orders/{paid.pk}/refunds",
        {"lines": [{"line": str(line.pk), "quantity": 1}], "restock": True, "note": "dented"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    refund = Refund.objects.get(order=paid)
    assert body["amount"] == refund.amount_minor == 1999 and body["status"] == "done" == RefundStatus.DONE
    assert (body["id"], body["order"], body["restock"], body["note"]) == (str(refund.pk), str(paid.pk), True, "dented")
    assert body["lines"] == [{"line": str(line.pk), "quantity": 1, "amount": 1999}]
    assert body["created_at"] and body["completed_at"]
    order = people.client("buyer").get(f"/api/orders/{paid.pk}").json()
    assert order["status"] == "partially_refunded" and order["refunded"] == 1999
    refunded_line = next(row for row in order["lines"] if row["id"] == str(line.pk))
    assert (refunded_line["refunded_quantity"], refunded_line["refunded"]) == (1, 1999)
    assert stock_of(kettle) == 9  # 10, 2 sold, 1 back
    assert people.client("buyer").get(f"/api/orders/{paid.pk}/refunds").json() == [body]


def test_staff_refund_an_amount_over_the_api(people, paid):
    response = people.client("staff").post(f"/api/orders/{paid.pk}/refunds/", {"amount": 250}, format="json")
    assert response.status_code == 201
    assert (response.json()["amount"], response.json()["lines"], response.json()["restock"]) == (250, [], False)
    paid.refresh_from_db()
    assert paid.refunded_minor == 250 and paid.status == OrderStatus.PARTIALLY_REFUNDED


@pytest.mark.parametrize(("caller", "expected"), [("anonymous", 401), ("buyer", 403), ("seller", 403)])
def test_only_staff_refund(people, paid, caller, expected):
    response = people.client(caller).post(f"/api/orders/{paid.pk}/refunds", {"amount": 100}, format="json")
    assert response.status_code == expected
    assert not Refund.objects.exists()


@pytest.mark.parametrize(
    ("caller", "expected"), [("anonymous", 401), ("buyer", 200), ("other_buyer", 404), ("seller", 404), ("staff", 200)]
)
def test_an_orders_refunds_are_listed_to_its_buyer_and_staff(people, paid, caller, expected):
    people.client("staff").post(f"/api/orders/{paid.pk}/refunds", {"amount": 100}, format="json")
    response = people.client(caller).get(f"/api/orders/{paid.pk}/refunds")
    assert response.status_code == expected
    if expected == 200:
        assert [refund["amount"] for refund in response.json()] == [100]


def test_refunds_of_an_unknown_order_answer_404(people):
    staff = people.client("staff")
    unknown = "f" * 24 if settings.USE_MONGODB else "999999"  # well-formed, but no such order
    for url in ("/api/orders/abc/refunds", f"/api/orders/{unknown}/refunds", "/api/orders/0/refunds"):
        assert staff.post(url, {"amount": 1}, format="json").status_code == 404
        assert staff.get(url).status_code == 404


def _with_line(value, line: str):
    """`value` with each "L" replaced by the line's id."""
    if isinstance(value, dict):
        return {key: _with_line(item, line) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_line(item, line) for item in value]
    return line if value == "L" else value


@pytest.mark.parametrize(
    "body",
    [{}, {"amount": 0}, {"amount": -5}, {"amount": 10**30}, {"amount": "5"}, {"amount": 2.5}, {"amount": True},
     {"amount": None}, {"lines": []}, {"lines": None}, {"lines": "all"}, {"lines": [1]},
     {"amount": 1, "lines": [{"line": "L", "quantity": 1}]},
     {"lines": [{"line": "abc", "quantity": 1}]}, {"lines": [{"line": "L", "quantity": 0}]},
     {"lines": [{"line": "L"}]}, {"lines": [{"line": "L", "quantity": 10**30}]},
     {"lines": [{"line": "L", "quantity": 1, "price": 1}]}, {"lines": [{"line": "L", "quantity": "1"}]},
     {"amount": 1, "restock": "yes"}, {"amount": 1, "restock": True}, {"amount": 1, "note": "x" * 201},
     {"amount": 1, "colour": "red"}, [], "refund"],
)  # fmt: skip
def test_bad_refund_input_answers_400_and_refunds_nothing(people, paid, kettle, body):
    body = _with_line(body, str(_line(paid, kettle).pk))
    response = people.client("staff").post(f"/api/orders/{paid.pk}/refunds", body, format="json")
    assert response.status_code == 400, response.json()
    paid.refresh_from_db()
    assert paid.refunded_minor == 0 and not Refund.objects.exists() and stock_of(kettle) == 8


def test_a_refund_the_order_cannot_take_answers_400_and_refunds_nothing(people, paid, kettle, cups):
    other = place(people.other_buyer, (kettle, 1))
    staff = people.client("staff")
    url = f"/api/orders/{paid.pk}/refunds"
    too_much = staff.post(url, {"amount": paid.total_minor + 1}, format="json")
    too_many = staff.post(url, {"lines": [{"line": str(_line(paid, cups).pk), "quantity": 4}]}, format="json")
    foreign = staff.post(url, {"lines": [{"line": str(_line(other, kettle).pk), "quantity": 1}]}, format="json")

    for response in (too_much, too_many, foreign):
        assert response.status_code == 400 and response.json()["code"] == "refund_refused"
        assert response.json()["message"]
    paid.refresh_from_db()
    assert paid.refunded_minor == 0 and not Refund.objects.exists()
    assert OrderLine.objects.get(pk=_line(paid, cups).pk).refunded_quantity == 0


def test_refunding_an_unpaid_order_answers_409(people, kettle):
    order = place(people.buyer, (kettle, 1))
    response = people.client("staff").post(f"/api/orders/{order.pk}/refunds", {"amount": 1}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"
    assert not Refund.objects.exists()


@pytest.mark.parametrize(("retryable", "expected", "status"), [(False, 502, "failed"), (True, 503, "pending")])
def test_a_gateway_failure_answers_with_a_generic_message(people, paid, monkeypatch, retryable, expected, status):
    def refuse(self, **kwargs):
        raise PaymentGatewayError(
            "secret provider text", retryable=retryable, gateway_error="CardError", detail="secret provider text"
        )

    monkeypatch.setattr(DemoGateway, "refund", refuse)

    response = people.client("staff").post(f"/api/orders/{paid.pk}/refunds", {"amount": 300}, format="json")

    assert response.status_code == expected
    assert "secret" not in response.content.decode() and "CardError" not in response.content.decode()
    assert response.json()["message"]
    refund = Refund.objects.get(order=paid)
    paid.refresh_from_db()
    assert refund.status == status and paid.refunded_minor == (0 if status == "failed" else 300)


# -- staff manage discount codes --------------------------------------------------------------------------------------


def test_staff_create_read_change_and_delete_a_discount_code(people):
    tea = CategoryFactory(slug="tea")
    staff = people.client("staff")
    fields = {"code": "summer-5", "kind": "fixed", "value": 500, "min_subtotal": 2000,
              "starts_at": "2030-06-01T00:00:00Z", "ends_at": "2030-09-01T00:00:00Z", "usage_limit": 100,
              "per_customer_limit": 1, "categories": ["tea", "tea"], "is_active": True}  # fmt: skip

    created = staff.post("/api/discount-codes", fields, format="json")

    assert created.status_code == 201
    body = created.json()
    code = DiscountCode.objects.get(pk=body["id"])
    assert body["code"] == code.code == "SUMMER-5" and body["used_count"] == 0 and body["categories"] == ["tea"]
    assert (body["kind"], body["value"], body["min_subtotal"], body["usage_limit"], body["per_customer_limit"]) == (
        "fixed", 500, 2000, 100, 1
    )  # fmt: skip
    assert list(code.categories.all()) == [tea] and code.min_subtotal_minor == 2000
    assert body["starts_at"].startswith("2030-06-01") and body["created_at"]
    url = f"/api/discount-codes/{code.pk}"
    assert staff.get(url).json() == body
    assert [row["code"] for row in staff.get("/api/discount-codes").json()["results"]] == ["SUMMER-5"]
    assert staff.get("/api/discount-codes").json()["results"][0]["categories"] == ["tea"]

    patched = staff.patch(url, {"value": 700, "categories": []}, format="json").json()
    assert (patched["value"], patched["categories"], patched["min_subtotal"]) == (700, [], 2000)

    put = staff.put(url + "/", {"code": "Summer-7", "kind": "percent", "value": 7, "ends_at": None}, format="json")
    assert put.status_code == 200
    assert (put.json()["code"], put.json()["kind"], put.json()["ends_at"], put.json()["usage_limit"]) == (
        "SUMMER-7", "percent", None, 100
    )  # fmt: skip

    assert staff.delete(url).status_code == 204
    assert staff.get(url).status_code == 404 and not DiscountCode.objects.exists()


@pytest.mark.parametrize(("caller", "expected"), STAFF_TABLE)
def test_only_staff_manage_discount_codes(people, welcome, caller, expected):
    client = people.client(caller)
    url = f"/api/discount-codes/{welcome.pk}"
    answers = [
        client.get("/api/discount-codes"),
        client.post("/api/discount-codes", {"code": "X", "kind": "percent", "value": 5}, format="json"),
        client.get(url),
        client.put(url, {"code": "Y", "kind": "percent", "value": 5}, format="json"),
        client.patch(url, {"value": 50}, format="json"),
        client.delete(url),
    ]
    if expected is None:
        assert [answer.status_code for answer in answers] == [200, 201, 200, 200, 200, 204]
    else:
        assert {answer.status_code for answer in answers} == {expected}
        assert list(DiscountCode.objects.values_list("code", "value")) == [("WELCOME10", 10)]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"kind": "percent", "value": 0}, "value"), ({"kind": "percent", "value": 101}, "value"),
     ({"kind": "fixed", "value": 0}, "value"), ({"value": "5"}, "value"), ({"value": 2.5}, "value"),
     ({"value": 10**30}, "value"), ({"value": -1}, "value"), ({"value": None}, "value"),
     ({"starts_at": "2030-02-01T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"}, "ends_at"),
     ({"starts_at": "soon"}, "starts_at"), ({"starts_at": "9999-12-31T23:59:59-12:00"}, "starts_at"),
     ({"starts_at": 5}, "starts_at"), ({"kind": "bogus"}, "kind"), ({"code": ""}, "code"),
     ({"code": "two words"}, "code"), ({"code": "A" * 41}, "code"), ({"code": "welcome10"}, "code"),
     ({"code": None}, "code"), ({"min_subtotal": -1}, "min_subtotal"), ({"min_subtotal": 10**12}, "min_subtotal"),
     ({"usage_limit": -1}, "usage_limit"), ({"per_customer_limit": 0}, "per_customer_limit"),
     ({"categories": ["no-such"]}, "categories"), ({"categories": "tea"}, "categories"),
     ({"categories": [5]}, "categories"), ({"is_active": "yes"}, "is_active"), ({"used_count": 3}, "used_count"),
     ({"id": "1"}, "id"), ({"colour": "red"}, "colour")],
)  # fmt: skip
def test_bad_discount_codes_answer_400_with_field_errors_and_store_nothing(people, welcome, body, field):
    other = DiscountCode.objects.create(code="OTHER", kind="percent", value=5)
    staff = people.client("staff")
    fields = {"code": "NEW", "kind": "percent", "value": 5, **body}

    created = staff.post("/api/discount-codes", fields, format="json")
    changed = staff.patch(f"/api/discount-codes/{other.pk}", {key: fields[key] for key in body}, format="json")

    for response in (created, changed):
        assert response.status_code == 400
        assert field in response.json(), response.json()
    if field == "used_count":
        assert created.json()["used_count"][0].startswith("used_count is read-only: it is 0 here")
    assert list(DiscountCode.objects.values_list("code", "kind", "value")) == [
        ("OTHER", "percent", 5), ("WELCOME10", "percent", 10)
    ]  # fmt: skip


def test_bad_discount_code_bodies_and_ids_are_refused(people, welcome):
    staff = people.client("staff")
    assert staff.post("/api/discount-codes", [], format="json").status_code == 400
    assert staff.post("/api/discount-codes", data="code=X", content_type="text/plain").status_code == 415
    assert staff.put(f"/api/discount-codes/{welcome.pk}", {"value": 5}, format="json").status_code == 400
    for bad in ("abc", "0", "-1", "1" * 30):
        assert staff.get(f"/api/discount-codes/{bad}").status_code == 404
    assert staff.get("/api/discount-codes", {"page": 9}).status_code == 404


def test_a_code_that_orders_used_cannot_be_deleted_409(people, kettle, welcome):
    place(people.buyer, (kettle, 1), discount_code="WELCOME10")
    response = people.client("staff").delete(f"/api/discount-codes/{welcome.pk}")
    assert response.status_code == 409
    assert response.json()["code"] == "discount_code_in_use" and "deactivate" in response.json()["message"]
    assert DiscountCode.objects.filter(pk=welcome.pk).exists()
    deactivated = people.client("staff").patch(f"/api/discount-codes/{welcome.pk}", {"is_active": False}, format="json")
    assert deactivated.status_code == 200 and deactivated.json()["used_count"] == 1
