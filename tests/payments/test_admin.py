import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from orders.models import Order, OrderStatus, RefundStatus
from orders.services import mark_shipped
from payments.models import Payment, PaymentEvent, PaymentStatus
from payments.services import confirm_checkout_session, start_payment
from tests.orders.helpers import PARCEL, place, stock_of
from tests.payments.conftest import SITE, demo_paid

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:orders_order_changelist")


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def refund(client, *orders: Order, confirm: bool = True):
    data = {"action": "refund_orders", "_selected_action": [order.pk for order in orders]}
    return client.post(CHANGELIST, {**data, "confirm": "yes"} if confirm else data)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def test_refund_action_first_asks_for_confirmation_and_changes_nothing(staff_client, user, item):
    order = demo_paid(user, (item, 2))

    response = refund(staff_client, order, confirm=False)

    html = response.content.decode()
    assert response.status_code == 200 and order.number in html and "€25.00" in html and "Yes, refund them" in html
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_refund_of_a_demo_payment_refunds_paid_and_shipped_orders_and_skips_the_unpaid(staff_client, user, item):
    order, pending = demo_paid(user, (item, 2)), place(user, (item, 1))
    shipped = mark_shipped(order=demo_paid(user, (item, 2)), **PARCEL)

    response = refund(staff_client, order, pending, shipped)

    assert response.status_code == 302
    assert sorted(messages_of(response)) == sorted([
        "2 orders refunded in full through the payment gateway.",
        f"Skipped {pending.number}: it is pending payment and cannot become refunded.",
    ])  # fmt: skip
    order.refresh_from_db()
    payment = Payment.objects.get(order=order)
    assert order.status == OrderStatus.REFUNDED and order.refunded_at is not None
    assert (payment.status, payment.amount_refunded_minor) == (PaymentStatus.REFUNDED, 2500)
    assert Order.objects.get(pk=shipped.pk).status == OrderStatus.REFUNDED  # shipped goods may be refunded too


@pytest.fixture
def stripe_paid_order(user, item, fake_stripe) -> Order:
    payment = start_payment(order=place(user, (item, 2)), site_url=SITE)
    fake_stripe.complete_session(payment.session_id)
    confirm_checkout_session(session_id=payment.session_id)
    return Order.objects.get(pk=payment.order_id)


def test_refund_through_stripe_sends_one_full_refund(staff_client, stripe_paid_order, fake_stripe):
    response = refund(staff_client, stripe_paid_order)

    (request,) = fake_stripe.requests_to("/v1/refunds", "POST")
    payment = Payment.objects.get(order=stripe_paid_order)
    assert request.form == {
        "payment_intent": payment.payment_intent,
        "amount": "2500",
        "metadata[shop_refund_key]": request.idempotency_key,
    }
    assert messages_of(response) == ["1 order refunded in full through the payment gateway."]
    assert Order.objects.get(pk=stripe_paid_order.pk).status == OrderStatus.REFUNDED
    assert payment.status == PaymentStatus.REFUNDED


def test_refund_when_stripe_does_not_answer_is_reported_under_way_to_be_retried(
    staff_client, stripe_paid_order, fake_stripe
):
    fake_stripe.fail_next(status=500)

    response = refund(staff_client, stripe_paid_order)

    assert messages_of(response) == [
        f"The refund of {stripe_paid_order.number} is under way: the payment provider did not answer; it will be "
        "retried until it does."
    ]
    order = Order.objects.get(pk=stripe_paid_order.pk)
    assert order.status == OrderStatus.PAID and order.refunds.get().status == RefundStatus.PENDING
    assert Payment.objects.get(order=stripe_paid_order).status == PaymentStatus.PAID


