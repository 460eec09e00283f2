"""A signed-in shopper's self-service pages in a real browser: the address book, the password, the email address,
the personal data (export and erasure), and the orders (the list, an order's page, cancelling it, paying it later).
Every page must load without a CSP violation, a script error or a missing asset (`conftest.Visitor`)."""

import json
import re
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.contrib.sessions.backends.cached_db import SessionStore
from django.core import mail
from playwright.sync_api import expect

from accounts.models import Address, User
from accounts.services import save_address, set_email
from cart.selectors import CartOwner
from cart.services import add_to_cart
from orders.models import Order, OrderStatus
from orders.services import place_order
from payments.models import Payment
from tests.browser.helpers import emailed_link
from tests.factories import PASSWORD, ItemFactory, UserFactory
from tests.orders.helpers import ADDRESS, ADDRESS_FORM, place, stock_of
from tests.payments.conftest import demo_paid

NEW_PASSWORD = "second-Secret-42"


@pytest.fixture
def shopper(db):
    """Ann, who signed up and confirmed her address, as the shop's signup leaves an account."""
    user = UserFactory(email="ann@example.com", first_name="Ann", last_name="Buyer")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def teapot(rates, zones):
    return ItemFactory(title="Teapot", price_minor=2400, stock=5)


def _sign_in(visitor, email: str, password: str = PASSWORD) -> None:
    page = visitor.page
    visitor.open("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("button", name=email)).to_be_visible()


def _menu(page, email: str, entry: str) -> None:
    """Opens the account menu of the navigation bar (Bootstrap's dropdown) and follows one of its links."""
    page.get_by_role("button", name=email).click()
    page.get_by_role("link", name=entry, exact=True).click()


def _alert(page):
    return page.get_by_role("alert")


def _book(user) -> list[tuple[str, str, str, bool]]:
    """The stored address book: (line1, city, country, is_default), the default first."""
    rows = Address.objects.filter(user_id=user.pk).order_by("-is_default", "line1")
    return [(row.line1, row.city, row.country, row.is_default) for row in rows]


def _fill_address(page, *, name: str, line1: str, postal_code: str, city: str, country: str) -> None:
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Street and number").fill(line1)
    page.get_by_label("Postal code").fill(postal_code)
    page.get_by_label("City").fill(city)
    page.get_by_label("Country").select_option(country)


def test_a_shopper_keeps_an_address_book(visit, shopper):
    browser = visit()
    page = browser.page
    _sign_in(browser, shopper.email)
    _menu(page, shopper.email, "Addresses")
    expect(page.get_by_text("You have no saved addresses yet.")).to_be_visible()

    page.get_by_role("link", name="Add an address").click()
    expect(page.get_by_label("Full name")).to_have_value("Ann Buyer")  # the account's name, to start from
    _fill_address(page, name="Ann Buyer", line1="1 Main Street", postal_code="1!", city="Berlin", country="DE")
    page.get_by_role("button", name="Save address").click()
    expect(page.get_by_text("Enter a postal code of letters, digits, spaces or dashes.")).to_be_visible()
    assert _book(shopper) == []
    assert not browser.accessibility_violations()  # the form with its error
    page.get_by_label("Postal code").fill("10115")
    page.get_by_role("button", name="Save address").click()
    expect(_alert(page)).to_have_text("The address is saved.")
    assert _book(shopper) == [("1 Main Street", "Berlin", "DE", True)]  # the first one is the default

    page.get_by_role("link", name="Add an address").click()
    _fill_address(page, name="Ann Buyer", line1="5 Ringstrasse", postal_code="a-1010", city="Wien", country="AT")
    page.get_by_role("button", name="Save address").click()
    expect(_alert(page)).to_have_text("The address is saved.")
    assert _book(shopper) == [("1 Main Street", "Berlin", "DE", True), ("5 Ringstrasse", "Wien", "AT", False)]
    assert Address.objects.get(line1="5 Ringstrasse").postal_code == "A-1010"  # stored normalised
    addresses = page.get_by_role("list", name="Your addresses, the default first").get_by_role("listitem")
    expect(addresses).to_have_count(2)
    expect(addresses.first).to_contain_text("Default")
    expect(addresses.first).to_contain_text("1 Main Street")

    # The default address's box stays ticked: another address must be made the default instead.
    page.get_by_role("link", name="Edit Ann Buyer, 1 Main Street").click()
    expect(page.get_by_role("checkbox", name="Make this my default address")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Make this my default address")).to_be_disabled()
    page.get_by_role("link", name="Cancel").click()

    page.get_by_role("link", name="Edit Ann Buyer, 5 Ringstrasse").click()
    expect(page.get_by_label("City")).to_have_value("Wien")
    page.get_by_label("Street and number").fill("7 Ringstrasse")
    page.get_by_label("City").fill("Vienna")
    page.get_by_role("button", name="Save address").click()
    expect(_alert(page)).to_have_text("The address is updated.")
    assert _book(shopper) == [("1 Main Street", "Berlin", "DE", True), ("7 Ringstrasse", "Vienna", "AT", False)]

    page.get_by_role("button", name="Make default Ann Buyer, 7 Ringstrasse").click()
    expect(_alert(page)).to_have_text("Ann Buyer, 7 Ringstrasse is now your default address.")
    assert _book(shopper) == [("7 Ringstrasse", "Vienna", "AT", True), ("1 Main Street", "Berlin", "DE", False)]
    expect(addresses.first).to_contain_text("7 Ringstrasse")
    expect(page.get_by_role("button", name="Make default Ann Buyer, 7 Ringstrasse")).to_have_count(0)

    page.get_by_role("link", name="Edit Ann Buyer, 1 Main Street").click()
    page.get_by_role("checkbox", name="Make this my default address").check()
    page.get_by_role("button", name="Save address").click()
    expect(_alert(page)).to_have_text("The address is updated.")
    assert _book(shopper) == [("1 Main Street", "Berlin", "DE", True), ("7 Ringstrasse", "Vienna", "AT", False)]

    page.get_by_role("button", name="Delete Ann Buyer, 1 Main Street").click()
    expect(_alert(page)).to_have_text("The address Ann Buyer, 1 Main Street is deleted.")
    assert _book(shopper) == [("7 Ringstrasse", "Vienna", "AT", True)]  # the one left took over as the default
    expect(addresses).to_have_count(1)
    expect(addresses.first).to_contain_text("Default")


def test_a_shopper_changes_the_password_and_signs_in_with_the_new_one(visit, shopper):
    phone = visit()  # signed in on another device too: changing the password signs that one out
    _sign_in(phone, shopper.email)
    browser = visit()
    page = browser.page
    _sign_in(browser, shopper.email)
    _menu(page, shopper.email, "Change password")
    page.get_by_label("Current Password").fill("not-the-password")
    page.get_by_label("New Password*", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New Password (again)").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change Password").click()
    expect(page.get_by_text("Please type your current password.")).to_be_visible()
    assert not browser.accessibility_violations()
    shopper.refresh_from_db()
    assert shopper.check_password(PASSWORD)

    page.get_by_label("Current Password").fill(PASSWORD)
    page.get_by_label("New Password*", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New Password (again)").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change Password").click()
    expect(_alert(page)).to_have_text("Password successfully changed.")
    shopper.refresh_from_db()
    assert shopper.check_password(NEW_PASSWORD) and not shopper.check_password(PASSWORD)
    expect(page.get_by_role("button", name=shopper.email)).to_be_visible()  # still signed in on this device
    phone.page.reload()
    expect(phone.page.get_by_role("link", name="Log in")).to_be_visible()

    page.get_by_role("button", name=shopper.email).click()
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Email").fill(shopper.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_text("The email address and/or password you specified are not correct.")).to_be_visible()
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("button", name=shopper.email)).to_be_visible()


def test_a_shopper_changes_the_email_through_the_emailed_link(visit, shopper, teapot):
    # Before, as a guest, Ann bought a teapot under the new address: confirming it makes that order hers.
    session = SessionStore()
    add_to_cart(owner=CartOwner(session=session), item_id=str(teapot.pk), quantity=1)
    guest_order = place_order(guest=CartOwner(session=session), guest_email="ann.new@example.com", address=ADDRESS)
    browser = visit()
    page = browser.page
    _sign_in(browser, shopper.email)
    _menu(page, shopper.email, "Email addresses")
    expect(page.get_by_label("Current email")).to_have_value("ann@example.com")
    page.get_by_label("Change to").fill("ann.nwe@example.com")  # a typo: she cancels that change
    page.get_by_role("button", name="Change Email").click()
    expect(page.get_by_label("Changing to")).to_have_value("ann.nwe@example.com")
    page.get_by_role("button", name="Cancel Change").click()
    expect(page.get_by_label("Changing to")).to_have_count(0)
    assert not EmailAddress.objects.filter(email="ann.nwe@example.com").exists()

    page.get_by_label("Change to").fill("Ann.New@Example.com")
    page.get_by_role("button", name="Change Email").click()
    expect(_alert(page)).to_contain_text("ann.new@example.com")
    rows = EmailAddress.objects.filter(user_id=shopper.pk)
    assert set(rows.values_list("email", "verified", "primary")) == {
        ("ann@example.com", True, True),
        ("ann.new@example.com", False, False),
    }
    shopper.refresh_from_db()
    assert shopper.email == "ann@example.com"  # nothing changes before the new address is confirmed
    expect(page.get_by_label("Changing to")).to_have_value("ann.new@example.com")
    expect(page.get_by_role("button", name="Re-send Verification")).to_be_visible()
    assert not browser.accessibility_violations()

    browser.open(emailed_link("ann.new@example.com", "/accounts/confirm-email/"))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("button", name="ann.new@example.com")).to_be_visible()
    shopper.refresh_from_db()
    assert shopper.email == "ann.new@example.com"
    # The new address is the primary one, and the old one is gone: it no longer signs in nor gets password resets.
    assert list(rows.values_list("email", "verified", "primary")) == [("ann.new@example.com", True, True)]

    page.get_by_role("button", name="ann.new@example.com").click()
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_text("The email address and/or password you specified are not correct.")).to_be_visible()
    page.get_by_label("Email").fill("ann.new@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    _menu(page, "ann.new@example.com", "Orders")
    expect(page.get_by_role("link", name=guest_order.number)).to_be_visible()
    guest_order.refresh_from_db()
    assert guest_order.buyer_id == shopper.pk


def test_a_shopper_confirms_the_email_staff_set_from_the_email_page(visit, shopper, teapot):
    # On Ann's request, staff set her email to her work address (the admin's way: recorded unconfirmed, which "the
    # user confirms from their email page", accounts.services.set_email); she had bought as a guest under it.
    session = SessionStore()
    add_to_cart(owner=CartOwner(session=session), item_id=str(teapot.pk), quantity=1)
    guest_order = place_order(guest=CartOwner(session=session), guest_email="ann@work.example", address=ADDRESS)
    set_email(user=shopper, email="ann@work.example")
    mail.outbox.clear()
    browser = visit()
    page = browser.page
    _sign_in(browser, "ann@work.example")
    _menu(page, "ann@work.example", "Email addresses")
    expect(page.get_by_label("Current email")).to_have_value("ann@work.example")

    resend = page.get_by_role("button", name="Re-send Verification")
    expect(resend, "the email page offers no way to confirm the current address").to_be_visible(timeout=3000)
    resend.click()
    browser.open(emailed_link("ann@work.example", "/accounts/confirm-email/"))
    page.get_by_role("button", name="Confirm").click()
    assert EmailAddress.objects.filter(user_id=shopper.pk, email="ann@work.example", verified=True).exists()
    _menu(page, "ann@work.example", "Orders")
    expect(page.get_by_role("link", name=guest_order.number)).to_be_visible()


def test_a_shopper_downloads_the_data_then_deletes_the_account(visit, shopper, teapot):
    save_address(user=shopper, **ADDRESS_FORM)
    paid = demo_paid(shopper, (teapot, 1))
    pending = place(shopper, (teapot, 2))
    phone = visit()  # signed in on another device too
    _sign_in(phone, shopper.email)
    browser = visit()
    page = browser.page
    _sign_in(browser, shopper.email)
    _menu(page, shopper.email, "Your data")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download my data").click()
    assert re.fullmatch(r"personal-data-\d{4}-\d\d-\d\d\.json", download.value.suggested_filename)
    data = json.loads(Path(download.value.path()).read_text())
    assert data["account"]["email"] == "ann@example.com"
    assert [row["number"] for row in data["orders"]] == [paid.number, pending.number]
    assert [row["payment"]["paid"] for row in data["orders"]] == [True, False]
    assert [line["title"] for line in data["orders"][0]["lines"]] == ["Teapot"]
    assert [row["line1"] for row in data["addresses"]] == ["1 Main Street"]

    page.get_by_role("link", name="Delete my account").click()
    page.get_by_label("Your password").fill("not-the-password")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("That is not your password.")).to_be_visible()
    assert not browser.accessibility_violations()
    shopper.refresh_from_db()
    assert shopper.is_active and shopper.email == "ann@example.com"

    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    expect(_alert(page)).to_have_text("Your account is deleted and your personal data erased.")
    expect(page.get_by_role("link", name="Log in")).to_be_visible()  # signed out here
    browser.open("/account/data/")
    expect(page).to_have_url(f"{browser.base_url}/accounts/login/?next=/account/data/")
    erased = User.objects.get(pk=shopper.pk)
    assert not erased.is_active and not erased.has_usable_password()
    assert erased.email.endswith("@erased.invalid") and (erased.first_name, erased.last_name) == ("", "")
    assert not Address.objects.filter(user_id=shopper.pk).exists()
    assert not EmailAddress.objects.filter(user_id=shopper.pk).exists()
    kept = Order.objects.get(pk=paid.pk)  # kept for the accounts, without the buyer's name, email or address
    assert (kept.email, kept.shipping_name, kept.shipping_line1, kept.shipping_country) == (erased.email, "", "", "DE")

    phone.page.reload()  # and on the other device
    expect(phone.page.get_by_role("link", name="Log in")).to_be_visible()
    phone.page.get_by_role("link", name="Log in").click()
    phone.page.get_by_label("Email").fill("ann@example.com")
    phone.page.get_by_label("Password").fill(PASSWORD)
    phone.page.get_by_role("button", name="Sign In").click()
    expect(phone.page.get_by_text("The email address and/or password you specified are not correct.")).to_be_visible()


