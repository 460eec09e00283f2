from orders.models import OrderStatus
from payments.services import check_refund_later, close_open_payments


def close_payments_of_closed_order(sender, order, old_status, new_status, **kwargs) -> None:
    """Runs inside the unit of work that cancelled or expired the order: its payment sessions close with it."""
    if new_status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
        close_open_payments(order=order)


def finish_refund_later(sender, refund, **kwargs) -> None:
    """Runs inside the unit of work that recorded a refund: the worker will see it through if this process does not."""
    check_refund_later(refund=refund)
