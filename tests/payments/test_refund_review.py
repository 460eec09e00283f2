"""Defects a review found in refunds and prices (issue 13), each replayed."""

from types import SimpleNamespace

import pytest
import stripe

from orders.models import Order, OrderStatus, RefundStatus
from orders.selectors import revenue
from orders.services import reserve_refund
from payments.models import Payment, PaymentStatus
from payments.services import (
    carry_out_refund,
    confirm_checkout_session,
    fail_refund,
    refund_order,
    refund_payment,
    start_payment,
)
from pricing.exceptions import DiscountRefused
from pricing.models import DiscountCode
from pricing.selectors import price
from tests.factories import CategoryFactory, ItemFactory
from tests.orders.helpers import place
from tests.payments.conftest import SITE, post_event

pytestmark = pytest.mark.django_db


def _stripe_paid(user, fake_stripe, *lines, **kwargs) -> Order:
    order = place(user, *lines, **kwargs)
    payment = start_payment(order=order, site_url=SITE)
    fake_stripe.complete_session(payment.session_id)
    confirm_checkout_session(session_id=payment.session_id)
    return Order.objects.get(pk=order.pk)


def test_an_order_that_costs_nothing_is_paid_through_stripe(user, fake_stripe, rates):
    DiscountCode.objects.create(code="ALL", kind="percent", value=100)
    order = _stripe_paid(user, fake_stripe, (ItemFactory(price_minor=1000, stock=5), 1), discount_code="ALL")

    assert order.total_minor == 0 and order.status == OrderStatus.PAID  # not held as "processing" forever


def test_a_failed_refund_beside_a_done_one_leaves_the_rest_refundable(user, fake_stripe, rates):
    order = _stripe_paid(user, fake_stripe, (ItemFactory(price_minor=2000, stock=5), 1))
    pending = reserve_refund(order=order, amount_minor=500)  # staff A: under way
    refund_payment(order=order, amount_minor=1500)  # staff B: done

    assert Order.objects.get(pk=order.pk).status == OrderStatus.PARTIALLY_REFUNDED  # 5.00 has not gone back yet
    fail_refund(refund=pending, reason="the card was closed")
    order.refresh_from_db()
    assert order.refunded_minor == 1500 and order.status == OrderStatus.PARTIALLY_REFUNDED
    refund_payment(order=order, amount_minor=500)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED


def test_a_refund_the_webhook_reported_first_is_counted_once(client, user, fake_stripe, rates):
    order = _stripe_paid(user, fake_stripe, (ItemFactory(price_minor=1000, stock=5), 1))
    refund = reserve_refund(order=order, amount_minor=300)
    payment = Payment.objects.get(order=order)
    stripe.StripeClient("sk_test_shop", base_addresses={"api": fake_stripe.base_url}).v1.refunds.create(
        params={
            "payment_intent": payment.payment_intent,
            "amount": 300,
            "metadata": {"shop_refund_key": f"refund-{refund.pk}"},
        },
        options={"idempotency_key": f"refund-{refund.pk}"},
    )  # the process died after Stripe refunded, as the gateway asks; Stripe's webhook comes first
    (event,) = fake_stripe.events_of("charge.refunded")
    post_event(client, event)

    carry_out_refund(refund=refund)  # the worker finishes the refund (the same key: Stripe answers the same refund)

    payment.refresh_from_db()
    assert [r["amount"] for r in fake_stripe.refunds_for(payment.payment_intent)] == [300]
    assert payment.amount_refunded_minor == 300 and payment.status == PaymentStatus.PAID


@pytest.mark.parametrize("include_tax", [True, False])
def test_a_sellers_revenue_after_refunding_a_whole_discounted_line_is_zero(user, fake_stripe, rates, settings,
                                                                          include_tax):  # fmt: skip
    settings.SHOP_PRICES_INCLUDE_TAX = include_tax
    DiscountCode.objects.create(code="TEN", kind="percent", value=10)
    pan = ItemFactory(price_minor=1000, stock=5)
    order = _stripe_paid(user, fake_stripe, (pan, 1), discount_code="TEN")
    refund_payment(order=order, lines=[(order.lines.get().pk, 1)])

    from datetime import date

    figures = revenue(since=date.today(), until=date.today(), seller=pan.seller)
    assert figures.net_minor == 0 and figures.gross_minor == order.lines.get().paid_minor


def test_a_free_shipping_code_for_a_category_needs_an_item_of_it(rates, zones):
    code = DiscountCode.objects.create(code="BOOKSHIP", kind="free_shipping")
    code.categories.add(CategoryFactory(name="Books"))

    pan = SimpleNamespace(item=ItemFactory(price_minor=1000, stock=5), quantity=1)

    with pytest.raises(DiscountRefused, match="not for the items"):
        price(lines=[pan], country="DE", code="BOOKSHIP")


def test_refunding_the_rest_after_an_amount_keeps_the_lines_within_the_refund(user, fake_stripe, rates):
    order = _stripe_paid(user, fake_stripe, (ItemFactory(price_minor=1000, stock=5), 1))
    refund_payment(order=order, amount_minor=600)

    refund_order(order=Order.objects.get(pk=order.pk))

    rest = order.refunds.order_by("created_at").last()
    assert rest.amount_minor == 400 and sum(line.amount_minor for line in rest.lines.all()) == 400
    assert order.lines.get().refunded_minor == 400
    assert rest.status == RefundStatus.DONE and Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED


def test_replaying_the_payment_of_a_partly_refunded_order_changes_nothing(user, fake_stripe, rates):
    order = _stripe_paid(user, fake_stripe, (ItemFactory(price_minor=1000, stock=5), 1))
    refund_payment(order=order, amount_minor=100)
    payment = Payment.objects.get(order=order)

    assert confirm_checkout_session(session_id=payment.session_id)[1] == "already_paid"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PARTIALLY_REFUNDED
