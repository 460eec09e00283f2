"""The back office in a real browser: a seller adds an item in the admin (its slug filled in by the admin's script)
and anonymous shoppers see it on the cached category page at once; staff sign in with a second factor and ship an
order."""

from django.core import mail
from playwright.sync_api import expect

from catalog.models import Item
from orders.models import OrderStatus
from pricing.models import DiscountCode
from tests.accounts.helpers import totp_code, with_totp
from tests.browser.helpers import admin_sign_in
from tests.factories import ItemFactory, UserFactory
from tests.payments.conftest import demo_paid


def test_a_seller_adds_an_item_and_shoppers_see_it_at_once(visit, shelf):
    category = shelf["child"]
    ItemFactory(title="Frying pan", category=category, seller=shelf["seller"])
    shopper = visit()
    shopper.open(category.get_absolute_url())  # cached now, for every anonymous visitor
    expect(shopper.page.get_by_role("heading", name="Frying pan")).to_be_visible()

    seller = visit()
    page = seller.page
    admin_sign_in(seller, shelf["seller"].email)
    seller.open("/admin/catalog/item/add/")
    page.get_by_label("Title").press_sequentially("Copper kettle")  # typed, as the admin's script listens for keys
    expect(page.get_by_label("Slug")).to_have_value("copper-kettle")  # the admin's prepopulate script ran
    page.get_by_label("SKU").fill("KET-1")
    page.get_by_label("Category").select_option(str(category.pk))
    page.get_by_label("Price").fill("39.90")
    page.get_by_label("Stock:", exact=True).fill("12")
    seller.snap("admin-item-add")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("was added successfully")).to_be_visible()

    item = Item.objects.get(sku="KET-1")
    assert (item.title, item.slug, item.price_minor, item.stock, item.seller) == (
        "Copper kettle",
        "copper-kettle",
        3990,
        12,
        shelf["seller"],
    )
    shopper.page.reload()
    expect(shopper.page.get_by_role("heading", name="Copper kettle")).to_be_visible()


def test_staff_sign_in_with_a_second_factor_and_ship_an_order(visit, rates, zones, settings):
    settings.SHOP_REQUIRE_2FA = True
    teapot = ItemFactory(title="Teapot", price_minor=2400, stock=5)
    buyer = UserFactory(email="buyer@example.com")
    order = demo_paid(buyer, (teapot, 1))
    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    secret = with_totp(staff)
    mail.outbox.clear()

    browser = visit()
    page = browser.page
    admin_sign_in(browser, "staff@example.com")
    page.get_by_label("Code").fill(totp_code(secret))
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="Django Shop administration")).to_be_visible()

    browser.open("/admin/orders/order/")
    page.locator("#result_list tr", has_text=order.number).get_by_role("checkbox").check()
    page.get_by_role("combobox", name="Action").select_option("mark_shipped")
    page.get_by_role("button", name="Go").click()
    page.get_by_label("Carrier").fill("DHL")
    page.get_by_label(f"Tracking number of {order.number}").fill("JJD000123")
    browser.snap("admin-ship-form")
    page.get_by_role("button", name="Mark shipped").click()
    expect(page.get_by_text("marked shipped")).to_be_visible()

    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED and order.tracking_number == "JJD000123"
    (sent,) = [message for message in mail.outbox if message.to == ["buyer@example.com"]]
    assert "JJD000123" in sent.body


def test_staff_refund_one_unit_of_a_paid_order_and_put_it_back_in_stock(visit, rates, zones, staff):
    teapot = ItemFactory(title="Teapot", price_minor=2400, stock=5)
    order = demo_paid(UserFactory(email="buyer@example.com"), (teapot, 2))
    mail.outbox.clear()

    browser = visit()
    page = browser.page
    admin_sign_in(browser, staff.email)
    browser.open(f"/admin/orders/order/{order.pk}/change/")
    page.get_by_role("link", name="Refund lines or an amount").click()
    found = browser.accessibility_violations(impacts=("serious", "critical"))
    assert not found, "\n".join(found)
    page.get_by_label("Units of Teapot to refund").fill("1")
    page.get_by_label("Put the units back in stock").check()
    page.get_by_label("Note").fill("Arrived chipped")
    browser.snap("admin-refund-form")
    page.get_by_role("button", name="Refund").click()
    expect(page.get_by_text(f"Refunded €24.00 of order {order.number}; it is partially refunded now")).to_be_visible()

    order.refresh_from_db()
    teapot.refresh_from_db()
    assert (order.status, order.refunded_minor, teapot.stock) == (OrderStatus.PARTIALLY_REFUNDED, 2400, 4)
    assert [message.to for message in mail.outbox] == [["buyer@example.com"]]


def test_staff_create_a_discount_code_for_one_category_with_an_end_date(visit, shelf, staff):
    browser = visit()
    page = browser.page
    admin_sign_in(browser, staff.email)
    browser.open("/admin/pricing/discountcode/add/")
    found = browser.accessibility_violations(impacts=("serious", "critical"))
    assert not found, "\n".join(found)
    page.get_by_label("Code:").fill("PANS20")
    page.get_by_label("Value:").fill("20")
    page.get_by_label("Ends at: date").fill("2030-01-31")
    page.get_by_label("Ends at: time").fill("23:59:00")
    page.get_by_label("Categories:").select_option(label=shelf["child"].name)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("was added successfully")).to_be_visible()

    code = DiscountCode.objects.get(code="PANS20")
    assert (code.value, code.ends_at.date().isoformat()) == (20, "2030-01-31")
    assert list(code.categories.all()) == [shelf["child"]]
