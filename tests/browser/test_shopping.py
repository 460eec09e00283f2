"""A shopper's journeys in a real browser: a guest buys and pays, a shopper signs in and keeps the cart, a visitor
signs up and resets a forgotten password, and the navigation works on a phone. Every page must load without a CSP
violation, a script error or a missing asset (`conftest.Visitor`)."""

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from playwright.sync_api import expect

from accounts.services import save_address
from cart.selectors import CartOwner, cart_for_user
from cart.services import add_to_cart
from orders.models import Order, OrderStatus
from pricing.models import DiscountCode
from tests.accounts.helpers import totp_code
from tests.browser.helpers import emailed_link
from tests.factories import PASSWORD, ItemFactory, UserFactory
from tests.orders.helpers import ADDRESS_FORM, stock_of


@pytest.fixture
def goods(rates, zones):
    DiscountCode.objects.create(code="WELCOME10", kind="percent", value=10)
    return ItemFactory(title="Teapot", price_minor=2400, stock=5), ItemFactory(title="Cup", price_minor=600, stock=9)


def _paid(page) -> Order:
    """Pays on the demo gateway's page, and the order as the shop then has it."""
    expect(page.get_by_role("heading", name="Demo payment - no money moves")).to_be_visible()
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_role("heading", name="is paid")).to_be_visible()
    number = page.get_by_role("heading", name="is paid").inner_text().split("order ")[1].split(" ")[0]
    return Order.objects.get(number=number)


def test_a_guest_finds_an_item_fills_the_cart_checks_out_and_pays(visit, goods, zones):
    teapot, cup = goods
    guest = visit()
    page = guest.page
    guest.open("/")
    page.get_by_label("Search items").fill("teapot")
    page.get_by_label("Search items").press("Enter")
    expect(page).to_have_url(f"{guest.base_url}/items/?q=teapot")
    page.get_by_role("heading", name="Teapot").get_by_role("link").click()
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart", exact=True).click()
    expect(page.locator("#cart-count")).to_have_text("2")
    guest.open("/items/")
    page.get_by_role("article").filter(has_text="Cup").get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-count")).to_have_text("3")

    page.get_by_role("link", name="Cart").click()
    page.get_by_label("Quantity of Teapot").fill("1")
    page.locator("form", has=page.get_by_label("Quantity of Teapot")).get_by_role("button", name="Update").click()
    expect(page.locator("#cart-count")).to_have_text("2")
    page.get_by_label("Discount code").fill("WELCOME10")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("alert")).to_have_text("Code WELCOME10 applied.")
    guest.snap("cart-with-code")

    page.get_by_role("link", name="Proceed to checkout").click()
    page.get_by_label("Email").fill("guest@example.com")
    page.get_by_label("Full name").fill(ADDRESS_FORM["name"])
    page.get_by_label("Street and number").fill(ADDRESS_FORM["line1"])
    page.get_by_label("Postal code").fill(ADDRESS_FORM["postal_code"])
    page.get_by_label("City").fill(ADDRESS_FORM["city"])
    page.get_by_label("Country").select_option(ADDRESS_FORM["country"])
    page.get_by_label("Shipping method").select_option(str(zones["express"].pk))
    guest.snap("checkout-filled")
    page.get_by_role("button", name="Place order").click()
    order = _paid(page)

    assert order.status == OrderStatus.PAID and order.buyer is None and order.email == "guest@example.com"
    assert (order.subtotal_minor, order.discount_minor, order.shipping_minor) == (3000, 300, 1290)
    assert (stock_of(teapot), stock_of(cup)) == (4, 8)
    assert any(order.number in message.subject and message.to == ["guest@example.com"] for message in mail.outbox)
    page.get_by_role("link", name="View your order").click()
    expect(page.get_by_role("heading", name=order.number)).to_be_visible()
    expect(page.locator("#cart-count")).to_have_text("0")
    # On another device, the emailed link opens the order.
    phone = visit()
    phone.open(emailed_link("guest@example.com", "/orders/view/"))
    expect(phone.page.get_by_role("heading", name=order.number)).to_be_visible()