def test_a_shopper_finds_the_orders_and_cancels_an_unpaid_one(visit, shopper, teapot):
    paid = demo_paid(shopper, (teapot, 1))
    pending = place(shopper, (teapot, 2))
    assert stock_of(teapot) == 2
    browser = visit()
    page = browser.page
    _sign_in(browser, shopper.email)
    _menu(page, shopper.email, "Orders")

    table = page.get_by_role("table", name="Your orders, newest first")
    rows = table.get_by_role("row")
    expect(rows).to_have_count(3)  # the header and two orders, the newest first
    expect(rows.nth(1)).to_contain_text(pending.number)
    expect(rows.nth(1)).to_contain_text("Pending payment")
    expect(rows.nth(2)).to_contain_text(paid.number)
    expect(rows.nth(2)).to_contain_text("Paid")

    table.get_by_role("link", name=paid.number).click()
    expect(page.get_by_role("heading", name=f"Order {paid.number}")).to_be_visible()
    expect(page.get_by_role("table", name=f"Items of order {paid.number}")).to_contain_text("Teapot")
    expect(page.locator("#order-timeline")).to_contain_text("Paid")
    expect(page.get_by_role("button", name="Pay now")).to_have_count(0)
    expect(page.get_by_role("button", name="Cancel order")).to_have_count(0)

    page.get_by_role("link", name="Your orders").click()
    table.get_by_role("link", name=pending.number).click()
    expect(page.get_by_role("heading", name=f"Order {pending.number}")).to_be_visible()
    expect(page.get_by_text("This order is reserved for you and waits for payment.")).to_be_visible()
    page.get_by_role("button", name="Cancel order").click()
    expect(_alert(page)).to_have_text(f"Order {pending.number} is cancelled.")
    expect(page.get_by_role("button", name="Pay now")).to_have_count(0)
    expect(page.locator("#order-timeline")).to_contain_text("Cancelled")

    pending.refresh_from_db()
    assert pending.status == OrderStatus.CANCELLED
    assert stock_of(teapot) == 4  # the two reserved teapots are back on the shelf
    assert any(
        message.to == ["ann@example.com"] and f"order {pending.number} is cancelled" in message.subject
        for message in mail.outbox
    )
    paid.refresh_from_db()
    assert paid.status == OrderStatus.PAID


