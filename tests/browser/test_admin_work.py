"""Sellers and staff at work in the admin, in a real browser.

A seller edits prices and stock from the item list (while an order takes units), deactivates and retires items that
shoppers are looking at on cached pages, and sets up a second factor before reaching the admin; staff cancel an unpaid
order, reset a lost second factor, take a seller's access away, read the sales dashboard and the audit trail, and
search and filter orders and items. Each admin page worked on is checked with axe for serious and critical findings
(Django's own admin markup has minor ones)."""

import re

from allauth.mfa.models import Authenticator
from django.core import mail
from playwright.sync_api import expect

from audit.models import AuditEntry
from catalog.models import Item, StockMove
from orders.models import OrderLine, OrderStatus
from shop.money import format_money
from tests.accounts.helpers import totp_code, with_totp
from tests.browser.helpers import admin_sign_in
from tests.factories import PASSWORD, ItemFactory, SellerFactory, UserFactory
from tests.orders.helpers import place, stock_of
from tests.payments.conftest import demo_paid

SERIOUS = ("serious", "critical")
ADMIN_HOME = "Django Shop administration"


def _signed_in(visit, email: str):
    """A new browser, signed in to the admin as `email` (no second factor asked)."""
    browser = visit()
    admin_sign_in(browser, email)
    expect(browser.page.get_by_role("heading", name=ADMIN_HOME)).to_be_visible()
    return browser


def _accessible(browser) -> None:
    found = browser.accessibility_violations(impacts=SERIOUS)
    assert not found, f"{browser.page.url}:\n" + "\n".join(found)


def _row(page, text: str):
    """The change list's row that shows `text`."""
    return page.locator("#result_list tbody tr", has_text=text)


def _expect_listed(page, *names: str) -> None:
    """The change list shows exactly these rows, in this order (by their first column: a title, an order number)."""
    expect(page.locator("#result_list tbody th")).to_have_text(list(names))


def _run_action(page, label: str) -> None:
    page.get_by_role("combobox", name="Action").select_option(label=label)
    page.get_by_role("button", name="Go").click()


def _card(page, name: str):
    """An item's card on a catalog page."""
    return page.get_by_role("article").filter(has=page.get_by_role("heading", name=name))


def test_a_seller_edits_price_and_stock_from_the_item_list_while_an_order_takes_units(visit, shelf, make_item):
    pan = make_item(title="Frying pan", price_minor=1250, stock=10)
    kettle = make_item(title="Kettle", price_minor=3900, stock=3)
    rival = ItemFactory(title="Rival wok", seller=SellerFactory(), category=shelf["child"], stock=10)
    shopper = visit()
    shopper.open(shelf["child"].get_absolute_url())  # cached now, for every anonymous visitor
    expect(_card(shopper.page, "Frying pan")).to_contain_text("€12.50")

    seller = _signed_in(visit, shelf["seller"].email)
    page = seller.page
    seller.open("/admin/catalog/item/")
    _expect_listed(page, "Kettle", "Frying pan")  # newest first; another seller's items are not listed
    expect(page.get_by_text("Rival wok")).to_have_count(0)
    demo_paid(UserFactory(), (pan, 2))  # meanwhile a buyer takes 2 of the 10 pans the page shows
    assert stock_of(pan) == 8

    pan_row, kettle_row = _row(page, "Frying pan"), _row(page, "Kettle")
    pan_row.get_by_role("spinbutton").nth(0).fill("1490")  # "Price (minor units)"
    pan_row.get_by_role("spinbutton").nth(1).fill("25")  # "Stock": 15 more than the page showed
    kettle_row.get_by_role("spinbutton").nth(1).fill("0")
    seller.snap("admin-item-list-edit")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("2 items were changed successfully")).to_be_visible()
    expect(_row(page, "Frying pan")).to_contain_text("€14.90")

    pan.refresh_from_db()
    rival.refresh_from_db()
    # The 15 added go on top of what the order left: the order's 2 units stay taken.
    assert (pan.price_minor, pan.stock) == (1490, 23)
    assert stock_of(kettle) == 0
    assert (rival.price_minor, rival.stock) == (1250, 10)
    assert StockMove.objects.get(item=pan, delta=15).actor == shelf["seller"]
    assert StockMove.objects.get(item=kettle, delta=-3).actor == shelf["seller"]

    shopper.page.reload()
    expect(_card(shopper.page, "Frying pan")).to_contain_text("€14.90")
    expect(_card(shopper.page, "Kettle")).to_contain_text("Out of stock")

    # A screen reader names each editable cell (price, stock, active) of each row.
    _accessible(seller)


