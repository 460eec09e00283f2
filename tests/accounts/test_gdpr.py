"""Issue 14, GDPR: a shopper (or staff on their request) exports their data and deletes their account; personal data
is erased or anonymised, orders are kept for the accounts, sessions and tokens end."""

import json

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth import authenticate
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Address
from accounts.services import erased_email
from cart.selectors import CartOwner, cart_for_user
from cart.services import add_to_cart
from orders.models import Order, OrderEvent, OrderLine, Refund
from pricing.models import DiscountCode, DiscountRedemption
from tests.api.conftest import client_for
from tests.factories import PASSWORD, AddressFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accounts_user_changelist")


def _order(*, buyer, number: str, email: str, **fields) -> Order:
    order = Order.objects.create(
        number=number,
        checkout_token=f"token-{number}",
        buyer=buyer,
        email=email,
        status="paid",
        total_minor=2500,
        subtotal_minor=2500,
        tax_minor=399,
        currency="EUR",
        shipping_name="Ann Buyer",
        shipping_line1="1 Main Street",
        shipping_postal_code="10115",
        shipping_city="Berlin",
        shipping_country="DE",
        **fields,
    )
    OrderLine.objects.create(
        order=order, title="Copper Pan", sku="PAN-1", unit_price_minor=2500, quantity=1, line_total_minor=2500
    )
    return order


@pytest.fixture
def ann(make_item):
    """A shopper with a confirmed address, a saved address, a cart line, a paid order with a refund, a guest order
    under her confirmed address, and a TOTP authenticator."""
    user = UserFactory(email="ann@example.com", first_name="Ann", last_name="Buyer")
    EmailAddress.objects.create(user=user, email="ann@example.com", primary=True, verified=True)
    AddressFactory(user=user, is_default=True)
    add_to_cart(owner=CartOwner(user=user), item_id=make_item(title="Kettle", sku="KET-1").pk, quantity=2)
    order = _order(buyer=user, number="A-1", email="ann@example.com")
    Refund.objects.create(order=order, amount_minor=500, status="done")
    OrderEvent.objects.create(order=order, kind="cancelled", actor=user, actor_name="Ann Buyer")
    OrderEvent.objects.create(order=order, kind="email_sent", data={"email": "order_paid", "to": ["ann@example.com"]})
    _order(buyer=None, number="G-1", email="Ann@Example.com")
    DiscountRedemption.objects.create(code=_code(), order_number="A-1", email="ann@example.com")
    Authenticator.objects.create(user=user, type="totp", data={"secret": "not-exported"})
    return user


def _code() -> DiscountCode:
    return DiscountCode.objects.get_or_create(code="TEN", defaults={"kind": "percent", "value": 10})[0]


@pytest.fixture
def stranger(db):
    user = UserFactory(email="zed@example.com")
    _order(buyer=user, number="Z-1", email="zed@example.com")
    DiscountRedemption.objects.create(code=_code(), order_number="Z-1", email="zed@example.com")
    return user


def _assert_full_export(data: dict) -> None:
    assert data["account"]["email"] == "ann@example.com" and data["account"]["first_name"] == "Ann"
    assert data["email_addresses"] == [{"email": "ann@example.com", "verified": True, "primary": True}]
    assert [address["city"] for address in data["addresses"]] == ["Berlin"]
    assert [order["number"] for order in data["orders"]] == ["A-1", "G-1"]  # not the stranger's
    paid = data["orders"][0]
    assert paid["total_minor"] == 2500 and paid["shipping_city"] == "Berlin" and paid["status"] == "paid"
    assert [line["sku"] for line in paid["lines"]] == ["PAN-1"]
    assert paid["payment"]["refunds"][0]["amount_minor"] == 500
    assert "checkout_token" not in paid
    assert data["cart"]["lines"] == [{"sku": "KET-1", "title": "Kettle", "quantity": 2, "unit_price_minor": 1250}]
    assert [authenticator["type"] for authenticator in data["mfa_authenticators"]] == ["totp"]
    assert [(used["code"], used["order_number"]) for used in data["discount_codes_used"]] == [("TEN", "A-1")]
    assert "not-exported" not in json.dumps(data)


