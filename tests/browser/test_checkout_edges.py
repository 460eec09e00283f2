"""The way from cart to paid order when something goes wrong, in a real browser: the cart is empty, an item sells out
or runs short behind the shopper's back, a price or a shipping rate changes while the checkout page is open, a
discount code does not apply, nothing ships to the chosen country, the quantity asked for is more than the shelf
holds, a guest's email is missing or wrong, the shopper leaves the payment page and pays later, presses Place order
twice, or goes back after paying. Each journey checks what the shopper is told and what the shop stored (orders,
stock, payments); as everywhere in tests/browser, a CSP violation, a script error or a missing asset fails it."""

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from accounts.services import save_address
from cart.selectors import CartOwner
from cart.services import add_to_cart
from catalog.services import set_stock, update_items
from orders.models import Order, OrderStatus
from orders.selectors import held_mismatches
from payments.models import Payment
from pricing.models import DiscountCode
from tests.factories import ItemFactory, UserFactory
from tests.orders.helpers import ADDRESS_FORM, stock_of

DEMO_HEADING = "Demo payment - no money moves"
CART_CHANGED = "Your cart changed since you opened checkout (prices, quantities or items). Please review it."
EMPTY_AT_CHECKOUT = "Your cart is empty: add something before checking out."


@pytest.fixture
def goods(rates, zones):
    """A teapot at 24.00 with five on the shelf (its page says "Only 5 left") and cups at 6.00, nine ("In stock").
    Shipping to Germany: 4.90, free from 50.00 (`zones`)."""
    return ItemFactory(title="Teapot", price_minor=2400, stock=5), ItemFactory(title="Cup", price_minor=600, stock=9)


@pytest.fixture
def shopper(db):
    """An account with a saved (default) address in Germany."""
    user = UserFactory(email="ann@example.com")
    save_address(user=user, **ADDRESS_FORM)
    return user


def _signed_in(visit, user, *cart: tuple):
    """A browser signed in as `user`, whose stored cart holds `cart` ((item, quantity), ...): filled from another
    device, say."""
    for item, quantity in cart:
        add_to_cart(owner=CartOwner(user=user), item_id=item.pk, quantity=quantity)
    client = Client()
    client.force_login(user)
    visitor = visit()
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    visitor.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": visitor.base_url}])
    return visitor


