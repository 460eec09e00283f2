"""Signals the orders app sends; other apps connect to them (never connected here)."""

from django.dispatch import Signal

# Sent after an order and its lines are stored and its stock reserved: sender=Order, order=...
order_placed = Signal()
# Sent once, by the winner of the pending_payment -> paid transition: sender=Order, order=...
order_paid = Signal()
# Sent after every successful status change: sender=Order, order=..., old_status=..., new_status=...
order_status_changed = Signal()
