"""Finding 9 of the probe (issue 14), beyond the catalog: addresses, names, the text an order copies and the shop's
shipping and discount settings are single-line text too (`shop.text.SingleLineCharField`), so a line break or a
control character typed into the checkout, the address book or the admin never reaches a buyer's plain-text email;
and an order stored before that rule still mails its address one part per line."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Address
from orders.models import Order
from orders.services import mark_order_paid, mark_shipped
from pricing.models import DiscountCode, ShippingZone
from tests.factories import ItemFactory, UserFactory
from tests.orders.helpers import ADDRESS_FORM, fill_cart, place

pytestmark = pytest.mark.django_db

CHECKOUT = reverse("orders:checkout")
NEW_ADDRESS = reverse("accounts:address_create")
SPOOF = "1 Main Street\n\nIMPORTANT: your payment failed, pay again at http://evil.example/pay"


@pytest.fixture
def item(db):
    return ItemFactory(stock=10, price_minor=1250)


def checkout_form(client, **address) -> dict:
    form = client.get(CHECKOUT).context["form"]
    return {**ADDRESS_FORM, "checkout_token": form.initial["checkout_token"],
            "cart_fingerprint": form.initial["cart_fingerprint"], **address}  # fmt: skip


def spoofed_lines(body: str) -> list[str]:
    return [line for line in body.splitlines() if line.startswith("IMPORTANT")]


def test_checkout_stores_a_multi_line_address_on_one_line_and_the_paid_email_shows_no_extra_line(client, user, item):
    fill_cart(user, (item, 1))
    client.force_login(user)

    response = client.post(CHECKOUT, checkout_form(client, line1=SPOOF, city="Berlin\r\nMitte"))

    assert response.status_code == 307
    order = Order.objects.get()
    assert order.shipping_line1 == SPOOF.replace("\n\n", " ") and order.shipping_city == "Berlin Mitte"
    mark_order_paid(order=order)
    body = mail.outbox[-1].body
    assert "1 Main Street IMPORTANT: your payment failed" in body and not spoofed_lines(body)


def test_checkout_refuses_a_bidi_override_in_the_address_and_places_nothing(client, user, item):
    fill_cart(user, (item, 1))
    client.force_login(user)

    response = client.post(CHECKOUT, checkout_form(client, name="Ann \u202eBuyer"))

    assert response.status_code == 200
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE)" in " ".join(response.context["form"].non_field_errors())
    assert not Order.objects.exists()


def test_the_address_book_puts_an_address_on_one_line_and_refuses_control_characters(client, user):
    client.force_login(user)

    saved = client.post(NEW_ADDRESS, {**ADDRESS_FORM, "line1": SPOOF, "line2": "Flat 2\tleft"})
    assert saved.status_code == 302
    assert Address.objects.get(user=user).line1 == SPOOF.replace("\n\n", " ")
    assert Address.objects.get(user=user).line2 == "Flat 2 left"

    for bad in ({"name": "Ann \u202eBuyer"}, {"city": "Berlin\x1b[2J"}):
        refused = client.post(NEW_ADDRESS, {**ADDRESS_FORM, **bad})
        assert refused.status_code == 200
        assert "invisible control characters" in str(refused.context["form"].errors)
    assert Address.objects.filter(user=user).count() == 1


def test_a_user_name_saved_without_validation_is_stored_on_one_line():
    user = UserFactory(first_name="Ann\n\nIMPORTANT", last_name="\u202eBuyer")
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Ann IMPORTANT", "Buyer")


def test_the_admin_refuses_a_discount_code_with_control_characters_and_puts_a_zone_name_on_one_line(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.post(
        reverse("admin:pricing_discountcode_add"),
        {"code": "SAVE\x1b[31m10", "kind": "percent", "value": "10", "min_subtotal_minor": "0", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "U+001B" in response.context["adminform"].form.errors["code"][0]
    assert not DiscountCode.objects.exists()

    response = client.post(
        reverse("admin:pricing_shippingzone_add"),
        {
            "name": "Europe\r\nIMPORTANT: pay again",
            "countries": "DE",
            "methods-TOTAL_FORMS": "0",
            "methods-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert ShippingZone.objects.get().name == "Europe IMPORTANT: pay again"


def test_the_shipped_email_of_an_order_stored_before_the_rule_shows_no_extra_line(user, item):
    order = place(user, (item, 1))
    mark_order_paid(order=order)
    # A row written before the fields were single-line (`update` skips every field's cleaning, as old code did).
    Order.objects.filter(pk=order.pk).update(shipping_line1=SPOOF, shipping_name="Ann\x1b[2J Buyer")
    mail.outbox.clear()

    # (A carrier with control characters is refused by mark_shipped: tests/orders/test_timeline.py.)
    mark_shipped(order=Order.objects.get(pk=order.pk), carrier="DHL", tracking_number="00340434161094")

    (message,) = [message for message in mail.outbox if "is on its way" in message.subject]
    assert not spoofed_lines(message.body)
    assert "1 Main Street IMPORTANT: your payment failed" in message.body
    assert "\x1b" not in message.body and "\u202e" not in message.body
    assert "Ann[2J Buyer\n" in message.body and "Carrier: DHL\n" in message.body