def test_a_shopper_signs_in_keeps_the_cart_pays_and_signs_out(visit, goods):
    teapot, cup = goods
    shopper = UserFactory(email="ann@example.com")
    save_address(user=shopper, **ADDRESS_FORM)
    add_to_cart(owner=CartOwner(user=shopper), item_id=teapot.pk, quantity=1)  # from another device
    browser = visit()
    page = browser.page
    browser.open(cup.get_absolute_url())
    page.get_by_role("button", name="Add to cart", exact=True).click()
    expect(page.locator("#cart-count")).to_have_text("1")

    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.locator("#cart-count")).to_have_text("2")  # the visit's cup and the stored teapot
    assert {line.item.title for line in cart_for_user(user=shopper).lines} == {"Teapot", "Cup"}

    browser.open("/cart/")
    page.get_by_role("link", name="Proceed to checkout").click()
    page.get_by_role("button", name="Place order").click()  # to the saved address, the default
    order = _paid(page)
    assert order.buyer == shopper and order.status == OrderStatus.PAID and order.total_minor > 3000

    page.get_by_role("link", name="All your orders").click()
    expect(page.get_by_role("link", name=order.number)).to_be_visible()
    page.get_by_role("button", name="ann@example.com").click()  # Bootstrap's dropdown: its script runs
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    browser.open(f"/orders/{order.number}/")
    expect(page).to_have_url(f"{browser.base_url}/accounts/login/?next=/orders/{order.number}/")


def test_the_navigation_folds_away_on_a_phone_and_opens_with_its_button(visit, goods):
    phone = visit(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = phone.page
    phone.open("/")
    search = page.get_by_label("Search items")
    expect(search).to_be_hidden()
    page.get_by_role("button", name="Toggle navigation").click()
    expect(search).to_be_visible()
    search.fill("cup")
    search.press("Enter")
    expect(page.get_by_role("heading", name="Cup", exact=True)).to_be_visible()


def _log_in(page, email: str, password: str) -> None:
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()


def test_a_visitor_signs_up_confirms_the_address_and_resets_a_forgotten_password(visit):
    visitor = visit()
    page = visitor.page
    visitor.open("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Email").fill("new@example.com")
    page.get_by_label("Password*", exact=True).fill("first-Secret-42")
    page.get_by_label("Password (again)").fill("first-Secret-42")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    visitor.open(emailed_link("new@example.com", "/accounts/confirm-email/"))
    page.get_by_role("button", name="Confirm").click()
    _log_in(page, "new@example.com", "first-Secret-42")
    account = page.get_by_role("button", name="new@example.com")
    expect(account).to_be_visible()
    account.click()
    page.get_by_role("button", name="Log out").click()

    page.get_by_role("link", name="Log in").click()
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("new@example.com")
    page.get_by_role("button", name="Reset My Password").click()
    visitor.open(emailed_link("new@example.com", "/accounts/password/reset/key/"))
    page.get_by_label("New Password*", exact=True).fill("second-Secret-42")
    page.get_by_label("New Password (again)").fill("second-Secret-42")
    page.get_by_role("button", name="Change Password").click()
    _log_in(page, "new@example.com", "second-Secret-42")
    expect(page.get_by_role("button", name="new@example.com")).to_be_visible()


def test_a_shopper_turns_on_two_factor_authentication_with_the_qr_codes_secret(visit):
    shopper = UserFactory(email="ann@example.com")
    browser = visit()
    page = browser.page
    browser.open("/")
    _log_in(page, shopper.email, PASSWORD)
    page.get_by_role("button", name="ann@example.com").click()
    page.get_by_role("link", name="Two-factor authentication").click()
    page.get_by_role("link", name="Activate").click()
    if page.get_by_label("Password").count():  # allauth asks for the password again first
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    secret = page.get_by_label("Authenticator secret").input_value()
    expect(page.get_by_role("img", name=secret)).to_be_visible()  # the QR code: a data: image the page's CSP allows
    browser.snap("totp-activate")
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    assert set(Authenticator.objects.filter(user=shopper).values_list("type", flat=True)) == {"totp", "recovery_codes"}
