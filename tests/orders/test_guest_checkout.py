"""A visitor buys without an account: email, address, code and paid shipping; the order page through the emailed
signed link; an account made later with that email (once confirmed) owns the order. Signed-in shoppers reuse saved
addresses."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.selectors import addresses_for
from accounts.services import save_address
from cart.selectors import CartOwner
from orders.exceptions import NotAllowed
from orders.models import Order, OrderStatus
from orders.services import place_order
from pricing.models import DiscountCode
from tests.factories import PASSWORD, ItemFactory
from tests.orders.helpers import ADDRESS, ADDRESS_FORM, fill_cart, stock_of

pytestmark = pytest.mark.django_db
CHECKOUT = reverse("orders:checkout")


def _form(client, **fields) -> dict:
    form = client.get(CHECKOUT).context["form"]
    return {**ADDRESS_FORM, "checkout_token": form.initial["checkout_token"],
            "cart_fingerprint": form.initial["cart_fingerprint"], "shipping_method": "", "discount_code": "",
            **fields}  # fmt: skip


@pytest.fixture
def goods(rates, zones):
    return ItemFactory(title="Teapot", price_minor=2400, stock=5), ItemFactory(title="Cup", price_minor=600, stock=9)


def test_a_visitor_buys_as_a_guest_and_comes_back_through_the_emailed_link(client, goods, zones):
    teapot, cup = goods
    DiscountCode.objects.create(code="WELCOME10", kind="percent", value=10)
    client.post(reverse("cart:add"), {"item": teapot.pk, "quantity": 1})
    client.post(reverse("cart:add"), {"item": cup.pk, "quantity": 2})
    client.post(reverse("cart:discount"), {"code": "WELCOME10"})
    page = client.get(CHECKOUT).content.decode()
    assert 'name="email"' in page and "Checking out as a guest" in page

    form = _form(client, email="guest@example.com", shipping_method=str(zones["express"].pk), discount_code="WELCOME10")
    response = client.post(CHECKOUT, form)

    order = Order.objects.get()
    assert order.buyer is None and order.email == "guest@example.com"
    assert (order.subtotal_minor, order.discount_minor, order.shipping_minor) == (3600, 360, 1290)
    assert order.total_minor == 3600 - 360 + 1290 and order.taxes == [(1900, 517 + 206)]
    assert response.status_code == 307 and response.url == reverse("payments:start", kwargs={"number": order.number})
    assert (stock_of(teapot), stock_of(cup)) == (4, 7)
    # This browser may pay for it and see it; the cart is empty now.
    assert client.post(response.url, form).status_code == 302
    detail = client.get(order.get_absolute_url()).content.decode()
    assert "€45.30" in detail and "incl. VAT 19%" in detail and "Create an account" in detail
    # The email names the order and carries its signed link.
    (sent,) = [message for message in mail.outbox if order.number in message.subject]
    assert sent.to == ["guest@example.com"] and "incl. VAT 19%: €7.23" in sent.body
    link = re.search(r"http://127\.0\.0\.1:8000(/orders/view/\S+/)", sent.body).group(1)

    stranger = Client()
    assert stranger.get(order.get_absolute_url()).status_code == 302  # to the login page: not theirs
    opened = stranger.get(link, follow=True)
    assert opened.status_code == 200 and "€45.30" in opened.content.decode()
    tampered = Client().get(link.replace("/view/", "/view/x"), follow=True)
    assert "This order link is not valid" in tampered.content.decode()

    cancelled = stranger.post(reverse("orders:cancel", kwargs={"number": order.number}), follow=True)
    assert cancelled.status_code == 200 and Order.objects.get().status == OrderStatus.CANCELLED


def test_an_account_made_later_with_the_guests_email_owns_the_order_once_confirmed(client, goods):
    guest = Client()
    guest.post(reverse("cart:add"), {"item": goods[0].pk, "quantity": 1})
    guest.post(CHECKOUT, _form(guest, email="Later@Example.com"))
    order = Order.objects.get()

    client.post(reverse("account_signup"), {"email": "later@example.com", "password1": PASSWORD, "password2": PASSWORD})
    assert Order.objects.get().buyer is None  # not before the address is confirmed
    address = EmailAddress.objects.get(email="later@example.com")
    from allauth.account.models import EmailConfirmationHMAC
    from allauth.account.signals import email_confirmed

    address.verified = True
    address.save()
    email_confirmed.send(sender=EmailConfirmationHMAC, request=None, email_address=address)

    assert Order.objects.get().buyer == address.user
    client.force_login(address.user)  # a signup signs in only once its address is confirmed (issue 14, finding 10)
    assert order.number in client.get(reverse("orders:list")).content.decode()


def test_guest_checkout_can_be_turned_off(client, goods, settings):
    settings.SHOP_GUEST_CHECKOUT = False
    client.post(reverse("cart:add"), {"item": goods[0].pk, "quantity": 1})
    assert "/accounts/login/" in client.get(CHECKOUT).url
    with pytest.raises(NotAllowed):
        place_order(guest=CartOwner(session=client.session), guest_email="a@example.com", address=ADDRESS)


@pytest.mark.parametrize("email", ["", "not-an-email"])
def test_a_guest_without_a_valid_email_is_asked_for_one(client, goods, email):
    client.post(reverse("cart:add"), {"item": goods[0].pk, "quantity": 1})
    response = client.post(CHECKOUT, _form(client, email=email))
    assert response.status_code == 200 and not Order.objects.exists()
    assert "email" in response.context["form"].errors


def test_a_signed_in_shopper_ships_to_a_saved_address_and_saves_a_new_one(client, user, goods):
    home = save_address(user=user, name="Ann Buyer", line1="1 Home Road", postal_code="80331", city="Munich",
                        country="DE")  # fmt: skip
    save_address(user=user, name="Ann Buyer", line1="9 Office Park", postal_code="1010", city="Vienna", country="AT")
    fill_cart(user, (goods[0], 1))
    client.force_login(user)
    page = client.get(CHECKOUT)
    assert page.context["form"].initial["use_address"] == str(home.pk)  # the default first
    assert "9 Office Park" in page.content.decode()
    # The browser must let the form go with the new address's fields empty (tests/browser found it would not).
    assert re.search(r'<input[^>]*name="line1"[^>]*>', page.content.decode()).group(0).count(" required") == 0

    client.post(CHECKOUT, {**_form(client, use_address=str(home.pk)), "name": "", "line1": "", "city": ""})

    order = Order.objects.get()
    assert (order.shipping_line1, order.shipping_city, order.shipping_country) == ("1 Home Road", "Munich", "DE")

    fill_cart(user, (goods[1], 1))
    new = {"line1": "5 New Street", "city": "Hamburg", "postal_code": "20095"}
    client.post(CHECKOUT, _form(client, use_address="", save_address="on", **new))
    assert Order.objects.filter(shipping_line1="5 New Street").exists()
    assert "5 New Street" in [address.line1 for address in addresses_for(user=user)]


def test_another_users_address_id_is_refused(client, user, goods):
    from tests.factories import UserFactory

    other = save_address(user=UserFactory(), name="X", line1="2 Secret Lane", postal_code="10115", city="Berlin",
                         country="DE")  # fmt: skip
    save_address(user=user, name="Ann", line1="1 Home Road", postal_code="80331", city="Munich", country="DE")
    fill_cart(user, (goods[0], 1))
    client.force_login(user)

    response = client.post(CHECKOUT, _form(client, use_address=str(other.pk)))

    assert response.status_code == 200 and not Order.objects.exists()
    assert "use_address" in response.context["form"].errors


@pytest.mark.django_db(transaction=True)
def test_two_tabs_of_one_guest_submitting_one_cart_at_once_make_one_order(concurrent_db, rates, zones):
    """A guest's cart lives in the session, which no lock guards: the session cart's own id is the checkout token,
    whichever form (each tab has its own) was sent."""
    from tests.orders.test_concurrency import race

    teapot = ItemFactory(title="Teapot", price_minor=2400, stock=5)
    tabs = [Client(), Client()]
    tabs[0].post(reverse("cart:add"), {"item": teapot.pk, "quantity": 2})
    tabs[1].cookies = tabs[0].cookies  # one browser
    forms = [_form(tab, email="guest@example.com") for tab in tabs]
    assert forms[0]["checkout_token"] != forms[1]["checkout_token"]

    outcomes = race(
        *(
            lambda tab=tab, form=form: tab.post(CHECKOUT, form).status_code
            for tab, form in zip(tabs, forms, strict=True)
        )
    )

    assert outcomes == ["307", "307"]
    assert Order.objects.count() == 1 and stock_of(teapot) == 3
    assert tabs[0].get(reverse("cart:detail")).context["cart"].is_empty


def test_a_guests_checkout_form_posted_from_another_browser_opens_no_order(client, goods):
    teapot, _ = goods
    client.post(reverse("cart:add"), {"item": teapot.pk, "quantity": 1})
    form = _form(client, email="guest@example.com")
    assert client.post(CHECKOUT, form).status_code == 307
    order = Order.objects.get()

    stranger = Client()
    stranger.post(reverse("cart:add"), {"item": teapot.pk, "quantity": 1})
    stranger.post(CHECKOUT, {**form, "email": "someone@example.com"})  # the guest's form, token and all
    assert stranger.get(order.get_absolute_url()).url.startswith(reverse("account_login"))  # not theirs
    assert Order.objects.count() == 2 and Order.objects.exclude(pk=order.pk).get().email == "someone@example.com"


def test_a_guest_pressing_place_order_again_after_the_order_was_placed_goes_on_to_pay_it(client, goods):
    teapot, _ = goods
    client.post(reverse("cart:add"), {"item": teapot.pk, "quantity": 1})
    form = _form(client, email="guest@example.com")
    first = client.post(CHECKOUT, form)  # placed; the cart is empty now
    again = client.post(CHECKOUT, form)  # the browser sent the form once more before showing the next page
    third = client.post(CHECKOUT, form)

    order = Order.objects.get()
    assert first.status_code == again.status_code == third.status_code == 307 and again.url == third.url == first.url
    assert stock_of(teapot) == 4
    # A cart emptied by hand forgets it: an old form then finds nothing to order.
    client.post(reverse("cart:add"), {"item": teapot.pk, "quantity": 1})
    client.post(reverse("cart:empty"))
    stale = client.post(CHECKOUT, form)
    assert stale.status_code == 200 and "Your cart is empty" in stale.content.decode() and Order.objects.get() == order


def test_a_double_submitted_checkout_saves_the_new_address_once(client, user, goods):
    teapot, _ = goods
    client.force_login(user)
    client.post(reverse("cart:add"), {"item": teapot.pk, "quantity": 1})
    form = _form(client, save_address="on")
    assert [client.post(CHECKOUT, form).status_code for _ in range(2)] == [307, 307]
    assert Order.objects.count() == 1 and len(addresses_for(user=user)) == 1
