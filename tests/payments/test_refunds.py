import pytest

from orders.exceptions import IllegalTransition
from orders.models import Order, OrderStatus
from payments.exceptions import PaymentGatewayError
from payments.models import PaymentStatus
from payments.services import pay_demo_session, refund_order, start_payment
from tests.orders.helpers import place
from tests.payments.conftest import SITE, post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe_paid(user, item, fake_stripe):
    payment = start_payment(order=place(user, (item, 2)), site_url=SITE)
    fake_stripe.complete_session(payment.session_id)
    from payments.services import confirm_checkout_session

    confirm_checkout_session(session_id=payment.session_id)
    payment.refresh_from_db()
    return payment


def test_staff_refund_goes_through_stripe_in_full(client, stripe_paid, fake_stripe):
    order = Order.objects.get(pk=stripe_paid.order_id)
    refund_order(order=order)

    (request,) = fake_stripe.requests_to("/v1/refunds", "POST")
    key = f"refund-{order.refunds.get().pk}"  # one key per refund: it happens once
    assert request.idempotency_key == key
    # The key goes with the refund too: a retry after Stripe forgot it (24 h) finds the refund instead of repeating it.
    assert request.form == {
        "payment_intent": stripe_paid.payment_intent,
        "amount": "2500",
        "metadata[shop_refund_key]": key,
    }
    stripe_paid.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED and stripe_paid.status == PaymentStatus.REFUNDED
    # Stripe then reports the refund: nothing more happens.
    charge = fake_stripe.charge_refunded_object(stripe_paid.payment_intent)
    assert post_event(client, fake_stripe.make_event("charge.refunded", charge)).content == b"already_refunded"


def test_refund_while_stripe_fails_changes_nothing(stripe_paid, fake_stripe):
    order = Order.objects.get(pk=stripe_paid.order_id)
    fake_stripe.fail_next(status=500)
    with pytest.raises(PaymentGatewayError):
        refund_order(order=order)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_refund_of_a_demo_payment(user, item):
    payment = start_payment(order=place(user, (item, 1)), site_url=SITE)
    pay_demo_session(session_id=payment.session_id)
    order = Order.objects.get(pk=payment.order_id)
    refund_order(order=order)
    assert order.status == OrderStatus.REFUNDED


def test_refund_of_an_unpaid_order_is_an_illegal_transition(user, item):
    order = place(user, (item, 1))
    with pytest.raises(IllegalTransition, match="only a paid order can be refunded"):
        refund_order(order=order)