def test_a_seller_deactivates_an_item_and_shoppers_no_longer_find_it(visit, shelf, make_item):
    make_item(title="Frying pan")
    kettle = make_item(title="Copper kettle")
    browsing, reading, searching = visit(), visit(), visit()
    browsing.open(shelf["child"].get_absolute_url())  # each cached now, for every anonymous visitor
    expect(browsing.page.get_by_role("heading", name="Copper kettle")).to_be_visible()
    reading.open(kettle.get_absolute_url())
    searching.open("/items/?q=kettle")
    expect(searching.page.get_by_role("heading", name="Copper kettle")).to_be_visible()

    seller = _signed_in(visit, shelf["seller"].email)
    page = seller.page
    seller.open("/admin/catalog/item/")
    page.get_by_role("link", name="Copper kettle").click()
    expect(page.get_by_role("heading", name="Change item")).to_be_visible()
    _accessible(seller)
    page.get_by_label("Active").uncheck()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()
    assert not Item.objects.get(pk=kettle.pk).is_active

    browsing.page.reload()
    expect(browsing.page.get_by_role("heading", name="Frying pan")).to_be_visible()
    expect(browsing.page.get_by_role("heading", name="Copper kettle")).to_have_count(0)
    assert reading.page.reload().status == 404
    expect(reading.page.get_by_role("heading", name="Page not found")).to_be_visible()
    searching.page.reload()
    expect(searching.page.get_by_role("heading", name="No items match “kettle”")).to_be_visible()


def test_a_seller_sets_up_a_second_factor_before_reaching_the_admin(visit, shelf, make_item, settings):
    settings.SHOP_REQUIRE_2FA = True
    make_item(title="Frying pan")
    seller_user = shelf["seller"]
    browser = visit()
    page = browser.page
    admin_sign_in(browser, seller_user.email)
    expect(page.get_by_text("set up two-factor authentication to continue")).to_be_visible()
    browser.open("/admin/catalog/item/")  # no way round it
    expect(page.get_by_text("set up two-factor authentication to continue")).to_be_visible()
    assert "/admin/" not in page.url
    _accessible(browser)
    if page.get_by_role("heading", name="Confirm Access").count():  # allauth asks for the password again first
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()

    secret = page.get_by_label("Authenticator secret").input_value()
    expect(page.get_by_role("img", name=secret)).to_be_visible()  # the QR code
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_text("Authenticator app activated.")).to_be_visible()
    assert set(Authenticator.objects.filter(user=seller_user).values_list("type", flat=True)) == {
        "totp",
        "recovery_codes",
    }

    page.get_by_role("button", name=seller_user.email).click()  # the account menu
    page.get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name=ADMIN_HOME)).to_be_visible()
    page.get_by_role("link", name="Items").first.click()
    _expect_listed(page, "Frying pan")


