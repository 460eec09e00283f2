"""Writes on orders: placing them and moving them through their life cycle.

MongoDB has no multi-document transaction here (django-mongodb-backend 5.2's `transaction.atomic()` does
nothing), so every step is a conditional single-document update and a failed later step undoes the earlier
ones (compensation). Status changes go through `_move()`: one `filter(pk, status__in=sources).update(...)`,
so of two racing changes exactly one wins, and only that winner releases stock or sends the email.
"""

import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from cart.selectors import CartLineView, CartOwner, cart_for_user
from cart.services import empty_cart
from catalog.services import release_stock, reserve_stock
from orders.exceptions import (
    CartChanged,
    CartEmpty,
    CartHasProblems,
    IllegalTransition,
    NotAllowed,
    OrderError,
    OutOfStock,
)
from orders.models import STATUS_TIMESTAMPS, TRANSITIONS, Order, OrderLine, OrderStatus
from orders.selectors import cart_fingerprint
from orders.signals import order_paid, order_placed, order_status_changed

logger = logging.getLogger(__name__)

# No 0/O or 1/I: numbers are read out on the phone. 32**8 possibilities; a clash is retried.
NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
NUMBER_LENGTH = 8
NUMBER_ATTEMPTS = 5


@dataclass(frozen=True)
class ShippingAddress:
    name: str = ""
    line1: str = ""
    line2: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""

    def as_fields(self) -> dict[str, str]:
        return {
            "shipping_name": self.name,
            "shipping_line1": self.line1,
            "shipping_line2": self.line2,
            "shipping_postal_code": self.postal_code,
            "shipping_city": self.city,
            "shipping_country": self.country.upper(),
        }


class _TokenTaken(Exception):
    def __init__(self, order: Order) -> None:
        self.order = order


def new_checkout_token() -> str:
    """A fresh one-time token for a checkout form."""
    return secrets.token_urlsafe(24)


def _new_number() -> str:
    return "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))


def _order_for_token(*, buyer, token: str) -> Order | None:
    order = Order.objects.filter(checkout_token=token).first()
    if order is not None and order.buyer_id != buyer.pk:
        raise NotAllowed("This checkout form is not yours; reload the checkout page.")
    return order


def _reserve_lines(lines: list[CartLineView]) -> list[CartLineView]:
    """Reserves every line or none. Raises: OutOfStock naming the first line that ran short."""
    reserved: list[CartLineView] = []
    # A fixed order (by item id) so that two buyers of the same items always take them in the same sequence.
    for line in sorted(lines, key=lambda line: str(line.item.pk)):
        if not reserve_stock(item_id=line.item.pk, quantity=line.quantity):
            _release_lines(reserved)
            raise OutOfStock(
                f"Sorry, {line.item.title} ran out: there are no longer {line.quantity} in stock. "
                "Nothing was ordered; please review your cart.",
                item_id=str(line.item.pk),
                title=line.item.title,
                requested=line.quantity,
            )
        reserved.append(line)
    return reserved


def _release_lines(lines: list[CartLineView]) -> None:
    for line in lines:
        release_stock(item_id=line.item.pk, quantity=line.quantity)


def _insert_order(*, buyer, token: str, total_minor: int, address: ShippingAddress) -> Order:
    """Inserts the order row under a fresh number. Raises: _TokenTaken when a twin submit stored it first."""
    for _ in range(NUMBER_ATTEMPTS):
        order = Order(
            number=_new_number(),
            checkout_token=token,
            buyer=buyer,
            email=buyer.email,
            total_minor=total_minor,
            currency=settings.SHOP_CURRENCY,
            **address.as_fields(),
        )
        order.full_clean(validate_unique=False)
        try:
            # A savepoint on SQLite keeps an enclosing transaction usable after the IntegrityError; on MongoDB the
            # unique index alone decides (atomic() is a no-op there).
            with transaction.atomic():
                order.save(force_insert=True)
        except IntegrityError:
            winner = Order.objects.filter(checkout_token=token).first()
            if winner is not None:
                raise _TokenTaken(winner) from None
            continue  # the number was taken: draw another
        return order
    raise OrderError("Could not allocate an order number; please try again.")


def _insert_lines(*, order: Order, lines: list[CartLineView]) -> None:
    rows = [
        OrderLine(
            order=order,
            item_id=line.item.pk,
            seller_id=line.item.seller_id,
            title=line.item.title,
            sku=line.item.sku,
            unit_price_minor=line.unit_price_minor,
            quantity=line.quantity,
            line_total_minor=line.line_total_minor,
        )
        for line in lines
    ]
    try:
        OrderLine.objects.bulk_create(rows)
    except BaseException:
        OrderLine.objects.filter(order_id=order.pk).delete()
        Order.objects.filter(pk=order.pk).delete()
        raise


