"""The page the gateway sends a shopper back to (issue 14, finding 6): it names an order only to who may see it (its
buyer, or the guest session that placed it), asks the gateway only for them and only while the payment is unfinished,
and answers anyone else with one neutral page, whatever reference they bring."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import Order, OrderStatus
from orders.services import remember_guest_order
from payments.exceptions import PaymentGatewayError
from payments.models import Payment, PaymentStatus
from payments.services import start_payment
from tests.factories import UserFactory
from tests.orders.helpers import place
from tests.payments.conftest import SITE

pytestmark = pytest.mark.django_db
NEUTRAL = "If your payment went through"


def success(client, session_id: str):
    return client.get(reverse("payments:success"), {"session_id": session_id})


def stripe_calls(fake_stripe) -> int:
    return len(fake_stripe.requests)


def page_text(response) -> str:
    """The page without what differs between any two requests (CSRF tokens, CSP nonces)."""
    html = response.content.decode()
    return re.sub(r'(name="csrfmiddlewaretoken" value|nonce)="[^"]*"', "", html)


@pytest.fixture
def victim_payment(user, item, fake_stripe):
    """Another buyer's order with an open Stripe session."""
    return start_payment(order=place(user, (item, 1)), site_url=SITE)


def test_the_old_url_shape_with_another_buyers_order_pk_reveals_nothing_and_calls_no_stripe(user, item, fake_stripe):
    order = place(user, (item, 1))
    fake_stripe.fail_next(status=500)  # the session could not be opened: the attempt keeps its placeholder id
    with pytest.raises(PaymentGatewayError):
        start_payment(order=order, site_url=SITE)
    placeholder = Payment.objects.get(order=order).session_id
    calls = stripe_calls(fake_stripe)
    stranger, other_buyer = Client(), Client()
    other_buyer.force_login(UserFactory())

    for reference in (f"pending:{order.pk}:1", placeholder):
        for client in (stranger, other_buyer):
            response = success(client, reference)
            html = response.content.decode()
            assert order.number not in html and order.email not in html
            assert response.status_code == 200 and NEUTRAL in html

    assert stripe_calls(fake_stripe) == calls
    assert Payment.objects.get(order=order).status == PaymentStatus.CREATING


def test_a_stranger_with_the_real_session_id_sees_no_order_and_stripe_is_not_asked(victim_payment, fake_stripe):
    order = victim_payment.order
    fake_stripe.complete_session(victim_payment.session_id)
    calls = stripe_calls(fake_stripe)
    other_buyer = Client()
    other_buyer.force_login(UserFactory())

    for client in (Client(), other_buyer):
        html = success(client, victim_payment.session_id).content.decode()
        assert NEUTRAL in html and order.number not in html and "is paid" not in html

    assert stripe_calls(fake_stripe) == calls
    assert (
        Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT
    )  # the webhook fulfils it, not a stranger


def test_a_stranger_gets_the_same_page_for_an_unknown_and_for_someone_elses_reference(victim_payment, fake_stripe):
    client = Client()
    unknown = success(client, "cs_test_no_such_session")
    someone_elses = success(client, victim_payment.session_id)
    empty = client.get(reverse("payments:success"))

    assert unknown.status_code == someone_elses.status_code == empty.status_code == 200
    assert page_text(unknown) == page_text(someone_elses) == page_text(empty)


def test_the_buyer_sees_the_order_and_stripe_is_asked_once_per_visit_while_unpaid(
    client, user, victim_payment, fake_stripe
):
    session_url = f"/v1/checkout/sessions/{victim_payment.session_id}"
    client.force_login(user)

    assert "Payment processing" in success(client, victim_payment.session_id).content.decode()
    assert len(fake_stripe.requests_to(session_url, "GET")) == 1
    fake_stripe.complete_session(victim_payment.session_id)
    assert "is paid" in success(client, victim_payment.session_id).content.decode()
    assert len(fake_stripe.requests_to(session_url, "GET")) == 2

    again = success(client, victim_payment.session_id).content.decode()  # paid and stored: nothing to ask

    assert "is paid" in again and victim_payment.order.number in again
    assert len(fake_stripe.requests_to(session_url, "GET")) == 2


def test_the_guest_session_that_placed_the_order_sees_it_and_another_browser_does_not(user, item, fake_stripe):
    payment = start_payment(order=place(user, (item, 1)), site_url=SITE)
    order = payment.order
    Order.objects.filter(pk=order.pk).update(buyer=None)  # a guest's order
    guest = Client()
    session = guest.session
    remember_guest_order(session=session, order=order)
    session.save()

    html = success(guest, payment.session_id).content.decode()
    assert "Payment processing" in html and order.number in html and "View your order" in html

    calls = stripe_calls(fake_stripe)
    stranger = success(Client(), payment.session_id).content.decode()
    assert NEUTRAL in stranger and order.number not in stranger
    assert stripe_calls(fake_stripe) == calls


def test_placeholder_session_ids_are_random_not_the_order_pk_and_attempt(user, item, fake_stripe):
    first, second = place(user, (item, 1)), place(user, (item, 1))
    fake_stripe.stop()  # unreachable: both attempts keep their placeholders
    for order in (first, second):
        with pytest.raises(PaymentGatewayError):
            start_payment(order=order, site_url=SITE)

    ids = [Payment.objects.get(order=order).session_id for order in (first, second)]
    assert ids[0] != ids[1] and all(len(session_id) >= len("pending:") + 24 for session_id in ids)
    assert not {f"pending:{first.pk}:1", f"pending:{second.pk}:1"} & set(ids)
