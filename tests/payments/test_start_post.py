"""Starting a payment is a CSRF-protected POST (issue 14, finding 12): a GET, a link, a prefetch or a cross-site form
opens no gateway session; the order page's Pay button and the checkout form (through a 307) still get there."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import Order
from payments.models import Payment
from tests.factories import UserFactory
from tests.orders.helpers import ADDRESS_FORM, fill_cart, place

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def pay_url(order) -> str:
    return reverse("payments:start", kwargs={"number": order.number})


def signed_in(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_get_on_the_start_url_is_405_and_opens_no_session(user, item, fake_stripe):
    order = place(user, (item, 1))
    client = signed_in(user)

    for method in (client.get, client.head):
        assert method(pay_url(order)).status_code == 405

    assert not fake_stripe.requests and not Payment.objects.exists()


def test_a_post_without_the_csrf_token_is_refused(user, item, fake_stripe):
    order = place(user, (item, 1))
    client = signed_in(user)

    response = client.post(pay_url(order))

    assert response.status_code == 403
    assert not fake_stripe.requests and not Payment.objects.exists()


def test_the_order_pages_pay_button_posts_with_its_token_and_opens_the_session(user, item, fake_stripe):
    order = place(user, (item, 1))
    client = signed_in(user)
    html = client.get(order.get_absolute_url()).content.decode()
    assert f'<form method="post" action="{pay_url(order)}">' in html and "Pay now" in html

    response = client.post(pay_url(order), {"csrfmiddlewaretoken": TOKEN.search(html).group(1)})

    payment = Payment.objects.get(order=order)
    assert response.status_code == 302 and response.url == payment.checkout_url
    assert response.url.startswith("https://checkout.stripe.test/")
    assert len(fake_stripe.requests_to("/v1/checkout/sessions", "POST")) == 1


def test_placing_an_order_lands_on_the_payment_page_without_another_click(user, item):
    fill_cart(user, (item, 2))
    client = signed_in(user)
    page = client.get(reverse("orders:checkout"))
    form = page.context["form"]
    data = {
        **ADDRESS_FORM,
        "checkout_token": form.initial["checkout_token"],
        "cart_fingerprint": form.initial["cart_fingerprint"],
        "csrfmiddlewaretoken": TOKEN.search(page.content.decode()).group(1),
    }

    response = client.post(reverse("orders:checkout"), data, follow=True)

    order = Order.objects.get()
    (start, start_status), (demo, demo_status) = response.redirect_chain
    assert (start, start_status) == (pay_url(order), 307)  # the browser posts the form, token included, again there
    assert demo_status == 302 and demo.startswith("http://testserver/payments/demo/")
    assert response.status_code == 200 and "Demo payment - no money moves" in response.content.decode()
    assert Payment.objects.get(order=order).status == "open"


def test_a_visitor_who_may_not_see_the_order_opens_no_session(client, user, item, fake_stripe):
    order = place(user, (item, 1))
    other = Client()
    other.force_login(UserFactory())

    anonymous = client.post(pay_url(order))
    stranger = other.post(pay_url(order))

    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("account_login"))
    assert anonymous.url.endswith("?next=" + order.get_absolute_url())  # after login: the order page, its Pay button
    assert stranger.status_code == 404
    assert not fake_stripe.requests and not Payment.objects.exists()