def test_staff_cancel_an_unpaid_order_and_its_stock_comes_back(visit, rates, zones):
    staff = UserFactory(first_name="Sam", last_name="Clerk", is_staff=True, is_superuser=True)
    teapot = ItemFactory(title="Teapot", price_minor=2400, stock=5)
    order = place(UserFactory(email="buyer@example.com"), (teapot, 2))
    paid = demo_paid(UserFactory(email="other@example.com"), (teapot, 1))
    assert stock_of(teapot) == 2
    mail.outbox.clear()

    browser = _signed_in(visit, staff.email)
    page = browser.page
    browser.open("/admin/orders/order/")
    _row(page, order.number).get_by_role("checkbox").check()
    _row(page, paid.number).get_by_role("checkbox").check()  # a paid order cannot be cancelled: skipped, named
    _run_action(page, "Cancel selected orders (releases their stock)")
    expect(page.get_by_text("1 order cancelled, their stock released")).to_be_visible()
    expect(page.get_by_text(f"Skipped {paid.number}: it is paid and cannot become cancelled.")).to_be_visible()
    _accessible(browser)

    order.refresh_from_db()
    paid.refresh_from_db()
    assert (order.status, paid.status) == (OrderStatus.CANCELLED, OrderStatus.PAID)
    assert stock_of(teapot) == 4
    (sent,) = mail.outbox
    assert sent.to == ["buyer@example.com"] and order.number in sent.subject + sent.body

    page.get_by_role("link", name=order.number).click()  # its timeline names who cancelled it
    timeline = page.get_by_role("group", name="Timeline")
    expect(timeline.get_by_role("row").filter(has_text="Sam Clerk")).to_have_count(1)
    _accessible(browser)


def test_staff_reset_a_sellers_lost_second_factor(visit, staff, settings):
    seller_user = SellerFactory(email="seller@example.com")
    with_totp(seller_user)
    plain = UserFactory(email="shopper@example.com")

    browser = _signed_in(visit, staff.email)
    page = browser.page
    browser.open("/admin/accounts/user/")
    _accessible(browser)
    _row(page, "seller@example.com").get_by_role("checkbox").check()
    _row(page, "shopper@example.com").get_by_role("checkbox").check()
    _run_action(page, "Reset two-factor authentication (a lost phone)")
    expect(page.get_by_text("seller@example.com: two-factor authentication removed")).to_be_visible()
    expect(page.get_by_text("shopper@example.com had no two-factor authentication.")).to_be_visible()
    assert not Authenticator.objects.filter(user__in=[seller_user, plain]).exists()
    assert AuditEntry.objects.filter(model="mfa.authenticator", action="delete", actor=staff).exists()

    # The seller signs in with the password alone, and must set up a new second factor before anything else.
    settings.SHOP_REQUIRE_2FA = True
    seller = visit()
    admin_sign_in(seller, "seller@example.com")
    expect(seller.page.get_by_text("set up two-factor authentication to continue")).to_be_visible()
    expect(seller.page.get_by_role("heading", name=ADMIN_HOME)).to_have_count(0)


def test_staff_take_a_sellers_admin_access_away_and_their_open_session_ends(visit, staff, shelf, make_item):
    make_item(title="Frying pan")
    seller = _signed_in(visit, shelf["seller"].email)
    seller.open("/admin/catalog/item/")
    _expect_listed(seller.page, "Frying pan")

    browser = _signed_in(visit, staff.email)
    page = browser.page
    browser.open("/admin/accounts/user/?role=seller")
    _expect_listed(page, shelf["seller"].email)
    page.get_by_role("link", name=shelf["seller"].email).click()
    expect(page.get_by_role("heading", name="Change user")).to_be_visible()
    user_form = page.url
    page.get_by_label("Active").uncheck()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()
    assert not type(staff).objects.get(pk=shelf["seller"].pk).is_active

    seller.page.reload()  # the seller's next click in the admin
    expect(seller.page.get_by_role("heading", name="Sign In")).to_be_visible()
    assert "/accounts/login/" in seller.page.url

    page.goto(user_form)
    _accessible(browser)  # the form staff just used


