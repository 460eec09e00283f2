import time

import pytest
from django.core import mail
from django.urls import reverse

from orders.models import Order, OrderStatus
from payments.exceptions import OrderNotPayable, PaymentGatewayError
from payments.models import Payment, PaymentStatus
from payments.services import start_payment
from tests.orders.helpers import place, stock_of
from tests.payments.conftest import SITE

pytestmark = pytest.mark.django_db


def pay_url(order) -> str:
    return reverse("payments:start", kwargs={"number": order.number})


def test_start_payment_builds_the_session_from_the_orders_own_lines(client, user, item, fake_stripe):
    order = place(user, (item, 2))
    client.force_login(user)
    response = client.post(pay_url(order))

    payment = Payment.objects.get(order=order)
    assert response.status_code == 302 and response.url == fake_stripe.sessions[payment.session_id]["url"]
    (create,) = fake_stripe.requests_to("/v1/checkout/sessions", "POST")
    form = create.form
    assert create.idempotency_key == f"order-{order.number}-checkout-1"
    assert form["line_items[0][price_data][unit_amount]"] == "1250" and form["line_items[0][quantity]"] == "2"
    assert form["line_items[0][price_data][currency]"] == "eur"
    assert form["line_items[0][price_data][product_data][name]"] == item.title
    assert form["client_reference_id"] == order.number and form["metadata[order_number]"] == order.number
    assert form["success_url"] == "http://testserver/payments/success/?session_id={CHECKOUT_SESSION_ID}"
    assert form["cancel_url"] == f"http://testserver{order.get_absolute_url()}?payment=cancelled"
    assert 30 * 60 < int(form["expires_at"]) - time.time() <= 61 * 60
    assert payment.status == PaymentStatus.OPEN and payment.amount_minor == 2500 and payment.attempt == 1


def test_paying_again_reuses_the_open_session(client, user, item, fake_stripe):
    order = place(user, (item, 1))
    client.force_login(user)
    first = client.post(pay_url(order))
    second = client.post(pay_url(order))

    assert first.url == second.url
    assert len(fake_stripe.requests_to("/v1/checkout/sessions", "POST")) == 1
    assert Payment.objects.filter(order=order).count() == 1


@pytest.mark.parametrize(
    ("status", "error_type"), [(500, "api_error"), (400, "idempotency_error"), (401, "invalid_request_error")]
)
def test_stripe_errors_show_a_clear_message_and_the_order_stays_payable(client, user, item, fake_stripe, status,
                                                                        error_type):  # fmt: skip
    order = place(user, (item, 1))
    client.force_login(user)
    fake_stripe.fail_next(status=status, error_type=error_type)

    response = client.post(pay_url(order), follow=True)
    html = response.content.decode()
    assert response.status_code == 200 and "could not reach the payment provider" in html and "Pay now" in html
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT and stock_of(item) == 9

    retry = client.post(pay_url(order))  # the provider is back
    assert retry.url.startswith("https://checkout.stripe.test/")
    keys = [r.idempotency_key for r in fake_stripe.requests_to("/v1/checkout/sessions", "POST")]
    # A transient failure retries the same attempt's key; a refused request moves on to a fresh attempt.
    expected = 1 if status == 500 else 2
    assert keys[-1] == f"order-{order.number}-checkout-{expected}"


def test_stripe_unreachable_is_a_gateway_error_not_a_crash(user, item, settings, fake_stripe):
    order = place(user, (item, 1))
    fake_stripe.stop()  # connection refused from now on

    with pytest.raises(PaymentGatewayError) as excinfo:
        start_payment(order=order, site_url=SITE)
    assert excinfo.value.retryable and excinfo.value.detail.startswith("APIConnectionError")
    assert Payment.objects.get(order=order).status == PaymentStatus.CREATING


def test_a_paid_or_cancelled_order_cannot_be_paid(user, item, fake_stripe):
    order = place(user, (item, 1))
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.CANCELLED)
    order.refresh_from_db()
    with pytest.raises(OrderNotPayable):
        start_payment(order=order, site_url=SITE)
    assert not fake_stripe.requests_to("/v1/checkout/sessions")


def test_success_page_retrieves_the_session_and_fulfils_it(client, user, item, fake_stripe):
    order = place(user, (item, 2))
    payment = start_payment(order=order, site_url=SITE)
    success = f"/payments/success/?session_id={payment.session_id}"
    client.force_login(user)

    assert "Payment processing" in client.get(success).content.decode()  # not paid yet: the URL proves nothing
    fake_stripe.complete_session(payment.session_id)
    response = client.get(success)

    assert "is paid" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert fake_stripe.requests_to(f"/v1/checkout/sessions/{payment.session_id}", "GET")
    client.get(success)
    assert len(mail.outbox) == 1


def test_success_page_for_an_unknown_session_is_the_neutral_page(client, fake_stripe, db):
    response = client.get("/payments/success/?session_id=cs_test_nope")
    assert response.status_code == 200 and "If your payment went through" in response.content.decode()
    assert not fake_stripe.requests


def test_success_page_while_stripe_is_down_says_processing(client, user, item, fake_stripe):
    order = place(user, (item, 1))
    payment = start_payment(order=order, site_url=SITE)
    fake_stripe.fail_next(status=503)
    client.force_login(user)
    response = client.get(f"/payments/success/?session_id={payment.session_id}")
    assert response.status_code == 200 and "Payment processing" in response.content.decode()


@pytest.mark.parametrize("include_tax", [True, False])
def test_stripe_receives_the_breakdown_and_its_amounts_add_up_to_the_order_total(
    client, user, make_item, rates, zones, fake_stripe, settings, include_tax
):
    from pricing.models import DiscountCode

    settings.SHOP_PRICES_INCLUDE_TAX = include_tax
    DiscountCode.objects.create(code="FIVE", kind="fixed", value=500)
    pan, book = make_item(title="Pan", price_minor=1999, stock=5), make_item(title="Book", price_minor=333, stock=5)
    order = place(user, (pan, 1), (book, 3), discount_code="five", shipping_method_id=str(zones["express"].pk))

    payment = start_payment(order=order, site_url=SITE)

    received = fake_stripe.session_breakdown(payment.session_id)
    assert received["amount_total"] == order.total_minor == payment.amount_minor
    assert received["amount_discount"] == 500 and received["amount_shipping"] == 1290
    assert received["shipping"]["display_name"] == "Express"
    names = [line["name"] for line in received["line_items"]]
    assert names == (["Book", "Pan"] if include_tax else ["Book", "Pan", "VAT"])
    fake_stripe.complete_session(payment.session_id)
    client.force_login(user)
    client.get(f"/payments/success/?session_id={payment.session_id}")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and not order.needs_attention  # the webhook's amount check agrees
