from orders.models import OrderStatus
from payments.services import close_open_payments


def close_payments_of_closed_order(sender, order, old_status, new_status, **kwargs) -> None:
    """Runs inside the unit of work that cancelled or expired the order: its payment sessions close with it."""
    if new_status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
        close_open_payments(order=order)