def _add(visitor, item, quantity: int = 1) -> None:
    """Adds `quantity` of `item` on its page, as a shopper does."""
    page = visitor.page
    visitor.open(item.get_absolute_url())
    page.get_by_label("Quantity").fill(str(quantity))
    page.get_by_role("button", name="Add to cart", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Added to your cart")


def _fill_guest_form(page, *, email: str = "guest@example.com", country: str = "DE") -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Full name").fill(ADDRESS_FORM["name"])
    page.get_by_label("Street and number").fill(ADDRESS_FORM["line1"])
    page.get_by_label("Postal code").fill(ADDRESS_FORM["postal_code"])
    page.get_by_label("City").fill(ADDRESS_FORM["city"])
    page.get_by_label("Country").select_option(country)


def _place_order(page) -> None:
    page.get_by_role("button", name="Place order").click()


def _refused(page, message: str) -> None:
    """The checkout page again, saying why the order was not placed."""
    expect(page.locator("#checkout-form").get_by_text(message)).to_be_visible()


def _pay(page) -> Order:
    """Pays on the demo gateway's page; the order as the shop then has it."""
    expect(page.get_by_role("heading", name=DEMO_HEADING)).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    return _paid_order(page)


def _paid_order(page) -> Order:
    paid = page.get_by_role("heading", name="is paid")
    expect(paid).to_be_visible()
    return Order.objects.get(number=paid.inner_text().split("order ")[1].split(" ")[0])


def _nothing_ordered() -> None:
    """No order was placed, and no unit is held in the stock ledger for one."""
    assert not Order.objects.exists()
    assert held_mismatches() == []


# -- stock that changes behind the shopper's back --------------------------------------------------------------------


def test_an_empty_cart_or_a_sold_out_item_keeps_a_guest_from_checking_out(visit, goods):
    teapot, cup = goods
    guest = visit()
    page = guest.page
    guest.open("/checkout/")  # a bookmark, with nothing in the cart
    expect(page).to_have_url(f"{guest.base_url}/cart/")
    expect(page.get_by_role("alert")).to_have_text(EMPTY_AT_CHECKOUT)
    expect(page.get_by_role("heading", name="Your cart is empty")).to_be_visible()

    _add(guest, teapot, 2)
    _add(guest, cup)
    set_stock(item_id=teapot.pk, stock=0)  # the last teapots went to someone else
    guest.open(teapot.get_absolute_url())
    expect(page.get_by_text("This item is sold out for now.")).to_be_visible()
    expect(page.get_by_role("button", name="Add to cart", exact=True)).to_have_count(0)
    page.get_by_role("link", name=re.compile(r"^Cart")).click()
    expect(page.get_by_role("alert")).to_have_text(
        "Some items changed since you added them. Fix the lines marked below to check out."
    )
    teapot_line = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Teapot"))
    expect(teapot_line.get_by_role("status")).to_have_text("This item is out of stock. Remove it to check out.")
    expect(page.get_by_role("button", name="Proceed to checkout")).to_be_disabled()
    marked_cart_violations = guest.accessibility_violations()  # asserted at the end: the journey goes on

    guest.open("/checkout/")  # an older tab
    problems = page.get_by_role("alert").filter(has_text="Some items in your cart cannot be ordered right now")
    expect(problems).to_contain_text("Teapot: This item is out of stock. Remove it to check out.")
    expect(page.get_by_role("button", name="Place order")).to_have_count(0)
    marked_cart_violations += guest.accessibility_violations()
    problems.get_by_role("link", name="Review your cart").click()
    page.get_by_role("button", name="Remove Teapot").click()
    expect(page.get_by_role("alert")).to_have_text("Removed from your cart.")
    page.get_by_role("link", name="Proceed to checkout").click()
    _fill_guest_form(page)
    _place_order(page)
    order = _pay(page)
    assert [(line.title, line.quantity) for line in order.lines.all()] == [("Cup", 1)]
    assert (stock_of(teapot), stock_of(cup)) == (0, 8)
    assert not marked_cart_violations, "\n".join(marked_cart_violations)


def test_stock_running_short_while_the_checkout_page_is_open_refuses_the_order_and_reserves_nothing(
    visit, goods, shopper
):
    teapot, _ = goods
    browser = _signed_in(visit, shopper, (teapot, 3))
    page = browser.page
    browser.open("/checkout/")
    expect(page.locator("#checkout-total")).to_have_text("€72.00")  # shipping is free from 50.00
    set_stock(item_id=teapot.pk, stock=2)  # three went to someone else meanwhile

    _place_order(page)
    expect(page).to_have_url(f"{browser.base_url}/checkout/")
    problems = page.get_by_role("alert").filter(has_text="Some items in your cart cannot be ordered right now")
    expect(problems).to_contain_text("Teapot: Only 2 left. Lower the quantity to check out.")
    expect(page.get_by_role("button", name="Place order")).to_have_count(0)
    _nothing_ordered()
    assert stock_of(teapot) == 2

    problems.get_by_role("link", name="Review your cart").click()
    page.get_by_label("Quantity of Teapot").fill("2")
    page.get_by_role("button", name="Update").click()
    expect(page.get_by_role("alert")).to_have_text("Quantity updated.")
    page.get_by_role("link", name="Proceed to checkout").click()
    expect(page.locator("#checkout-total")).to_have_text("€52.90")  # under 50.00: shipping is charged again
    _place_order(page)
    order = _pay(page)
    assert (order.lines.get().quantity, order.total_minor, stock_of(teapot)) == (2, 5290, 0)


def test_an_item_taken_by_another_buyer_while_the_order_is_being_placed_leaves_nothing_reserved(
    visit, goods, shopper, monkeypatch
):
    """The cart is checked, then its lines are reserved one by one: another buyer takes the second item's last units
    in between. The order is refused as a whole, the first item's reservation undone."""
    from shop import db

    teapot, cup = goods
    browser = _signed_in(visit, shopper, (teapot, 1), (cup, 2))
    page = browser.page
    browser.open("/checkout/")
    first, second = sorted((teapot, cup), key=lambda item: str(item.pk))  # the order they are reserved in
    sold = []

    def another_buyer() -> None:  # after the first item's units were taken
        if not sold:
            sold.append(type(second).objects.filter(pk=second.pk).update(stock=1))

    monkeypatch.setitem(db.FAULTS, "catalog.stock_updated", another_buyer)
    _place_order(page)
    _refused(
        page,
        f"Sorry, {second.title} ran out: there are no longer as many in stock as your cart holds. "
        "Nothing was ordered; please review your cart.",
    )
    monkeypatch.delitem(db.FAULTS, "catalog.stock_updated")
    assert sold == [1]
    _nothing_ordered()
    assert stock_of(first) == (5 if first == teapot else 9)  # its units were given back


# -- prices that change while the checkout page is open --------------------------------------------------------------


def test_a_new_price_then_a_new_shipping_rate_are_shown_for_review_before_the_order_is_placed(visit, goods, zones):
    teapot, _ = goods
    guest = visit()
    page = guest.page
    _add(guest, teapot)
    guest.open("/checkout/")
    _fill_guest_form(page)
    expect(page.locator("#checkout-total")).to_have_text("€28.90")

    update_items(item_ids=[teapot.pk], price_minor=2700)  # the seller raises the price meanwhile
    _place_order(page)
    _refused(page, CART_CHANGED)
    expect(page.locator("#checkout-total")).to_have_text("€31.90")
    expect(page.get_by_label("Email")).to_have_value("guest@example.com")  # what the guest typed is kept
    expect(page.get_by_label("Street and number")).to_have_value(ADDRESS_FORM["line1"])
    _nothing_ordered()

    standard = zones["standard"]
    standard.price_minor = 690  # and staff enter the carrier's new rate while the guest reads the new total
    standard.save()
    _place_order(page)
    _refused(page, CART_CHANGED)
    expect(page.locator("#checkout-total")).to_have_text("€33.90")
    _nothing_ordered()

    _place_order(page)  # reviewed
    expect(page.get_by_role("heading", name=DEMO_HEADING)).to_be_visible()
    expect(page.locator("#demo-amount")).to_have_text("€33.90")
    order = _pay(page)
    assert (order.subtotal_minor, order.shipping_minor, order.total_minor) == (2700, 690, 3390)
    assert order.lines.get().unit_price_minor == 2700 and stock_of(teapot) == 4


# -- discount codes that do not apply --------------------------------------------------------------------------------


def test_discount_codes_that_do_not_apply_say_why_in_the_cart_and_at_checkout(visit, goods, shopper):
    teapot, _ = goods
    yesterday = timezone.now() - timezone.timedelta(days=1)
    DiscountCode.objects.create(code="SPRING", kind="percent", value=20, ends_at=yesterday)
    DiscountCode.objects.create(code="BIG5", kind="fixed", value=500, min_subtotal_minor=5000)
    welcome = DiscountCode.objects.create(code="WELCOME10", kind="percent", value=10)
    browser = _signed_in(visit, shopper, (teapot, 1))
    page = browser.page
    browser.open("/cart/")
    for typed, told in (
        ("spring", "The code SPRING has expired."),
        ("BIG5", "The code BIG5 needs goods worth at least €50.00."),
        ("NOSUCH", "There is no discount code NOSUCH."),
    ):
        page.get_by_label("Discount code").fill(typed)
        page.get_by_role("button", name="Apply").click()
        expect(page.get_by_role("alert")).to_have_text(told)
        expect(page.locator("#cart-total")).to_have_text("€28.90")
    page.get_by_label("Discount code").fill("welcome10")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("alert")).to_have_text("Code WELCOME10 applied.")
    expect(page.locator("#cart-total")).to_have_text("€26.50")

    welcome.ends_at = timezone.now()  # the code ends before the shopper checks out
    welcome.save()
    page.get_by_role("link", name="Proceed to checkout").click()
    expect(page.get_by_role("status").filter(has_text="The code WELCOME10 has expired.")).to_be_visible()
    expect(page.locator("#checkout-total")).to_have_text("€28.90")
    _place_order(page)
    _refused(page, "The code WELCOME10 has expired.")
    _nothing_ordered()

    page.get_by_label("Discount code").fill("BIG5")  # typed at checkout: checked when the order is placed
    _place_order(page)
    _refused(page, "The code BIG5 needs goods worth at least €50.00.")
    _nothing_ordered()

    page.get_by_label("Discount code").fill("")
    _place_order(page)
    order = _pay(page)
    assert (order.discount_code, order.discount_minor, order.total_minor) == ("", 0, 2890)
    assert DiscountCode.objects.get(code="BIG5").used_count == 0