def test_staff_and_a_seller_read_the_sales_dashboard(visit, rates, zones, staff, shelf, make_item):
    teapot = make_item(title="Teapot", price_minor=2400, stock=9)
    make_item(title="Last cup", price_minor=600, stock=2)
    wok = ItemFactory(title="Rival wok", price_minor=5000, stock=20)
    buyer = UserFactory(email="buyer@example.com")
    orders = [demo_paid(buyer, (teapot, 2)), demo_paid(buyer, (wok, 1))]
    place(buyer, (wok, 1))  # not paid: counted by status, not in the sales

    browser = _signed_in(visit, staff.email)
    page = browser.page
    page.get_by_role("link", name="Sales dashboard").click()
    expect(page.get_by_role("heading", name="Shop dashboard")).to_be_visible()
    expect(page.get_by_text("Figures over the whole shop.")).to_be_visible()
    _accessible(browser)
    gross = page.locator(".dashboard-card").filter(has=page.get_by_role("heading", name="Gross sales"))
    expect(gross).to_contain_text(format_money(sum(order.total_minor for order in orders)))
    expect(gross).to_contain_text("2 orders paid")
    best = page.locator("section").filter(has=page.get_by_role("heading", name="Best sellers"))
    expect(best.get_by_role("row").nth(1)).to_contain_text("Teapot")  # most units first
    expect(best.get_by_role("row", name=re.compile("Teapot")).get_by_role("cell").nth(1)).to_have_text("2")
    expect(best.get_by_role("row", name=re.compile("Rival wok"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("^Paid")).get_by_role("cell")).to_have_text("2")
    expect(page.get_by_role("row", name=re.compile("^Pending payment")).get_by_role("cell")).to_have_text("1")
    low = page.locator("section").filter(has=page.get_by_role("heading", name="Low stock"))
    low.get_by_role("link", name="Last cup").click()
    expect(page.get_by_role("heading", name="Change item")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("Last cup")

    seller = _signed_in(visit, shelf["seller"].email)
    spage = seller.page
    spage.get_by_role("link", name="Sales dashboard").click()
    expect(spage.get_by_role("heading", name="Your sales")).to_be_visible()
    expect(spage.get_by_text("Figures over your own items and order lines only.")).to_be_visible()
    line = OrderLine.objects.get(order=orders[0])
    share = line.line_total_minor - line.discount_minor + (0 if orders[0].prices_include_tax else line.tax_minor)
    gross = spage.locator(".dashboard-card").filter(has=spage.get_by_role("heading", name="Gross sales"))
    expect(gross).to_contain_text(format_money(share))
    expect(gross).to_contain_text("1 order paid")
    expect(spage.get_by_role("main")).to_contain_text("Teapot")
    expect(spage.get_by_role("main")).not_to_contain_text("Rival wok")
    _accessible(seller)


def test_the_audit_trail_lists_a_change_staff_just_made(visit, staff, shelf, make_item):
    pan = make_item(title="Frying pan", price_minor=1250)
    browser = _signed_in(visit, staff.email)
    page = browser.page
    browser.open(f"/admin/catalog/item/{pan.pk}/change/")
    page.get_by_label("Title").fill("Cast-iron pan")
    page.get_by_label("Price").fill("19.90")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("main")).to_contain_text("Changed Title and Price")

    browser.open("/admin/")
    page.get_by_role("link", name="Audit entries").click()
    row = _row(page, "Cast-iron pan")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(staff.email)
    expect(row).to_contain_text("Admin")
    expect(row).to_contain_text("title")
    expect(row).to_contain_text("price_minor")
    _accessible(browser)
    filters = page.get_by_role("navigation", name="Filter")
    filters.get_by_role("link", name="catalog.item").click()
    filters.get_by_role("link", name=staff.email).click()
    filters.get_by_role("link", name="Changed").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(_row(page, "Cast-iron pan")).to_have_count(1)
    _row(page, "Cast-iron pan").get_by_role("link").first.click()
    expect(page.get_by_role("row", name="title Frying pan Cast-iron pan")).to_be_visible()
    expect(page.get_by_role("row", name="price_minor 1250 1990")).to_be_visible()
    _accessible(browser)
    entry = AuditEntry.objects.get(model="catalog.item", object_id=str(pan.pk), actor=staff)
    assert entry.changes["title"] == ["Frying pan", "Cast-iron pan"]


def test_staff_search_and_filter_orders_and_items(visit, rates, zones, staff, shelf, make_item):
    teapot = make_item(title="Teapot", sku="TEA-1", stock=9)
    make_item(title="Tea cup", sku="CUP-1", stock=0)
    make_item(title="Kettle", sku="KET-1", stock=3)
    ItemFactory(title="Tea towel", sku="TOW-1", stock=0)  # another seller's
    unpaid = place(UserFactory(email="ann@example.com"), (teapot, 1))
    paid = demo_paid(UserFactory(email="bob@example.com"), (teapot, 1))

    browser = _signed_in(visit, staff.email)
    page = browser.page
    browser.open("/admin/orders/order/")
    _expect_listed(page, paid.number, unpaid.number)
    page.get_by_role("textbox", name="Search").fill("bob@example")
    page.get_by_role("button", name="Search").click()
    _expect_listed(page, paid.number)
    page.get_by_role("textbox", name="Search").fill(unpaid.number.lower())
    page.get_by_role("button", name="Search").click()
    _expect_listed(page, unpaid.number)
    browser.open("/admin/orders/order/")
    page.get_by_role("navigation", name="Filter").get_by_role("link", name="Pending payment").click()
    _expect_listed(page, unpaid.number)
    _accessible(browser)

    browser.open("/admin/catalog/item/")
    page.get_by_role("textbox", name="Search").fill("tea")
    page.get_by_role("button", name="Search").click()
    _expect_listed(page, "Tea towel", "Tea cup", "Teapot")
    filters = page.get_by_role("navigation", name="Filter")
    filters.get_by_role("link", name="Out of stock").click()
    _expect_listed(page, "Tea towel", "Tea cup")  # the search stays
    filters.get_by_role("link", name=shelf["seller"].email).click()
    _expect_listed(page, "Tea cup")
    page.get_by_role("textbox", name="Search").fill("KET-1")
    page.get_by_role("button", name="Search").click()
    _expect_listed(page)  # the filters stay: the kettle is in stock
    filters.get_by_role("group").filter(has_text="By stock").get_by_role("link", name="All").click()
    _expect_listed(page, "Kettle")
    # (the item list's editable columns are checked with axe by the seller's test)


def test_a_seller_retires_items_that_past_orders_refer_to(visit, rates, zones, shelf, make_item):
    pan = make_item(title="Frying pan", stock=10)
    kettle = make_item(title="Kettle", stock=10)
    spare = make_item(title="Spare lid", stock=10)  # never sold: really deleted
    demo_paid(UserFactory(), (pan, 1), (kettle, 1))

    seller = _signed_in(visit, shelf["seller"].email)
    page = seller.page
    seller.open(f"/admin/catalog/item/{pan.pk}/change/")
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete")).to_be_visible()
    _accessible(seller)
    page.get_by_role("button", name=re.compile("^Yes, I.m sure$")).click()
    expect(page.get_by_text("Past orders refer to “Frying pan”: deactivated instead of deleted.")).to_be_visible()
    said_after_one = page.locator("ul.messagelist").inner_text()

    _row(page, "Kettle").get_by_role("checkbox").first.check()
    _row(page, "Spare lid").get_by_role("checkbox").first.check()
    _run_action(page, "Delete selected items")
    page.get_by_role("button", name=re.compile("^Yes, I.m sure$")).click()
    expect(page.get_by_text("Past orders refer to “Kettle”: deactivated instead of deleted.")).to_be_visible()
    said_after_two = page.locator("ul.messagelist").inner_text()

    pan.refresh_from_db()
    kettle.refresh_from_db()
    assert (pan.is_active, kettle.is_active) == (False, False)
    assert not Item.objects.filter(pk=spare.pk).exists()
    _expect_listed(page, "Kettle", "Frying pan")  # still there, inactive
    # The admin must not also tell the seller that the items it kept were deleted.
    told = {"the item's Delete button": said_after_one, "the Delete selected items action": said_after_two}
    deleted = re.compile("deleted successfully|Successfully deleted")
    contradicted = {how: said for how, said in told.items() if deleted.search(said)}
    assert not contradicted, contradicted