def place_order(
    *,
    buyer,
    address: ShippingAddress | None = None,
    checkout_token: str | None = None,
    expected_fingerprint: str | None = None,
) -> Order:
    """Turns the buyer's cart into a pending order at current prices, reserving its stock, then empties the cart.

    All or nothing: on any failure every unit reserved is released and no order is left behind. A repeated
    `checkout_token` (double submit, even concurrent) returns the order the first submit made; the loser of a
    concurrent race releases its own reservation. `expected_fingerprint` (from the checkout page) refuses a cart
    that changed since the shopper reviewed it.

    Raises: CartEmpty, CartHasProblems, CartChanged, OutOfStock, NotAllowed, ValidationError (bad address).
    """
    token = checkout_token or new_checkout_token()
    existing = _order_for_token(buyer=buyer, token=token)
    if existing is not None:
        return existing
    cart = cart_for_user(user=buyer)
    if cart.is_empty:
        raise CartEmpty()
    problems = [line for line in cart.lines if line.problem]
    if problems:
        names = ", ".join(f"{line.item.title} ({line.problem_message})" for line in problems)
        raise CartHasProblems(
            f"Some items cannot be ordered: {names}",
            items=[{"item_id": str(line.item.pk), "problem": line.problem} for line in problems],
        )
    if expected_fingerprint is not None and expected_fingerprint != cart_fingerprint(cart=cart):
        raise CartChanged()

    lines = list(cart.lines)
    total_minor = sum(line.line_total_minor for line in lines)
    reserved = _reserve_lines(lines)
    try:
        order = _insert_order(buyer=buyer, token=token, total_minor=total_minor, address=address or ShippingAddress())
        _insert_lines(order=order, lines=lines)
    except _TokenTaken as taken:
        _release_lines(reserved)
        return taken.order
    except BaseException:
        _release_lines(reserved)
        raise

    empty_cart(owner=CartOwner(user=buyer))
    order_placed.send(sender=Order, order=order)
    return order


def _label(status: str) -> str:
    return OrderStatus(status).label.lower()


def _move(*, order: Order, to: str, **fields) -> Order:
    """Moves the order to `to` in one conditional update; updates `order` in place.

    Raises: IllegalTransition when the order's stored status does not allow it (including losing a race).
    """
    sources = [source for source, targets in TRANSITIONS.items() if to in targets]
    now = timezone.now()
    changed = Order.objects.filter(pk=order.pk, status__in=sources).update(
        status=to, updated_at=now, **{STATUS_TIMESTAMPS[to]: now}, **fields
    )
    old_status = order.status
    order.refresh_from_db()
    if not changed:
        raise IllegalTransition(
            f"Order {order.number} is {_label(order.status)} and cannot become {_label(to)}.",
            number=order.number,
            status=order.status,
            requested=to,
        )
    order_status_changed.send(sender=Order, order=order, old_status=old_status, new_status=to)
    return order


def _release_order_stock(order: Order) -> None:
    for line in OrderLine.objects.filter(order_id=order.pk).only("item_id", "quantity"):
        if line.item_id is not None:  # the item was deleted since: nothing to put back
            release_stock(item_id=line.item_id, quantity=line.quantity)


def can_cancel(*, order: Order, actor) -> bool:
    """Whether `actor` may cancel the order now: the buyer or staff, while payment is pending."""
    return order.is_pending and (actor.is_shop_staff or order.buyer_id == actor.pk)


def cancel_order(*, order: Order, actor) -> Order:
    """Cancels a pending order and releases its stock exactly once. Raises: NotAllowed, IllegalTransition."""
    if not (actor.is_shop_staff or order.buyer_id == actor.pk):
        raise NotAllowed()
    _move(order=order, to=OrderStatus.CANCELLED)
    _release_order_stock(order)
    return order


def expire_order(*, order: Order) -> Order:
    """Expires an unpaid order and releases its stock exactly once. Raises: IllegalTransition."""
    _move(order=order, to=OrderStatus.EXPIRED)
    _release_order_stock(order)
    return order


def mark_order_paid(*, order: Order) -> Order:
    """Marks a pending order paid and emails the buyer, once; an order that is already paid (or further along) is
    returned unchanged, so retries and replays are harmless.

    Raises: IllegalTransition when the order was cancelled or expired (the caller must see to the money).
    """
    try:
        _move(order=order, to=OrderStatus.PAID)
    except IllegalTransition:
        if order.status in (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.REFUNDED):
            return order
        raise
    order_paid.send(sender=Order, order=order)
    _send_paid_email(order)
    return order


def mark_shipped(*, order: Order) -> Order:
    """Paid -> shipped. Raises: IllegalTransition."""
    return _move(order=order, to=OrderStatus.SHIPPED)


def mark_delivered(*, order: Order) -> Order:
    """Shipped -> delivered. Raises: IllegalTransition."""
    return _move(order=order, to=OrderStatus.DELIVERED)


def mark_refunded(*, order: Order) -> Order:
    """Paid -> refunded (the money went back; stock is not restocked automatically). Raises: IllegalTransition."""
    return _move(order=order, to=OrderStatus.REFUNDED)


def flag_order(*, order: Order, reason: str) -> Order:
    """Marks the order for staff attention with a reason (added to earlier ones); works in any status."""
    reasons = "\n".join(part for part in (order.attention_reason, reason) if part)
    Order.objects.filter(pk=order.pk).update(needs_attention=True, attention_reason=reasons, updated_at=timezone.now())
    logger.warning("Order %s flagged for staff: %s", order.number, reason)
    order.refresh_from_db()
    return order


def clear_flag(*, order: Order) -> Order:
    """Staff resolved what the flag was about."""
    Order.objects.filter(pk=order.pk).update(needs_attention=False, attention_reason="", updated_at=timezone.now())
    order.refresh_from_db()
    return order


def _send_paid_email(order: Order) -> None:
    """The confirmation email; a mail failure is logged and never undoes the payment."""
    lines = list(OrderLine.objects.filter(order_id=order.pk))
    context = {"order": order, "lines": lines, "SHOP_NAME": settings.SHOP_NAME}
    try:
        send_mail(
            subject=render_to_string("orders/email/order_paid_subject.txt", context).strip(),
            message=render_to_string("orders/email/order_paid_body.txt", context),
            from_email=None,
            recipient_list=[order.email],
        )
    except Exception:
        logger.exception("Could not send the confirmation email of order %s", order.number)