# -- what a guest types at checkout ----------------------------------------------------------------------------------


def test_a_guests_missing_or_invalid_email_and_a_country_nothing_ships_to_are_refused(visit, goods, zones):
    teapot, _ = goods
    guest = visit()
    page = guest.page
    _add(guest, teapot)
    guest.open("/checkout/")
    _fill_guest_form(page, email="")
    email = page.get_by_label("Email")
    for typed, invalid in (("", "valueMissing"), ("ann.example.com", "typeMismatch")):
        email.fill(typed)
        _place_order(page)  # the browser refuses to send the form (required, type=email)
        assert email.evaluate(f"input => input.validity.{invalid}"), typed
        expect(email).to_have_value(typed)
    expect(page.locator("#checkout-form .is-invalid")).to_have_count(0)  # the shop never saw it

    email.fill("ann@example")  # a browser's email; not a mail server's
    _place_order(page)
    expect(page.locator("#checkout-form").get_by_text("Enter a valid email address.")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value("ann@example")
    expect(page.get_by_label("Full name")).to_have_value(ADDRESS_FORM["name"])
    assert not guest.accessibility_violations()
    _nothing_ordered()

    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_label("Country").select_option("IT")  # the shop takes it, no shipping zone serves it
    _place_order(page)
    _refused(page, "Sorry, we cannot ship this cart to that country.")
    expect(page.get_by_label("Country")).to_have_value("IT")
    _nothing_ordered()

    page.get_by_label("Country").select_option("AT")
    page.get_by_label("Shipping method").select_option(str(zones["express"].pk))  # Germany's
    _place_order(page)
    _refused(page, "This shipping method does not deliver this cart there. Choose another one.")
    _nothing_ordered()

    page.get_by_label("Shipping method").select_option(str(zones["europe"].pk))
    _place_order(page)
    order = _pay(page)
    assert (order.email, order.shipping_country, order.shipping_method, order.shipping_minor) == (
        "ann@example.com", "AT", "EU Standard", 990
    )  # fmt: skip
    assert stock_of(teapot) == 4


# -- more units than the shelf holds ---------------------------------------------------------------------------------


def test_asking_for_more_than_the_stock_is_stopped_by_the_browser_then_by_the_shop(visit, goods):
    teapot, cup = goods
    guest = visit()
    page = guest.page
    guest.open(teapot.get_absolute_url())
    quantity = page.get_by_label("Quantity")
    expect(quantity).to_have_attribute("max", "5")  # "Only 5 left": the input keeps to what the page shows
    quantity.fill("6")
    page.get_by_role("button", name="Add to cart", exact=True).click()
    assert quantity.evaluate("input => input.validity.rangeOverflow")  # the browser does not send the form
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator("#cart-count")).to_have_text("0")

    quantity.evaluate("input => input.removeAttribute('max')")  # a page from before a sale, or an edited one
    quantity.fill("6")
    page.get_by_role("button", name="Add to cart", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("Only 5 of Teapot left; you asked for 6.")
    expect(page.locator("#cart-count")).to_have_text("0")

    guest.open(cup.get_absolute_url())  # "In stock": the page does not tell how many, nor does the input's max
    page.get_by_label("Quantity").fill("12")
    page.get_by_role("button", name="Add to cart", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("Only 9 of Cup left; you asked for 12.")
    expect(page.locator("#cart-count")).to_have_text("0")

    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart", exact=True).click()
    expect(page.locator("#cart-count")).to_have_text("2")
    page.get_by_role("link", name=re.compile(r"^Cart")).click()
    page.get_by_label("Quantity of Cup").fill("10")
    page.get_by_role("button", name="Update").click()
    expect(page.get_by_role("alert")).to_have_text("Only 9 of Cup left; you asked for 10.")
    expect(page.get_by_label("Quantity of Cup")).to_have_value("2")
    expect(page.locator("#cart-count")).to_have_text("2")
    assert (stock_of(teapot), stock_of(cup)) == (5, 9) and not Order.objects.exists()


# -- paying ----------------------------------------------------------------------------------------------------------


def test_a_guest_leaves_the_payment_page_and_pays_later_from_the_order_page(visit, goods):
    teapot, _ = goods
    guest = visit()
    page = guest.page
    _add(guest, teapot, 2)
    guest.open("/checkout/")
    _fill_guest_form(page)
    _place_order(page)
    expect(page.get_by_role("heading", name=DEMO_HEADING)).to_be_visible()
    page.get_by_role("link", name="Cancel and return to the shop").click()

    order = Order.objects.get()
    expect(page.get_by_role("heading", name=f"Order {order.number}")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Payment was not completed.")).to_contain_text(
        "This order is reserved for you and waits for payment."
    )
    expect(page.locator("#cart-count")).to_have_text("0")
    assert order.status == OrderStatus.PENDING_PAYMENT and stock_of(teapot) == 3  # still held for the guest

    page.get_by_role("button", name="Pay now").click()
    paid = _pay(page)
    assert paid.pk == order.pk and paid.status == OrderStatus.PAID and stock_of(teapot) == 3
    assert Payment.objects.filter(order=order).count() == 1  # the gateway session left open was used again
    page.get_by_role("link", name="View your order").click()
    expect(page.get_by_role("heading", name=f"Order {order.number}")).to_be_visible()
    expect(page.get_by_role("button", name="Pay now")).to_have_count(0)


def _at_checkout(visit, who: str, shopper, teapot):
    """A browser on the checkout page with 2 teapots in the cart: a guest's (the form filled) or a shopper's."""
    if who == "guest":
        browser = visit()
        _add(browser, teapot, 2)
        browser.open("/checkout/")
        _fill_guest_form(browser.page)
    else:
        browser = _signed_in(visit, shopper, (teapot, 2))
        browser.open("/checkout/")
    return browser


@pytest.mark.parametrize("who", ["guest", "shopper"])
def test_one_order_and_one_payment_and_going_back_after_paying_offers_neither_again(visit, goods, shopper, who):
    teapot, _ = goods
    browser = _at_checkout(visit, who, shopper, teapot)
    page = browser.page
    # Pressed once each: two requests at once would meet the live server's in-memory SQLite, whose shared cache fails
    # a read behind another request's write at once ("database table is locked"; a file in WAL mode, as in
    # production, lets it read). A second press of Place order is the next test; two at once, tests/orders.
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("heading", name=DEMO_HEADING)).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    order = _paid_order(page)
    assert Order.objects.count() == 1 and order.status == OrderStatus.PAID
    assert Payment.objects.filter(order=order).count() == 1 and stock_of(teapot) == 3 and held_mismatches() == []
    assert len([message for message in mail.outbox if message.subject.endswith("is paid")]) == 1

    page.go_back()  # the gateway's page: paid, nothing left to pay
    expect(page.get_by_role("heading", name=DEMO_HEADING)).to_be_visible()
    expect(page.get_by_text("This payment is complete.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Pay "))).to_have_count(0)
    page.go_back()  # the checkout page: its cart was ordered
    expect(page).to_have_url(f"{browser.base_url}/cart/")
    expect(page.get_by_role("alert")).to_have_text(EMPTY_AT_CHECKOUT)
    assert Order.objects.count() == 1 and Payment.objects.count() == 1 and stock_of(teapot) == 3


