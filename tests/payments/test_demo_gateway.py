import time

import pytest
from django.core import mail
from django.urls import reverse

from orders.models import Order, OrderStatus
from payments.gateways import demo_token
from payments.models import Payment, PaymentStatus
from payments.services import start_payment
from tests.orders.helpers import ADDRESS_FORM, fill_cart, place, stock_of
from tests.payments.conftest import SITE

pytestmark = pytest.mark.django_db


def test_shopper_checks_out_and_pays_with_the_demo_gateway(client, user, item):
    fill_cart(user, (item, 2))
    client.force_login(user)
    form = client.get("/checkout/").context["form"]
    hidden = {name: form.initial[name] for name in ("checkout_token", "cart_fingerprint")}
    placed = client.post("/checkout/", {**ADDRESS_FORM, **hidden})
    assert placed.status_code == 307  # the browser posts the form again to payments:start
    demo = client.post(placed.url, {**ADDRESS_FORM, **hidden})  # which sends the shopper to the demo page
    assert demo.status_code == 302 and "/payments/demo/" in demo.url
    page = client.get(demo.url)
    html = page.content.decode()
    assert "Demo payment - no money moves" in html and "€25.00" in html and "?payment=cancelled" in html

    paid = client.post(demo.url, follow=True)

    order = Order.objects.get()
    assert "is paid" in paid.content.decode()
    assert order.status == OrderStatus.PAID and stock_of(item) == 8 and len(mail.outbox) == 1
    history = client.get("/orders/").content.decode()
    assert order.number in history and "Paid" in history


def test_demo_page_works_without_a_browser_session(client, user, item):
    payment = start_payment(order=place(user, (item, 1)), site_url=SITE)
    assert payment.checkout_url.startswith("http://testserver/payments/demo/")

    assert client.get(payment.checkout_url).status_code == 200
    client.post(payment.checkout_url)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID and Order.objects.get().status == OrderStatus.PAID


def test_paying_twice_on_the_demo_page_fulfils_once(client, user, item):
    payment = start_payment(order=place(user, (item, 1)), site_url=SITE)
    client.post(payment.checkout_url)
    client.post(payment.checkout_url)
    assert len(mail.outbox) == 1 and "complete" in client.get(payment.checkout_url).content.decode()


def test_tampered_demo_token_is_refused(client, user, item):
    payment = start_payment(order=place(user, (item, 1)), site_url=SITE)
    last = "1" if payment.session_id.endswith("0") else "0"  # always a different id
    tampered = payment.checkout_url.replace(payment.session_id, payment.session_id[:-1] + last)
    assert tampered != payment.checkout_url
    forged = reverse("payments:demo", kwargs={"token": f"{payment.session_id}:1abc:forged"})

    for url in (tampered, forged):
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    assert Payment.objects.get().status == PaymentStatus.OPEN


def test_expired_demo_token_is_refused(client, user, item, monkeypatch):
    payment = start_payment(order=place(user, (item, 1)), site_url=SITE)
    two_hours_ago = time.time() - 2 * 3600
    monkeypatch.setattr("django.core.signing.time.time", lambda: two_hours_ago)
    old = demo_token(session_id=payment.session_id)
    monkeypatch.undo()

    response = client.post(reverse("payments:demo", kwargs={"token": old}))
    assert response.status_code == 404 and "invalid or has expired" in response.content.decode()
    assert Order.objects.get().status == OrderStatus.PENDING_PAYMENT


def test_demo_page_of_a_cancelled_order_cannot_pay(client, user, item):
    order = place(user, (item, 1))
    payment = start_payment(order=order, site_url=SITE)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.CANCELLED)

    assert "can no longer be used" in client.get(payment.checkout_url).content.decode()
    client.post(payment.checkout_url)
    assert Order.objects.get().status == OrderStatus.CANCELLED and not mail.outbox


def test_without_stripe_keys_production_takes_no_demo_payments(client, user, item, settings):
    payment = start_payment(order=place(user, (item, 1)), site_url=SITE)
    settings.PAYMENTS_DEMO_GATEWAY = False  # production's default: the demo gateway is opt-in

    paid = client.post(payment.checkout_url, follow=True)
    client.force_login(user)
    again = client.post(reverse("payments:start", kwargs={"number": payment.order.number}), follow=True)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.OPEN and Order.objects.get().status == OrderStatus.PENDING_PAYMENT
    assert "Payments are not configured" in paid.content.decode()
    assert "Payments are not configured" in again.content.decode()
    assert Payment.objects.count() == 1 and not mail.outbox


def test_an_expired_orders_demo_attempt_is_refused_and_the_success_page_says_not_paid(client, user, item):
    order = place(user, (item, 2))
    payment = start_payment(order=order, site_url=SITE)
    from orders.services import expire_order

    expire_order(order=order)  # the payment window closed while the page was open
    url = reverse("payments:demo", kwargs={"token": demo_token(session_id=payment.session_id)})

    response = client.post(url, follow=True)

    payment.refresh_from_db()
    assert "can no longer be paid" in response.content.decode()
    assert payment.status == PaymentStatus.EXPIRED and Order.objects.get().status == OrderStatus.EXPIRED
    assert stock_of(item) == 10 and not mail.outbox
    client.force_login(user)
    page = client.get(reverse("payments:success"), {"session_id": payment.session_id}).content.decode()
    assert "was not paid" in page and "is paid" not in page


def test_the_success_page_says_a_payment_after_cancellation_will_be_refunded(client, user, item):
    from payments.selectors import success_page_state

    order = place(user, (item, 1))
    payment = start_payment(order=order, site_url=SITE)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.CANCELLED)
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.PAID)
    payment.refresh_from_db()
    order.refresh_from_db()
    assert success_page_state(payment=payment, order=order) == "refunding"

    client.force_login(user)
    page = client.get(reverse("payments:success"), {"session_id": payment.session_id}).content.decode()

    assert "arrived after order" in page and "will be refunded in full" in page
