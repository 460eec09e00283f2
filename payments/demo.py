"""The demo gateway's payments of the demo orders (`orders.demo`), so that the order admin shows how each was paid
and staff can refund a demo order through the demo gateway like any other.

The demo orders were paid through `orders.services.mark_order_paid`, the step the gateway's fulfilment ends with
(orders may not import payments to take the whole path). This records what the demo gateway would have kept for each:
one paid attempt (refunded when the order was), its dates those of the order. The demo gateway keeps nothing but these
rows ("no money moves"), so they are the same rows a shopper paying on the demo page leaves behind.
"""

from datetime import timedelta

from orders.demo import demo_orders
from orders.models import OrderStatus
from payments.models import Gateway, Payment, PaymentStatus
from shop.db import unit_of_work


@unit_of_work
def record_demo_payments() -> int:
    """Records the paid attempt of every paid demo order that has none; returns how many. Running it again adds
    nothing."""
    paid = list(demo_orders().filter(paid_at__isnull=False))
    have = set(Payment.objects.filter(order_id__in=[order.pk for order in paid]).values_list("order_id", flat=True))
    missing = [order for order in paid if order.pk not in have]
    payments = [
        Payment(
            order=order,
            gateway=Gateway.DEMO,
            attempt=1,
            session_id=f"demo_{order.number}",
            amount_minor=order.total_minor,
            currency=order.currency,
            status=PaymentStatus.REFUNDED if order.status == OrderStatus.REFUNDED else PaymentStatus.PAID,
            payment_intent=f"demo_pi_{order.number}",  # the reference on the order's "paid" event
            amount_refunded_minor=order.refunded_minor,
        )
        for order in missing
    ]
    Payment.objects.bulk_create(payments)
    for payment, order in zip(payments, missing, strict=True):
        # Backdated to the order's own dates (the demo's history is in the past; auto_now_add stamped today).
        Payment.objects.filter(pk=payment.pk).update(
            created_at=order.paid_at - timedelta(minutes=2), updated_at=order.refunded_at or order.paid_at
        )
    return len(payments)