@pytest.mark.parametrize("who", ["guest", "shopper"])
def test_place_order_pressed_again_while_the_first_press_is_still_loading_goes_on_to_pay_that_order(
    visit, goods, shopper, who
):
    """The next page is slow to come (opening a Stripe session takes a second or two), so the shopper presses Place
    order again: the browser drops the first press's answer, which the shop has sent already (the order is placed),
    and sends the form again. The shop must answer with the order placed, as it does for a double click."""
    teapot, _ = goods
    browser = _at_checkout(visit, who, shopper, teapot)
    page = browser.page
    answered = []

    def first_press_answered_late(route) -> None:
        if route.request.method == "POST" and not answered:
            answered.append(route.fetch(max_redirects=0))  # the shop places the order; the browser still waits
        else:
            route.continue_()

    page.route(re.compile(r"/checkout/$"), first_press_answered_late)
    place = page.get_by_role("button", name="Place order")
    place.scroll_into_view_if_needed()
    box = place.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)  # (a locator's click would wait for the navigation it starts)
    for _ in range(200):
        if answered:
            break
        page.wait_for_timeout(25)
    assert answered and answered[0].status == 307 and Order.objects.count() == 1
    with page.expect_event("framenavigated", predicate=lambda frame: frame == page.main_frame):
        page.mouse.click(x, y)  # the same page, still waiting: pressed again
    page.wait_for_load_state()

    shown = " ".join(page.locator("main").inner_text().split())
    assert "/payments/demo/" in page.url, f"{page.url} shows: {shown[:160]}..."
    order = _pay(page)
    assert Order.objects.count() == 1 and order.status == OrderStatus.PAID and stock_of(teapot) == 3