def test_refund_when_stripe_refuses_is_skipped_with_the_reason_and_the_order_flagged(
    staff_client, stripe_paid_order, fake_stripe
):
    fake_stripe.fail_next(status=400, error_type="invalid_request_error", message="Charge is disputed")

    response = refund(staff_client, stripe_paid_order)

    (message,) = messages_of(response)
    assert message.startswith(f"Skipped {stripe_paid_order.number}: the payment provider refused the refund (")
    assert "Charge is disputed" in message and message.endswith("it failed and the order is flagged.")
    order = Order.objects.get(pk=stripe_paid_order.pk)
    assert order.status == OrderStatus.PAID and order.needs_attention and order.refunded_minor == 0
    assert Payment.objects.get(order=stripe_paid_order).status == PaymentStatus.PAID


def test_payments_and_events_are_read_only_in_the_admin(staff_client, user, item):
    order = demo_paid(user, (item, 2))
    payment = Payment.objects.get(order=order)
    event = PaymentEvent.objects.create(event_id="evt_1", type="checkout.session.completed", outcome="paid")

    assert event.event_id in staff_client.get(reverse("admin:payments_paymentevent_changelist")).content.decode()
    assert order.number in staff_client.get(reverse("admin:payments_payment_changelist")).content.decode()
    for model, obj in (("payment", payment), ("paymentevent", event)):
        change = reverse(f"admin:payments_{model}_change", args=[obj.pk])
        page = staff_client.get(change)
        assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
        assert staff_client.post(change, {"status": "failed", "outcome": "x"}).status_code == 403
        assert staff_client.get(reverse(f"admin:payments_{model}_add")).status_code == 403
        delete = reverse(f"admin:payments_{model}_delete", args=[obj.pk])
        assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PAID
    assert PaymentEvent.objects.get(pk=event.pk).outcome == "paid"


def test_sellers_cannot_refund_or_read_payments(client, user, item):
    order = demo_paid(user, (item, 2))
    client.force_login(item.seller)

    assert refund(client, order).status_code == 403
    assert client.get(reverse("admin:payments_paymentevent_changelist")).status_code == 403
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_refund_with_restock_puts_the_units_back_and_records_them(staff_client, user, item):
    from catalog.models import StockMove
    from orders.services import check_stock

    order = demo_paid(user, (item, 2))
    assert stock_of(item) == 8

    response = staff_client.post(
        CHANGELIST,
        {"action": "refund_orders", "_selected_action": [order.pk], "confirm": "yes", "restock": "yes"},
    )

    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED and order.restocked_at is not None and stock_of(item) == 10
    assert StockMove.objects.get(order_number=order.number, reason="returned").delta == 2
    assert "their units back in stock" in " ".join(messages_of(response))
    assert check_stock().clean


def test_refund_without_restock_keeps_the_units_sold(staff_client, user, item):
    from orders.services import check_stock

    order = demo_paid(user, (item, 2))
    refund(staff_client, order)

    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED and order.restocked_at is None and stock_of(item) == 8
    assert check_stock().clean


def test_refund_with_restock_still_restocks_when_the_refund_was_recorded_first(staff_client, user, item):
    from orders.services import check_stock, mark_refunded

    order = demo_paid(user, (item, 2))
    Payment.objects.filter(order_id=order.pk).update(status=PaymentStatus.REFUNDED)
    mark_refunded(order=order)  # Stripe's charge.refunded webhook got there before the admin's refund was recorded

    staff_client.post(
        CHANGELIST, {"action": "refund_orders", "_selected_action": [order.pk], "confirm": "yes", "restock": "yes"}
    )
    staff_client.post(  # a second click restocks nothing more
        CHANGELIST, {"action": "refund_orders", "_selected_action": [order.pk], "confirm": "yes", "restock": "yes"}
    )

    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED and order.restocked_at is not None and stock_of(item) == 10
    assert check_stock().clean


def test_the_refund_confirmation_counts_only_the_orders_that_will_be_refunded(staff_client, user, item):
    from shop.money import format_money

    paid, unpaid = demo_paid(user, (item, 2)), place(user, (item, 1))
    page = refund(staff_client, paid, unpaid, confirm=False)
    assert page.context["total"] == format_money(paid.total_minor)  # the unpaid order's 25.00 would not leave
    assert "cannot be refunded: skipped" in page.content.decode()