def test_a_shopper_downloads_their_data_from_their_account_page(client, ann, stranger):
    client.force_login(ann)
    page = client.get(reverse("accounts:personal_data")).content.decode()
    assert reverse("accounts:personal_data_export") in page and reverse("accounts:delete") in page

    response = client.get(reverse("accounts:personal_data_export"))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="personal-data-')
    assert "no-store" in response["Cache-Control"]
    _assert_full_export(json.loads(response.content))


def test_the_export_page_is_for_signed_in_shoppers(client):
    response = client.get(reverse("accounts:personal_data_export"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_a_shopper_downloads_their_data_through_the_api(ann, stranger):
    response = client_for(ann).get("/api/users/me/export")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    _assert_full_export(response.json())
    assert client_for(ann).get(f"/api/users/{ann.pk}/export").json()["account"]["email"] == "ann@example.com"


@pytest.mark.parametrize(("caller", "expected"), [("anonymous", 401), ("stranger", 404), ("staff", 200)])
def test_only_the_user_and_staff_export_a_users_data(ann, stranger, caller, expected):
    users = {"anonymous": None, "stranger": stranger, "staff": UserFactory(is_staff=True)}
    response = client_for(users[caller]).get(f"/api/users/{ann.pk}/export")
    assert response.status_code == expected
    if expected == 200:
        _assert_full_export(response.json())


def test_the_export_endpoints_are_in_the_openapi_schema():
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    assert "get" in paths["/api/users/me/export"] and "get" in paths["/api/users/{user_id}/export"]


def _assert_erased(user, *, orders_kept: int = 2) -> None:
    user.refresh_from_db()
    placeholder = erased_email(user=user)
    assert user.email == placeholder and placeholder.endswith("@erased.invalid")
    assert (user.first_name, user.last_name, user.is_active, user.has_usable_password()) == ("", "", False, False)
    assert not Address.objects.filter(user=user).exists()
    assert not EmailAddress.objects.filter(user=user).exists()
    assert not Authenticator.objects.filter(user=user).exists()
    assert cart_for_user(user=user).is_empty
    orders = Order.objects.filter(number__in=["A-1", "G-1"]).order_by("number")
    assert orders.count() == orders_kept
    for order in orders:
        assert order.email == placeholder
        assert (order.shipping_name, order.shipping_line1, order.shipping_postal_code, order.shipping_city) == (
            "",
            "",
            "",
            "",
        )
        assert (order.shipping_country, order.total_minor, order.tax_minor) == ("DE", 2500, 399)
        assert [line.sku for line in order.lines.all()] == ["PAN-1"]
    events = OrderEvent.objects.filter(order__number="A-1").order_by("kind")
    assert [(e.kind, e.actor_name, e.data) for e in events] == [
        ("cancelled", "", {}),
        ("email_sent", "", {"email": "order_paid", "to": [placeholder]}),
    ]
    assert not authenticate(None, email="ann@example.com", password=PASSWORD)
    redemptions = dict(DiscountRedemption.objects.values_list("order_number", "email"))
    assert redemptions["A-1"] == placeholder.lower()
    assert redemptions.get("Z-1", "zed@example.com") == "zed@example.com"  # a stranger's stays theirs


def test_a_shopper_deletes_their_account_with_their_password(client, ann, stranger):
    other_device = Client()
    other_device.force_login(ann)
    client.force_login(ann)
    url = reverse("accounts:delete")

    wrong = client.post(url, {"password": "not-my-password"})
    assert wrong.status_code == 200 and "That is not your password." in wrong.content.decode()
    ann.refresh_from_db()
    assert ann.is_active and ann.email == "ann@example.com"

    response = client.post(url, {"password": PASSWORD}, follow=True)

    assert "Your account is deleted" in response.content.decode()
    assert not response.context["user"].is_authenticated
    _assert_erased(ann)
    assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(ann.pk)]
    assert not other_device.get(reverse("accounts:personal_data")).wsgi_request.user.is_authenticated
    stranger.refresh_from_db()
    assert stranger.is_active and Order.objects.get(number="Z-1").shipping_city == "Berlin"


def test_deleting_through_the_api_erases_the_data_and_ends_the_tokens(ann):
    refresh = RefreshToken.for_user(ann)
    api = client_for(None)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh.access_token}")

    response = api.delete(f"/api/users/{ann.pk}")

    assert response.status_code == 200 and response.json()["user"]["is_active"] is False
    _assert_erased(ann)
    assert api.get("/api/users/me/export").status_code == 401  # the access token issued before is refused
    assert client_for(None).post("/api/auth/refresh", {"refresh": str(refresh)}, format="json").status_code == 401


