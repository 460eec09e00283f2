"""Reads on payments."""

from django.db.models import QuerySet

from payments.models import Payment, PaymentEvent, PaymentStatus


def payments_for_order(*, order) -> QuerySet[Payment]:
    """The order's payment attempts, newest first."""
    return Payment.objects.filter(order_id=order.pk).order_by("-attempt")


def latest_payment(*, order) -> Payment | None:
    """The order's most recent payment attempt, if any."""
    return payments_for_order(order=order).first()


def payment_by_session(*, session_id: str) -> Payment | None:
    """The attempt behind a gateway session id."""
    return Payment.objects.filter(session_id=session_id).select_related("order").first() if session_id else None


def paid_payment(*, order) -> Payment | None:
    """The attempt that paid the order, if one did."""
    return payments_for_order(order=order).filter(status=PaymentStatus.PAID).first()


def payment_events() -> QuerySet[PaymentEvent]:
    """Processed webhook events, newest first (staff)."""
    return PaymentEvent.objects.order_by("-received_at")
