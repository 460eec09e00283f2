"""axe-core (WCAG 2.1 A and AA, and its best practices) on every kind of page a shopper or staff member sees, as a
browser renders it: anonymous, signed in, paying, and the shop's own admin pages."""

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from accounts.services import save_address
from cart.selectors import CartOwner
from cart.services import add_to_cart
from tests.factories import ItemFactory, UserFactory
from tests.orders.helpers import ADDRESS_FORM, place


@pytest.fixture
def shop(rates, zones, shelf):
    teapot = ItemFactory(title="Teapot", price_minor=2400, stock=3, category=shelf["child"])
    ItemFactory(title="Cup", price_minor=600, stock=0, category=shelf["child"])
    ItemFactory(title="Kettle", price_minor=3900, stock=40, category=shelf["child"])
    return {"teapot": teapot, "category": shelf["child"]}


def _violations(visitor, paths, **options) -> list[str]:
    found = []
    for path in paths:
        visitor.open(path, status=404 if path.startswith("/no-such") else 200)
        found += [f"{path}: {violation}" for violation in visitor.accessibility_violations(**options)]
    return found


def test_a_visitors_pages(visit, shop):
    visitor = visit()
    paths = [
        "/",
        "/items/",
        "/items/?q=teapot",
        "/items/?q=nothing-like-this",
        shop["category"].get_absolute_url(),
        shop["teapot"].get_absolute_url(),
        "/cart/",
        reverse("account_login"),
        reverse("account_signup"),
        reverse("account_reset_password"),
        "/no-such-page/",
    ]
    found = _violations(visitor, paths)
    visitor.page.goto(visitor.base_url + shop["teapot"].get_absolute_url())
    # A page with a message, then a full cart.
    visitor.page.get_by_role("button", name="Add to cart", exact=True).click()
    found += [f"after adding: {violation}" for violation in visitor.accessibility_violations()]
    found += _violations(visitor, ["/cart/", reverse("orders:checkout")])
    assert not found, "\n".join(found)


def test_a_shoppers_pages(visit, shop):
    shopper = UserFactory(email="ann@example.com")
    EmailAddress.objects.create(user=shopper, email=shopper.email, verified=True, primary=True)
    save_address(user=shopper, **ADDRESS_FORM)
    order = place(shopper, (shop["teapot"], 1))
    add_to_cart(owner=CartOwner(user=shopper), item_id=shop["teapot"].pk, quantity=1)
    visitor = visit()
    visitor.context.add_cookies(_session_cookie(shopper, visitor.base_url))
    paths = [
        "/cart/",
        reverse("orders:checkout"),
        reverse("orders:list"),
        order.get_absolute_url(),
        reverse("accounts:address_list"),
        reverse("accounts:personal_data"),
        reverse("account_email"),
        reverse("account_change_password"),
        reverse("mfa_index"),
    ]
    found = _violations(visitor, paths)
    assert not found, "\n".join(found)


def test_the_shops_own_admin_pages(visit, shop, staff):
    order = place(UserFactory(), (shop["teapot"], 1))
    visitor = visit()
    visitor.context.add_cookies(_session_cookie(staff, visitor.base_url))
    paths = [
        "/admin/dashboard/",
        reverse("admin:orders_order_change", args=[order.pk]),
    ]
    # Django's own inline tables leave two header cells empty (a minor finding, in markup that is Django's).
    found = _violations(visitor, paths, impacts=("serious", "critical"))
    assert not found, "\n".join(found)


def _session_cookie(user, base_url: str) -> list[dict]:
    """A signed-in session for `user`, as Django's test client makes one, handed to the browser."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return [{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
             "url": base_url}]  # fmt: skip