def test_staff_erase_a_users_data_through_the_api_but_not_a_superusers(ann):
    staff = UserFactory(is_staff=True)
    superuser = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)

    assert client_for(staff).delete(f"/api/users/{superuser.pk}").status_code == 403
    superuser.refresh_from_db()
    assert superuser.is_active and superuser.email == "root@example.com"

    assert client_for(staff).delete(f"/api/users/{ann.pk}").status_code == 200
    _assert_erased(ann)


def test_staff_export_a_users_data_from_the_admin(client, ann):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(CHANGELIST, {"action": "export_personal_data", "_selected_action": [ann.pk]})
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;")
    _assert_full_export(json.loads(response.content))


def test_staff_erase_a_users_data_from_the_admin_after_confirming(client, ann):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    asked = client.post(CHANGELIST, {"action": "erase_personal_data", "_selected_action": [ann.pk]})
    assert asked.status_code == 200 and "cannot be undone" in asked.content.decode()
    ann.refresh_from_db()
    assert ann.is_active  # nothing happens before staff confirm

    done = client.post(
        CHANGELIST, {"action": "erase_personal_data", "_selected_action": [ann.pk], "confirm": "yes"}, follow=True
    )

    assert "Erased the personal data of 1 user(s)" in done.content.decode()
    _assert_erased(ann)


def test_erasing_twice_changes_nothing_more(ann):
    staff = client_for(UserFactory(is_staff=True))
    assert staff.delete(f"/api/users/{ann.pk}").status_code == 200
    assert staff.delete(f"/api/users/{ann.pk}").status_code == 200
    _assert_erased(ann)


def test_an_erasure_that_dies_midway_leaves_everything_as_it_was(ann, monkeypatch):
    import accounts.services
    from accounts.services import erase_personal_data

    def crash(**kwargs):  # after the orders were anonymised and the addresses deleted, before the user is saved
        raise RuntimeError("the process dies here")

    monkeypatch.setattr(accounts.services, "_delete_rows_of", crash)
    with pytest.raises(RuntimeError):
        erase_personal_data(user=ann, actor=ann)

    ann.refresh_from_db()
    assert ann.is_active and ann.email == "ann@example.com" and ann.check_password(PASSWORD)
    assert Address.objects.filter(user=ann).exists() and EmailAddress.objects.filter(user=ann).exists()
    assert Order.objects.get(number="A-1").email == "ann@example.com"
    assert Order.objects.get(number="A-1").shipping_line1 == "1 Main Street"
    assert not cart_for_user(user=ann).is_empty
    assert DiscountRedemption.objects.get(order_number="A-1").email == "ann@example.com"


def test_every_moment_in_the_export_is_written_as_the_api_writes_it(ann):
    """UTC to the millisecond, as JavaScript's `toISOString()` (the README's API times), the nested ones too."""
    import re

    moment = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")

    def moments(value, path=""):
        if isinstance(value, dict):
            for key, item in value.items():
                yield from moments(item, f"{path}.{key}")
        elif isinstance(value, list):
            for item in value:
                yield from moments(item, f"{path}[]")
        elif isinstance(value, str) and re.match(r"\d{4}-\d\d-\d\dT", value):
            yield path, value

    found = list(moments(client_for(ann).get(f"/api/users/{ann.pk}/export").json()))
    assert {".exported_at", ".account.date_joined", ".orders[].created_at"} <= {path for path, _ in found}
    assert [(path, value) for path, value in found if not moment.fullmatch(value)] == []