def test_a_shopper_pays_a_pending_order_later_from_its_page(visit, shopper, teapot):
    pending = place(shopper, (teapot, 2))
    browser = visit()
    page = browser.page
    _sign_in(browser, shopper.email)
    browser.open(pending.get_absolute_url())

    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_role("heading", name="Demo payment - no money moves")).to_be_visible()
    assert not browser.accessibility_violations()
    page.get_by_role("link", name="Cancel and return to the shop").click()  # changes their mind, for now
    expect(page.get_by_text("Payment was not completed.")).to_be_visible()
    pending.refresh_from_db()
    assert pending.status == OrderStatus.PENDING_PAYMENT

    page.get_by_role("button", name="Pay now").click()
    expect(page.locator("#demo-amount")).to_have_text(re.compile(r"€\s?\d"))
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page.get_by_role("heading", name=f"Thank you: order {pending.number} is paid")).to_be_visible()
    assert not browser.accessibility_violations()

    pending.refresh_from_db()
    assert pending.status == OrderStatus.PAID and pending.paid_at is not None
    assert stock_of(teapot) == 3  # the reservation became the sale
    assert Payment.objects.filter(order_id=pending.pk).count() == 1  # the second "Pay now" reopened the first attempt
    assert any(
        message.to == ["ann@example.com"] and f"order {pending.number} is paid" in message.subject
        for message in mail.outbox
    )
    page.get_by_role("link", name="View your order").click()
    expect(page.get_by_role("heading", name=f"Order {pending.number}")).to_be_visible()
    expect(page.get_by_role("button", name="Pay now")).to_have_count(0)
