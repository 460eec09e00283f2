"""What a shopper sees of the breakdown: a code applied in the cart, shipping and VAT at checkout, the same amounts on
the placed order's page and in its email."""

import pytest
from django.core import mail
from django.urls import reverse

from cart.selectors import CartOwner, cart_for_user
from cart.services import apply_discount
from orders.models import Order
from orders.services import mark_order_paid
from pricing.exceptions import DiscountRefused
from pricing.models import DiscountCode, ShippingMethod
from shop.money import format_money
from tests.orders.helpers import ADDRESS_FORM, fill_cart

pytestmark = pytest.mark.django_db
CART, CHECKOUT = reverse("cart:detail"), reverse("orders:checkout")


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def pan(make_item, rates, zones):
    return make_item(title="Steel Pan", price_minor=2000, stock=10)


def test_a_code_applied_in_the_cart_shows_what_it_saves(client, user, pan):
    DiscountCode.objects.create(code="WELCOME10", kind="percent", value=10)
    fill_cart(user, (pan, 2))
    client.force_login(user)

    response = client.post(reverse("cart:discount"), {"code": " welcome10 "}, follow=True)

    html = response.content.decode()
    assert "Code WELCOME10 applied." in _messages(response)
    assert "WELCOME10" in html and "&minus;€4.00" in html and "€40.90" in html  # 40.00 - 4.00 + shipping 4.90
    assert "incl. VAT 19%" in html
    assert cart_for_user(user=user).discount_code == "WELCOME10"

    removed = client.post(reverse("cart:discount"), {"remove": "1"}, follow=True)
    assert "Discount code removed." in _messages(removed) and cart_for_user(user=user).discount_code == ""


@pytest.mark.parametrize(
    "code, message",
    [
        ("NOPE", "There is no discount code NOPE."),
        ("OLD", "The code OLD has expired."),
        ("BIG", "The code BIG needs goods worth at least €100.00."),
        ("", "Enter a discount code."),
        ("X" * 41, "No code is that long."),
    ],
)
def test_a_code_the_cart_cannot_take_is_refused_with_its_reason(client, user, pan, code, message):
    DiscountCode.objects.create(code="OLD", kind="percent", value=10, is_active=False)
    DiscountCode.objects.create(code="BIG", kind="fixed", value=500, min_subtotal_minor=10000)
    fill_cart(user, (pan, 1))
    client.force_login(user)

    response = client.post(reverse("cart:discount"), {"code": code}, follow=True)

    assert message in _messages(response) and cart_for_user(user=user).discount_code == ""


def test_an_anonymous_cart_keeps_its_code_into_the_account_at_login(client, user, pan):
    DiscountCode.objects.create(code="FREESHIP", kind="free_shipping")
    client.post(reverse("cart:add"), {"item": pan.pk, "quantity": 1})
    client.post(reverse("cart:discount"), {"code": "freeship"})
    page = client.get(CART).content.decode()
    assert "FREESHIP" in page and "applied" in page
    assert "&minus;" + format_money(0, "EUR") not in page  # a free-shipping code takes nothing off the goods

    client.post(reverse("account_login"), {"login": user.email, "password": "a-Strong-pass-9173"})
    assert cart_for_user(user=user).discount_code == "FREESHIP"


def test_an_empty_cart_takes_no_code(user, pan):
    DiscountCode.objects.create(code="TEN", kind="percent", value=10)
    with pytest.raises(Exception, match="empty"):
        apply_discount(owner=CartOwner(user=user), code="TEN")
    with pytest.raises(DiscountRefused):
        fill_cart(user, (pan, 1))
        apply_discount(owner=CartOwner(user=user), code="nope")


def _checkout_form(client, **fields) -> dict:
    form = client.get(CHECKOUT).context["form"]
    return {**ADDRESS_FORM, "checkout_token": form.initial["checkout_token"],
            "cart_fingerprint": form.initial["cart_fingerprint"], "shipping_method": "", "discount_code": "",
            **fields}  # fmt: skip


