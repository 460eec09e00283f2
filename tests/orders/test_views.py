import pytest
from django.urls import reverse

from catalog.models import Item
from orders.models import Order, OrderStatus
from orders.services import mark_order_paid
from tests.factories import UserFactory
from tests.orders.helpers import ADDRESS_FORM, fill_cart, place, stock_of

pytestmark = pytest.mark.django_db
CHECKOUT = "/checkout/"


def checkout_form(client) -> dict:
    """The address plus the hidden fields the checkout page rendered."""
    context = client.get(CHECKOUT).context
    form = context["form"]
    return {**ADDRESS_FORM, "checkout_token": form.initial["checkout_token"],
            "cart_fingerprint": form.initial["cart_fingerprint"]}  # fmt: skip


def test_checkout_requires_login_when_guest_checkout_is_off(client, settings):
    settings.SHOP_GUEST_CHECKOUT = False
    response = client.get(CHECKOUT)
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_checkout_with_an_empty_cart_sends_the_shopper_to_the_cart(client, user):
    client.force_login(user)
    response = client.get(CHECKOUT)
    assert response.status_code == 302 and response.url == reverse("cart:detail")


def test_checkout_page_shows_the_summary_and_the_address_form(client, user, item):
    fill_cart(user, (item, 2))
    client.force_login(user)
    response = client.get(CHECKOUT)
    html = response.content.decode()
    assert response.status_code == 200
    assert item.title in html and "€25.00" in html and 'name="postal_code"' in html and "Place order" in html


def test_checkout_is_blocked_while_the_cart_has_problems(client, user, item):
    fill_cart(user, (item, 2))
    Item.objects.filter(pk=item.pk).update(stock=1)
    client.force_login(user)
    response = client.get(CHECKOUT)
    html = response.content.decode()
    assert "cannot be ordered right now" in html and "Only 1 left" in html and "Place order" not in html


def test_placing_an_order_reserves_stock_and_goes_to_payment(client, user, item):
    fill_cart(user, (item, 2))
    client.force_login(user)
    response = client.post(CHECKOUT, checkout_form(client))

    order = Order.objects.get()
    assert response.status_code == 307  # the browser posts the form again there: starting a payment is POST only
    assert response.url == reverse("payments:start", kwargs={"number": order.number})
    assert order.shipping_name == "Ann Buyer" and order.shipping_country == "DE" and order.total_minor == 2500
    assert stock_of(item) == 8


def test_double_submit_creates_one_order(client, user, item):
    fill_cart(user, (item, 2))
    client.force_login(user)
    data = checkout_form(client)
    first = client.post(CHECKOUT, data)
    second = client.post(CHECKOUT, data)  # the cart is empty by now: the token finds the order

    assert first.url == second.url
    assert Order.objects.count() == 1 and stock_of(item) == 8


def test_invalid_address_is_refused_with_field_errors(client, user, item):
    fill_cart(user, (item, 1))
    client.force_login(user)
    data = {**checkout_form(client), "name": "", "postal_code": "!!", "country": "XX"}
    response = client.post(CHECKOUT, data)

    errors = response.context["form"].errors
    assert response.status_code == 200 and set(errors) == {"name", "postal_code", "country"}
    assert not Order.objects.exists() and stock_of(item) == 10


def test_cart_changed_between_checkout_page_and_order_is_shown_for_review(client, user, item):
    fill_cart(user, (item, 1))
    client.force_login(user)
    data = checkout_form(client)
    Item.objects.filter(pk=item.pk).update(price_minor=2000)

    response = client.post(CHECKOUT, data)
    assert response.status_code == 200 and "Your cart changed" in response.content.decode()
    assert "€20.00" in response.content.decode() and not Order.objects.exists()
    # The page now shows the new cart; confirming it places the order at the new price.
    client.post(CHECKOUT, {**data, "cart_fingerprint": response.context["form"].data["cart_fingerprint"]})
    assert Order.objects.get().total_minor == 2000


def test_order_history_and_detail_show_only_the_buyers_orders(client, user, item):
    mine = place(user, (item, 1))
    theirs = place(UserFactory(), (item, 1))
    client.force_login(user)

    listing = client.get("/orders/").content.decode()
    assert mine.number in listing and theirs.number not in listing
    detail = client.get(mine.get_absolute_url())
    assert detail.status_code == 200 and "Pay now" in detail.content.decode()
    assert client.get(theirs.get_absolute_url()).status_code == 404
    assert client.get("/orders/NOSUCH00/").status_code == 404


def test_buyer_cancels_a_pending_order_and_stock_returns(client, user, item):
    order = place(user, (item, 3))
    client.force_login(user)
    response = client.post(reverse("orders:cancel", kwargs={"number": order.number}), follow=True)

    assert "is cancelled" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED and stock_of(item) == 10


def test_cancelling_a_paid_order_is_refused_with_a_message(client, user, item):
    order = place(user, (item, 1))
    mark_order_paid(order=order)
    client.force_login(user)
    response = client.post(reverse("orders:cancel", kwargs={"number": order.number}), follow=True)
    assert "cannot become cancelled" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_another_users_order_cannot_be_cancelled(client, user, item):
    order = place(user, (item, 1))
    client.force_login(UserFactory())
    assert client.post(reverse("orders:cancel", kwargs={"number": order.number})).status_code == 404
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT
