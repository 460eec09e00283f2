"""Reads on payments."""

from django.db.models import QuerySet

from orders.models import OrderStatus
from orders.selectors import order_for_viewer
from payments.models import Payment, PaymentEvent, PaymentStatus

# A session id while the gateway has not given one yet: a row's own random value, never a page's reference.
PLACEHOLDER_PREFIX = "pending:"


def payments_for_order(*, order) -> QuerySet[Payment]:
    """The order's payment attempts, newest first."""
    return Payment.objects.filter(order_id=order.pk).order_by("-attempt")


def latest_payment(*, order) -> Payment | None:
    """The order's most recent payment attempt, if any."""
    return payments_for_order(order=order).first()


def payment_by_session(*, session_id: str) -> Payment | None:
    """The attempt behind a gateway session id."""
    return Payment.objects.filter(session_id=session_id).select_related("order").first() if session_id else None


def returned_payment(*, session_id: str, user, session) -> Payment | None:
    """The attempt a shopper comes back from the gateway with, only for who may see its order (its buyer, or the
    guest session that placed or opened it; `orders.selectors.order_for_viewer`). None for an unknown id, a
    placeholder, or someone else's order: the caller cannot tell these apart."""
    if not session_id or session_id.startswith(PLACEHOLDER_PREFIX):
        return None
    payment = payment_by_session(session_id=session_id)
    if payment is None or order_for_viewer(user=user, session=session, number=payment.order.number) is None:
        return None
    return payment


def paid_payment(*, order) -> Payment | None:
    """The attempt that paid the order, if one did."""
    return payments_for_order(order=order).filter(status=PaymentStatus.PAID).first()


def payment_events() -> QuerySet[PaymentEvent]:
    """Processed webhook events, newest first (staff)."""
    return PaymentEvent.objects.order_by("-received_at")


def success_page_state(*, payment: Payment, order) -> str:
    """What the shopper is told on return from the gateway: paid; refunding (the payment arrived after the order was
    cancelled or expired); refunded; not_paid (the attempt expired, failed or was refused, or the order closed); or
    processing (not confirmed yet)."""
    closed = order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)
    if payment.status == PaymentStatus.PAID:
        return "refunding" if closed else "paid"
    if payment.status == PaymentStatus.REFUNDED:
        return "refunded" if closed else "paid"
    if payment.status in (PaymentStatus.EXPIRED, PaymentStatus.FAILED, PaymentStatus.MISMATCH) or closed:
        return "not_paid"
    return "processing"