def test_checkout_with_a_code_and_express_shipping_to_germany(client, user, pan, zones):
    DiscountCode.objects.create(code="WELCOME10", kind="percent", value=10)
    fill_cart(user, (pan, 2))
    client.force_login(user)
    page = client.get(CHECKOUT).content.decode()
    assert "Germany: Express (€12.90, 1 day)" in page and "€4.90" in page  # cheapest to the shop's country first

    form = _checkout_form(client, shipping_method=str(zones["express"].pk), discount_code="welcome10")
    response = client.post(CHECKOUT, form)

    order = Order.objects.get()
    assert response.status_code == 307  # on to the payment start, as a POST
    assert (order.subtotal_minor, order.discount_minor, order.shipping_minor) == (4000, 400, 1290)
    assert order.total_minor == 4890 and order.shipping_method == "Express" and order.discount_code == "WELCOME10"
    detail = client.get(order.get_absolute_url()).content.decode()
    assert "€48.90" in detail and "incl. VAT 19%" in detail and "€7.81" in detail  # 575 + 206
    assert "&minus;€4.00" in detail and "Express" in detail

    mark_order_paid(order=order)
    body = mail.outbox[-1].body
    assert "Discount (WELCOME10): -€4.00" in body and "Shipping (Express): €12.90" in body
    assert "Total: €48.90" in body and "incl. VAT 19%: €7.81" in body


def test_checkout_refuses_a_method_for_another_country_and_keeps_the_cart(client, user, pan, zones):
    fill_cart(user, (pan, 1))
    client.force_login(user)

    response = client.post(CHECKOUT, _checkout_form(client, shipping_method=str(zones["europe"].pk)))

    assert response.status_code == 200 and "does not deliver this cart there" in response.content.decode()
    assert not Order.objects.exists() and cart_for_user(user=user).count == 1


def test_checkout_refuses_an_exhausted_code_with_its_reason(client, user, pan):
    DiscountCode.objects.create(code="GONE", kind="percent", value=10, usage_limit=1, used_count=1)
    fill_cart(user, (pan, 1))
    client.force_login(user)

    response = client.post(CHECKOUT, _checkout_form(client, discount_code="gone"))

    assert "The code GONE has been used up." in response.content.decode() and not Order.objects.exists()


def test_the_checkout_summary_prices_the_code_applied_in_the_cart(client, user, pan):
    DiscountCode.objects.create(code="WELCOME10", kind="percent", value=10)
    fill_cart(user, (pan, 1))
    client.force_login(user)
    client.post(reverse("cart:discount"), {"code": "WELCOME10"})

    page = client.get(CHECKOUT).content.decode()

    assert "WELCOME10" in page and "&minus;€2.00" in page and "€22.90" in page  # 20.00 - 2.00 + 4.90


@pytest.mark.parametrize("shared_cache", [True, False])
def test_a_shipping_price_changed_after_the_checkout_page_is_shown_before_the_order(
    client, user, pan, zones, settings, shared_cache
):
    """Staff change the Standard rate while the shopper reads the page: "Place order" shows the new total to
    review instead of ordering at a price they did not see. Whether the prices' version is at hand or not."""
    settings.CACHE_IS_SHARED = shared_cache
    fill_cart(user, (pan, 1))
    client.force_login(user)
    form = _checkout_form(client, shipping_method=str(zones["standard"].pk))
    standard = ShippingMethod.objects.get(pk=zones["standard"].pk)
    standard.price_minor += 500
    standard.save()

    refused = client.post(CHECKOUT, form)
    assert refused.status_code == 200 and not Order.objects.exists()
    assert "Your cart changed since you opened checkout" in refused.content.decode()
    reviewed = {**form, "cart_fingerprint": refused.context["form"].data["cart_fingerprint"]}
    assert client.post(CHECKOUT, reviewed).status_code == 307
    assert Order.objects.get().shipping_minor == standard.price_minor
