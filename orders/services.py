"""Writes on orders: placing them and moving them through their life cycle.

Each multi-step write is one unit of work (`shop.db.unit_of_work`: a real transaction on SQLite and on MongoDB,
retried as a whole on a write conflict): placing an order claims the cart, reserves every line, writes the order and
its lines and empties the cart, or does none of it; cancelling or expiring moves the status and releases the stock
together. Status changes go through `_move()`: one conditional `filter(pk, status__in=sources).update(...)`, so of
two racing changes exactly one wins. Side effects (emails, gateway calls) are recorded in the same transaction through
the outbox (`shop.outbox`, `shop.mail`) and carried out after commit.

Every change also records its event on the order's timeline (`OrderEvent`, `record_event`) in the same unit, so an
event exists exactly when its change committed. The buyer's emails (paid, shipped, cancelled, refunded, a guest's
link) go through the outbox topic `orders.email`, whose handler sends the mail and then records "email sent" (or
"email failed" when the outbox gives up on it).
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError
from django.db.models import F, Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from audit.services import record_change
from cart.selectors import CartLineView, CartOwner, cart_for, checkout_cart_id
from cart.services import claim_cart, empty_cart
from catalog.selectors import stock_mismatches
from catalog.services import StockReason, release_stock, repair_stock, reserve_stocks
from orders.exceptions import (
    CartChanged,
    CartEmpty,
    CartHasProblems,
    IdempotencyKeyReused,
    IllegalTransition,
    NotAllowed,
    OrderError,
    OutOfStock,
    RefundRefused,
)
from orders.models import (
    STATUS_TIMESTAMPS,
    TRANSITIONS,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderLine,
    OrderStatus,
    Refund,
    RefundLine,
    RefundStatus,
)
from orders.selectors import (
    GUEST_LINK_SALT,
    GUEST_ORDERS_SESSION_KEY,
    cart_fingerprint,
    held_mismatches,
    order_lines,
    orders_of_person,
)
from orders.signals import order_paid, order_placed, order_status_changed, refund_requested
from pricing.selectors import Breakdown, price
from pricing.services import redeem_code, release_code
from shop.db import TransientError, checkpoint, keep_written, unique_row, unit_of_work
from shop.exceptions import ShopError
from shop.mail import deliver_email, message_to_dict
from shop.models import OutboxMessage
from shop.money import allocate, format_money, fraction_of
from shop.outbox import enqueue, handler
from shop.text import describe, forbidden_characters, single_line

logger = logging.getLogger(__name__)

# No 0/O or 1/I: numbers are read out on the phone. 32**8 possibilities; a clash is retried.
NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
NUMBER_LENGTH = 8


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


def new_checkout_token() -> str:
    """A fresh one-time token for a checkout form."""
    return secrets.token_urlsafe(24)


def idempotency_token(*, buyer, key: str) -> str:
    """The checkout token for a client's Idempotency-Key: scoped to the buyer, so one buyer's keys never collide with,
    or reveal, another's."""
    return hashlib.sha256(f"{buyer.pk}:{key}".encode()).hexdigest()


def _new_number() -> str:
    return "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))


def _order_for_token(*, buyer, token: str) -> Order | None:
    order = unique_row(Order.objects.filter(checkout_token=token))
    if order is not None and order.buyer_id != (buyer.pk if buyer is not None else None):
        raise NotAllowed("This checkout form is not yours; reload the checkout page.")
    return order


def _guest_email(text: str) -> str:
    email = (text or "").strip()
    try:
        validate_email(email)
    except ValidationError as error:
        raise ValidationError({"email": "Enter the email address we should send your order to."}) from error
    return email


def guest_order_link(*, order: Order) -> str:
    """The path of a guest's order page: signed with SECRET_KEY (unguessable, and no one can make one for another
    order), mailed to the guest's address. Valid for as long as the order exists."""
    token = signing.dumps(order.number, salt=GUEST_LINK_SALT, compress=True)
    return reverse("orders:guest", kwargs={"token": token})


def _send_guest_email(order: Order) -> None:
    """The guest's only way back to the order from another browser: its link, by email (through the outbox)."""
    link = settings.SHOP_URL.rstrip("/") + guest_order_link(order=order)
    _send_email(order, kind="guest_order", lines=order_lines(order=order), link=link)


def remember_guest_order(*, session, order: Order) -> None:
    """This browser placed or opened the guest order: it may see, pay and cancel it for the session's life."""
    numbers = session.get(GUEST_ORDERS_SESSION_KEY)
    numbers = [n for n in numbers if isinstance(n, str)][-19:] if isinstance(numbers, list) else []
    if order.number not in numbers:
        session[GUEST_ORDERS_SESSION_KEY] = [*numbers, order.number]


@unit_of_work
def claim_guest_orders(*, user, email: str) -> int:
    """Gives `user` the guest orders placed under `email` (an address they proved they own). Returns how many."""
    return Order.objects.filter(buyer__isnull=True, email__iexact=email).update(buyer=user, updated_at=timezone.now())


def _reserve_lines(lines: list[CartLineView], *, order_number: str) -> None:
    """Reserves every line. Raises: OutOfStock naming every line that ran short (the unit then undoes the rest)."""
    short_ids = {
        str(pk)
        for pk in reserve_stocks(quantities={line.item.pk: line.quantity for line in lines}, order_number=order_number)
    }
    checkpoint("place_order.lines_reserved")
    short = [line for line in lines if str(line.item.pk) in short_ids]
    if short:
        first = short[0]
        titles = ", ".join(line.item.title for line in short)
        raise OutOfStock(
            f"Sorry, {titles} ran out: there are no longer as many in stock as your cart holds. "
            "Nothing was ordered; please review your cart.",
            item_id=str(first.item.pk),
            title=first.item.title,
            requested=first.quantity,
            items=[
                {"item_id": str(line.item.pk), "title": line.item.title, "requested": line.quantity} for line in short
            ],
        )


def _insert_order(
    *, buyer, email: str, number: str, token: str, breakdown: Breakdown, address: ShippingAddress, request_digest: str
) -> Order:
    """Inserts the order row with its frozen breakdown. Raises: TransientError when the number or the token was
    taken meanwhile (the unit runs again: a new number, or the twin submit's order found by its token)."""
    order = Order(
        number=number,
        checkout_token=token,
        request_digest=request_digest,
        buyer=buyer,
        email=email,
        total_minor=breakdown.total_minor,
        currency=settings.SHOP_CURRENCY,
        subtotal_minor=breakdown.subtotal_minor,
        discount_code=breakdown.discount_code,
        discount_minor=breakdown.discount_minor,
        shipping_method=breakdown.shipping.name if breakdown.shipping else "",
        shipping_minor=breakdown.shipping_minor,
        shipping_tax_rate_bp=breakdown.shipping_tax_rate_bp,
        shipping_tax_minor=breakdown.shipping_tax_minor,
        tax_minor=breakdown.tax_minor,
        prices_include_tax=breakdown.prices_include_tax,
        **address.as_fields(),
    )
    order.full_clean(exclude=["buyer"], validate_unique=False)  # the buyer is a user row: no query to check it
    try:
        order.save(force_insert=True)
    except IntegrityError as error:
        raise TransientError("order number or checkout token taken") from error
    return order


def _insert_lines(*, order: Order, breakdown: Breakdown) -> None:
    """Inserts the order's lines, and keeps them on `order` (`order.lines.all()` needs no query)."""
    lines = OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                item_id=line.item.pk,
                seller_id=line.item.seller_id,
                title=line.item.title,
                sku=line.item.sku,
                unit_price_minor=line.unit_price_minor,
                quantity=line.quantity,
                line_total_minor=line.total_minor,
                discount_minor=line.discount_minor,
                tax_rate_bp=line.tax_rate_bp,
                tax_minor=line.tax_minor,
            )
            for line in breakdown.lines
        ]
    )
    keep_written(order, "lines", lines)


@unit_of_work
def place_order(
    *,
    buyer=None,
    guest: CartOwner | None = None,
    guest_email: str = "",
    address: ShippingAddress | None = None,
    checkout_token: str | None = None,
    request_digest: str = "",
    expected_fingerprint: str | None = None,
    shipping_method_id: str | None = None,
    discount_code: str | None = "",
) -> Order:
    """Turns the buyer's cart into a pending order at current prices, reserving its stock, then empties the cart.
    Its price breakdown (`pricing.selectors.price`: the address's country, the shipping method, the discount code)
    is stored with it, and the code's use counted. `discount_code=None`: the code applied in the cart, if any.

    One unit of work: a crash or error at any step leaves no order, no reserved unit and the cart as it was. A
    repeated `checkout_token` (double submit, even concurrent) returns the order the first submit made; two concurrent
    submits of one cart without a token make one order (the cart is claimed first; the second finds it empty).
    `expected_fingerprint` (from the checkout page) refuses a cart that changed since the shopper reviewed it.
    `request_digest` (an API request's, with its Idempotency-Key as the token) is kept with the order: the token sent
    again with another request is refused (IdempotencyKeyReused) instead of answering the first order.

    A guest (no `buyer`) buys the session cart of `guest` under `guest_email`; the order is theirs through a signed
    link mailed to that address (`guest_order_link`) and through their session. A guest's checkout token is the
    session cart's own secret id (`cart.selectors.checkout_cart_id`), whatever the form sent: two tabs of one browser
    submitting one cart at once make one order (its session is not locked as a stored cart is), Place order pressed
    again after the cart was ordered finds that order, and a form posted from another browser opens no order.

    Raises: CartEmpty, CartHasProblems, CartChanged, OutOfStock, NotAllowed, ValidationError (bad address or
    email), DiscountRefused, ShippingUnavailable.
    """
    if buyer is None and (guest is None or not settings.SHOP_GUEST_CHECKOUT):
        raise NotAllowed("Log in or sign up to place an order.")
    if buyer is None:
        cart_id = checkout_cart_id(session=guest.session)
        checkout_token = hashlib.sha256(f"guest-cart:{cart_id}".encode()).hexdigest() if cart_id else None
    if checkout_token:  # a fresh token names no order yet
        existing = _order_for_token(buyer=buyer, token=checkout_token)
        if existing is not None:
            if request_digest and existing.request_digest and request_digest != existing.request_digest:
                raise IdempotencyKeyReused(order_id=str(existing.pk))
            if buyer is None:
                empty_cart(owner=guest, ordered=True)  # a twin request ordered it, and may have saved its session first
            return existing
    token = checkout_token or new_checkout_token()
    if buyer is not None:
        claim_cart(user=buyer)
        owner = CartOwner(user=buyer)
    else:
        owner = guest
    cart = cart_for(owner=owner)
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
    address = address or ShippingAddress()
    email = buyer.email if buyer is not None else _guest_email(guest_email)
    breakdown = price(
        lines=lines,
        country=address.country or None,
        shipping_method_id=shipping_method_id,
        code=cart.discount_code if discount_code is None else discount_code,
        email=email,
        need_shipping=True,
    )
    number = _new_number()
    _reserve_lines(lines, order_number=number)
    checkpoint("place_order.reserved")
    if breakdown.discount_code:
        redeem_code(code=breakdown.discount_code, order_number=number, email=email)
        checkpoint("place_order.code_redeemed")
    order = _insert_order(
        buyer=buyer, email=email, number=number, token=token, breakdown=breakdown, address=address,
        request_digest=request_digest,
    )  # fmt: skip
    checkpoint("place_order.order_inserted")
    _insert_lines(order=order, breakdown=breakdown)
    checkpoint("place_order.lines_inserted")
    empty_cart(owner=owner, read=cart, ordered=True)  # the lines just ordered, read in this unit of work
    placed = record_event(order=order, kind=OrderEventKind.PLACED, actor=buyer, total_minor=order.total_minor)
    keep_written(order, "events", [placed])  # its whole timeline so far: the answer reads none of it back
    if buyer is None:
        _send_guest_email(order)
    order_placed.send(sender=Order, order=order)
    return order


def _label(status: str) -> str:
    return OrderStatus(status).label.lower()


# The timeline event each target status records in `_move`; refunds record theirs with their amount.
STATUS_EVENTS: dict[str, str] = {
    OrderStatus.PAID: OrderEventKind.PAID,
    OrderStatus.SHIPPED: OrderEventKind.SHIPPED,
    OrderStatus.DELIVERED: OrderEventKind.DELIVERED,
    OrderStatus.CANCELLED: OrderEventKind.CANCELLED,
    OrderStatus.EXPIRED: OrderEventKind.EXPIRED,
}


# A partially refunded order may still ship, then be delivered, but its status no longer says how far the parcel got:
# its timestamps do. Shipped once, delivered once, and never delivered before it shipped.
STAGE_GUARDS: dict[str, dict] = {
    OrderStatus.SHIPPED: {"shipped_at__isnull": True},
    OrderStatus.DELIVERED: {"shipped_at__isnull": False, "delivered_at__isnull": True},
}


def _sources(to: str) -> list[str]:
    return [source for source, targets in TRANSITIONS.items() if to in targets]


def _illegal(order: Order, to: str) -> IllegalTransition:
    return IllegalTransition(
        f"Order {order.number} is {_label(order.status)} and cannot become {_label(to)}.",
        number=order.number,
        status=order.status,
        requested=to,
    )


def _move(*, order: Order, to: str, actor=None, event_data: dict | None = None, **fields) -> Order:
    """Moves the order to `to` in one conditional update and records its timeline event (`STATUS_EVENTS`, by
    `actor`, with `event_data`); updates `order` in place. Call it inside a unit of work.

    Raises: IllegalTransition when the order's stored status does not allow it (including losing a race).
    """
    now = timezone.now()
    changed = Order.objects.filter(pk=order.pk, status__in=_sources(to), **STAGE_GUARDS.get(to, {})).update(
        status=to, updated_at=now, **{STATUS_TIMESTAMPS[to]: now}, **fields
    )
    old_status = order.status
    before = {"status": old_status, **{name: getattr(order, name) for name in fields}}
    order.refresh_from_db()
    if not changed:
        raise _illegal(order, to)
    _audit_order(order, before=before, after={"status": to, **fields}, actor=actor)
    if to in STATUS_EVENTS:
        record_event(order=order, kind=STATUS_EVENTS[to], actor=actor, **(event_data or {}))
    order_status_changed.send(sender=Order, order=order, old_status=old_status, new_status=to)
    return order


def _release_order_stock(order: Order, *, reason: str = StockReason.RELEASED) -> None:
    for line in OrderLine.objects.filter(order_id=order.pk).only("item_id", "quantity", "restocked_quantity"):
        if reason == StockReason.RETURNED:  # a refund may have put some back already, or be doing so now
            _restock_line(line, units=line.quantity, order_number=order.number)
        elif line.item_id is not None:  # an unpaid order's units (a deleted item: nothing to put back)
            release_stock(item_id=line.item_id, quantity=line.quantity, order_number=order.number, reason=reason)
        checkpoint("release_order_stock.line_released")


def _restock_line(line: OrderLine, *, units: int, order_number: str) -> int:
    """Puts back in stock up to `units` of a line's returned units that are not back yet, and counts them on the line
    (a conditional update: a refund's restock and the restock of a refunded order never both put one unit back).
    Returns how many went back. Raises: TransientError when the line was restocked meanwhile (the unit runs again)."""
    done = line.restocked_quantity
    units = min(units, line.quantity - done)
    if line.item_id is None or units <= 0:  # a deleted item: nothing to put back
        return 0
    if not OrderLine.objects.filter(pk=line.pk, restocked_quantity=done).update(restocked_quantity=done + units):
        raise TransientError("an order line was restocked meanwhile")
    release_stock(item_id=line.item_id, quantity=units, order_number=order_number, reason=StockReason.RETURNED)
    return units


def _may_change(order: Order, actor) -> bool:
    """The buyer or staff; for a guest order (no buyer) `actor` is None: the caller checked the guest's access."""
    if actor is None or not actor.is_authenticated:
        return order.buyer_id is None
    return actor.is_shop_staff or order.buyer_id == actor.pk


def can_ship(*, order: Order) -> bool:
    """Whether the order may become shipped now (`mark_shipped`): its status allows it and it has not shipped yet (a
    partly refunded order may have)."""
    return order.status in _sources(OrderStatus.SHIPPED) and order.shipped_at is None


def can_cancel(*, order: Order, actor) -> bool:
    """Whether `actor` may cancel the order now: the buyer (a guest: None) or staff, while payment is pending."""
    return order.is_pending and _may_change(order, actor)


@unit_of_work
def cancel_order(*, order: Order, actor) -> Order:
    """Cancels a pending order and releases its stock, together and exactly once; its open payment sessions are
    expired after commit (payments reacts to the status change). Raises: NotAllowed, IllegalTransition."""
    if not _may_change(order, actor):
        raise NotAllowed()
    _move(order=order, to=OrderStatus.CANCELLED, actor=actor)
    checkpoint("cancel_order.status_changed")
    _release_order_stock(order)
    release_code(order_number=order.number)  # its discount code's use goes back too
    _send_email(order, kind="order_cancelled", dedupe_key=f"order-{order.number}-cancelled-email")
    return order


@unit_of_work
def expire_order(*, order: Order) -> Order:
    """Expires an unpaid order and releases its stock, together and exactly once. Raises: IllegalTransition."""
    _move(order=order, to=OrderStatus.EXPIRED)
    checkpoint("expire_order.status_changed")
    _release_order_stock(order)
    release_code(order_number=order.number)
    return order


@unit_of_work
def mark_order_paid(*, order: Order, reference: str = "") -> Order:
    """Marks a pending order paid and records the buyer's confirmation email, once, in one transaction; an order that
    is already paid (or further along) is returned unchanged, so retries and replays are harmless. `reference` (the
    gateway's payment reference) goes on the timeline.

    Raises: IllegalTransition when the order was cancelled or expired (the caller must see to the money).
    """
    try:
        _move(order=order, to=OrderStatus.PAID, event_data={"reference": reference} if reference else None)
    except IllegalTransition:
        if order.status in (*REFUNDABLE, OrderStatus.REFUNDED):  # paid already, or further along
            return order
        raise
    checkpoint("mark_order_paid.status_changed")
    order_paid.send(sender=Order, order=order)
    _send_paid_email(order)
    return order


SHIPPING_DETAIL_MAX_LENGTH = 100


def _shipping_details(*, carrier: str, tracking_number: str) -> tuple[str, str]:
    """The carrier and tracking number as stored: one line each. Raises: ValidationError naming each bad field."""
    cleaned = {name: single_line(str(value or "")) for name, value in
               (("carrier", carrier), ("tracking_number", tracking_number))}  # fmt: skip
    labels = {"carrier": "the carrier", "tracking_number": "the tracking number"}
    errors = {}
    for name, value in cleaned.items():
        if forbidden_characters(value):
            errors[name] = f"Remove the invisible control characters from {labels[name]}: "
            errors[name] += describe(forbidden_characters(value)) + "."
        elif not value:
            errors[name] = f"Enter {labels[name]} to ship the order."
        elif len(value) > SHIPPING_DETAIL_MAX_LENGTH:
            errors[name] = f"Keep {labels[name]} to {SHIPPING_DETAIL_MAX_LENGTH} characters."
    if errors:
        raise ValidationError(errors)
    return cleaned["carrier"], cleaned["tracking_number"]


@unit_of_work
def mark_shipped(*, order: Order, carrier: str, tracking_number: str, actor=None) -> Order:
    """Paid -> shipped with the parcel's carrier and tracking number, which the order keeps and the buyer's shipped
    email (recorded with the change, sent after commit, once) gives.

    Raises: IllegalTransition (checked first), ValidationError (no carrier or tracking number).
    """
    order.refresh_from_db(fields=["status"])
    if order.status not in _sources(OrderStatus.SHIPPED):
        raise _illegal(order, OrderStatus.SHIPPED)
    carrier, tracking_number = _shipping_details(carrier=carrier, tracking_number=tracking_number)
    _move(
        order=order,
        to=OrderStatus.SHIPPED,
        actor=actor,
        event_data={"carrier": carrier, "tracking_number": tracking_number},
        carrier=carrier,
        tracking_number=tracking_number,
    )
    checkpoint("mark_shipped.status_changed")
    _send_email(order, kind="order_shipped", dedupe_key=f"order-{order.number}-shipped-email")
    return order


@unit_of_work
def mark_delivered(*, order: Order, actor=None) -> Order:
    """Shipped -> delivered. Raises: IllegalTransition."""
    return _move(order=order, to=OrderStatus.DELIVERED, actor=actor)


@unit_of_work
def mark_refunded(*, order: Order, restock: bool = False, actor=None) -> Order:
    """Paid -> refunded (the money went back), and with `restock` its units return to stock, together. The money
    not covered by refunds already recorded goes on the timeline and into the buyer's refunded email.

    Raises: IllegalTransition.
    """
    before = Order.objects.filter(pk=order.pk).values_list("refunded_minor", flat=True).first() or 0
    _move(
        order=order,
        to=OrderStatus.REFUNDED,
        refunded_minor=F("total_minor"),
        **({"restocked_at": timezone.now()} if restock else {}),
    )
    _mark_lines_refunded(order)
    if restock:
        checkpoint("mark_refunded.status_changed")
        _release_order_stock(order, reason=StockReason.RETURNED)
        record_event(order=order, kind=OrderEventKind.RESTOCKED, actor=actor)
    if order.total_minor > before:  # else a refund of ours under way covers it, and records it when done
        _record_refunded(order, amount_minor=order.total_minor - before, actor=actor, key="refunded")
    return order


def _record_refunded(order: Order, *, amount_minor: int, actor, key: str, **data) -> None:
    """Money went back to the buyer: on the timeline (with who asked) and in the buyer's email, once per `key`."""
    record_event(order=order, kind=OrderEventKind.REFUNDED, actor=actor, amount_minor=amount_minor, **data)
    _send_email(order, kind="order_refunded", amount_minor=amount_minor,
                dedupe_key=f"order-{order.number}-{key}-email")  # fmt: skip


def record_late_payment_refunded(
    *, order: Order, amount_minor: int, attempt: int, reference: str = "", cause: str = "closed"
) -> None:
    """A payment (attempt `attempt`) that was never counted for the order went back to the buyer in full: it arrived
    after the order was cancelled or expired (`cause` "closed"), after another attempt had paid it ("paid_twice"), or
    was of the wrong amount ("wrong_amount"). The refund goes on the timeline (by the shop) and the buyer gets an
    email saying why, once per attempt. The order's figures do not change. Call it inside the unit of work that
    records the payment refunded, once (payments' conditional status change decides which caller that is)."""
    record_event(order=order, kind=OrderEventKind.REFUNDED, amount_minor=amount_minor, late_payment=True,
                 attempt=attempt, reference=reference[:100], cause=cause)  # fmt: skip
    _send_email(order, kind="order_late_payment_refunded", amount_minor=amount_minor, cause=cause,
                dedupe_key=f"order-{order.number}-late-{attempt}-refunded-email")  # fmt: skip


def _mark_lines_refunded(order: Order) -> None:
    """Every line of an order refunded in full: what was paid for it went back."""
    paid = F("line_total_minor") - F("discount_minor") + (0 if order.prices_include_tax else F("tax_minor"))
    OrderLine.objects.filter(order_id=order.pk).update(refunded_quantity=F("quantity"), refunded_minor=paid)


@unit_of_work
def restock_refunded_order(*, order: Order) -> bool:
    """Puts the units of a refunded order back in stock, once (a conditional update on `restocked_at`). Returns
    whether it did (False: not refunded, or restocked already)."""
    now = timezone.now()
    if not Order.objects.filter(pk=order.pk, status=OrderStatus.REFUNDED, restocked_at__isnull=True).update(
        restocked_at=now, updated_at=now
    ):
        return False
    _release_order_stock(order, reason=StockReason.RETURNED)
    order.refresh_from_db()
    record_event(order=order, kind=OrderEventKind.RESTOCKED)
    return True


# -- refunds: chosen lines and quantities, or an amount, of a paid, shipped or delivered order ----------------------

REFUNDABLE = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.PARTIALLY_REFUNDED)


@unit_of_work
def reserve_refund(
    *,
    order: Order,
    actor=None,
    lines: list[tuple[object, int]] | None = None,
    amount_minor: int | None = None,
    in_full: bool = False,
    restock: bool = False,
    note: str = "",
) -> Refund:
    """Records a refund of `lines` ((order line id, quantity) pairs) or of `amount_minor`, before the gateway is asked
    (`payments.services.refund_payment`). Its amount is reserved on the order by a conditional update, so that
    refunds never add up to more than was paid however many staff members click at once; each line's quantity the
    same way. A line's refund is its share of what was paid for it (after discount, with VAT): what its units
    refunded so far are worth (half-up) less what they were worth before, so a line refunded in parts, in any steps,
    adds up exactly to what was paid for it. `in_full` refunds every
    unit not refunded yet and all the money left (shipping included).

    Raises: IllegalTransition (not paid, or refunded in full), RefundRefused (nothing or both asked, an unknown
    line, a quantity or an amount beyond what is left).
    """
    order = Order.objects.get(pk=order.pk)
    if order.status not in REFUNDABLE:
        raise IllegalTransition(
            f"Order {order.number} is {_label(order.status)}; only a paid order can be refunded (shipped or not).",
            number=order.number,
            status=order.status,
            requested=OrderStatus.REFUNDED,
        )
    if in_full:
        amount = order.total_minor - order.refunded_minor
        refunded_lines = _reserve_rest_of_lines(order, amount)
    elif (not lines) == (amount_minor is None):
        raise RefundRefused("Choose the lines to refund, or an amount; not both.")
    else:
        refunded_lines = _reserve_refund_lines(order, lines) if lines else []
        amount = sum(share for _, _, share in refunded_lines) if lines else amount_minor
    if not isinstance(amount, int) or amount < 1:
        raise RefundRefused("A refund is at least 0.01.", amount=amount)
    left = order.total_minor - order.refunded_minor
    if not Order.objects.filter(pk=order.pk, refunded_minor__lte=order.total_minor - amount).update(
        refunded_minor=F("refunded_minor") + amount, updated_at=timezone.now()
    ):
        raise RefundRefused(
            f"Only {format_money(max(left, 0), order.currency)} of order {order.number} is left to refund.",
            left=left,
        )
    _audit_order(order, before={"refunded_minor": order.refunded_minor},
                 after={"refunded_minor": order.refunded_minor + amount}, actor=actor)  # fmt: skip
    checkpoint("reserve_refund.amount_reserved")
    refund = Refund.objects.create(order=order, amount_minor=amount, restock=restock, note=note[:200], created_by=actor)
    record_event(order=order, kind=OrderEventKind.REFUND_REQUESTED, actor=actor, refund=str(refund.pk),
                 amount_minor=amount, restock=restock, note=refund.note)  # fmt: skip
    RefundLine.objects.bulk_create(
        [
            RefundLine(refund=refund, order_line=line, quantity=qty, amount_minor=share)
            for line, qty, share in refunded_lines
        ]
    )
    refund_requested.send(sender=Order, refund=refund)
    return refund


def _reserve_rest_of_lines(order: Order, amount: int) -> list[tuple[OrderLine, int, int]]:
    """Every unit not refunded yet, for a refund of all the money left (`amount`): the lines' shares are what is left
    of what was paid for each, scaled down exactly (`allocate`) when earlier amount refunds already gave part back."""
    lines = [line for line in OrderLine.objects.filter(order_id=order.pk) if line.quantity > line.refunded_quantity]
    for line in lines:
        line.order = order
    left = [max(line.paid_minor - line.refunded_minor, 0) for line in lines]
    shares = allocate(min(amount, sum(left)), left)
    reserved = []
    for line, share in zip(lines, shares, strict=True):
        units = line.quantity - line.refunded_quantity
        if not OrderLine.objects.filter(pk=line.pk, refunded_quantity=line.refunded_quantity).update(
            refunded_quantity=F("refunded_quantity") + units, refunded_minor=F("refunded_minor") + share
        ):
            raise TransientError("an order line was refunded meanwhile")  # the unit runs again, on fresh rows
        reserved.append((line, units, share))
    return reserved


def _reserve_refund_lines(order: Order, lines) -> list[tuple[OrderLine, int, int]]:
    by_id = {str(line.pk): line for line in OrderLine.objects.filter(order_id=order.pk)}
    wanted: dict[str, int] = {}
    for line_id, quantity in lines:
        if str(line_id) not in by_id:
            raise RefundRefused(f"Order {order.number} has no line {line_id}.", line=str(line_id))
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise RefundRefused("Refund at least one unit of each line you choose.", line=str(line_id))
        wanted[str(line_id)] = wanted.get(str(line_id), 0) + quantity
    reserved = []
    for line_id, quantity in wanted.items():
        line = by_id[line_id]
        line.order = order
        if not OrderLine.objects.filter(pk=line.pk, refunded_quantity__lte=line.quantity - quantity).update(
            refunded_quantity=F("refunded_quantity") + quantity
        ):
            left = line.quantity - OrderLine.objects.get(pk=line.pk).refunded_quantity
            raise RefundRefused(f"Only {left} of {line.title} are left to refund.", line=line_id, left=left)
        line.refresh_from_db(fields=["refunded_quantity", "refunded_minor"])
        # What the units refunded so far are worth, less what they were worth before: refunded one by one or all at
        # once, a line's units add up to exactly what was paid for it (never more; the last ones are never worth
        # less than nothing).
        after, before = line.refunded_quantity, line.refunded_quantity - quantity
        share = fraction_of(line.paid_minor, after, line.quantity) - fraction_of(line.paid_minor, before, line.quantity)
        share = max(0, min(share, line.paid_minor - line.refunded_minor))
        OrderLine.objects.filter(pk=line.pk).update(refunded_minor=F("refunded_minor") + share)
        reserved.append((line, quantity, share))
    return reserved


@unit_of_work
def complete_refund(*, refund: Refund, reference: str = "") -> bool:
    """The gateway gave the money back: the refund is done, its lines' units go back in stock when asked, and the
    order becomes refunded (everything paid went back) or partially refunded. Once; returns whether it did."""
    now = timezone.now()
    if not Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
        status=RefundStatus.DONE, gateway_reference=reference[:100], completed_at=now
    ):
        return False
    order = Order.objects.get(pk=refund.order_id)
    if refund.restock:
        for refund_line in RefundLine.objects.filter(refund=refund).select_related("order_line"):
            _restock_line(refund_line.order_line, units=refund_line.quantity, order_number=order.number)
        checkpoint("complete_refund.restocked")
        if (
            not OrderLine.objects.filter(order_id=order.pk, item_id__isnull=False)
            .exclude(restocked_quantity=F("quantity"))
            .exists()
        ):
            Order.objects.filter(pk=order.pk).update(restocked_at=now)
    # Refunded in full once the money that went back covers the total: refunds still under way do not count (one
    # may yet fail and give its amount back to the order).
    done = Refund.objects.filter(order_id=order.pk, status=RefundStatus.DONE).aggregate(total=Sum("amount_minor"))
    in_full = (done["total"] or 0) >= order.total_minor
    if order.status != OrderStatus.REFUNDED:
        _move(order=order, to=OrderStatus.REFUNDED if in_full else OrderStatus.PARTIALLY_REFUNDED)
    refund = Refund.objects.select_related("created_by").get(pk=refund.pk)
    _record_refunded(order, amount_minor=refund.amount_minor, actor=refund.created_by, key=f"refund-{refund.pk}",
                     refund=str(refund.pk), reference=refund.gateway_reference)  # fmt: skip
    checkpoint("complete_refund.recorded")
    return True


@unit_of_work
def fail_refund(*, refund: Refund, reason: str) -> bool:
    """The gateway refused the refund: it is failed, its amount and quantities are given back to the order, and staff
    are told on the order. Once; returns whether it did."""
    if not Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
        status=RefundStatus.FAILED, completed_at=timezone.now()
    ):
        return False
    Order.objects.filter(pk=refund.order_id, refunded_minor__gte=refund.amount_minor).update(
        refunded_minor=F("refunded_minor") - refund.amount_minor
    )
    for refund_line in RefundLine.objects.filter(refund=refund):
        OrderLine.objects.filter(pk=refund_line.order_line_id).update(
            refunded_quantity=F("refunded_quantity") - refund_line.quantity,
            refunded_minor=F("refunded_minor") - refund_line.amount_minor,
        )
    order = Order.objects.get(pk=refund.order_id)
    amount = format_money(refund.amount_minor, order.currency)
    record_event(order=order, kind=OrderEventKind.REFUND_FAILED, refund=str(refund.pk),
                 amount_minor=refund.amount_minor, reason=reason[:500])  # fmt: skip
    flag_order(order=order, reason=f"A refund of {amount} failed at the payment provider: {reason}")
    return True


@unit_of_work
def flag_order(*, order: Order, reason: str) -> Order:
    """Marks the order for staff attention with a reason (added to earlier ones, as stored: the caller's copy of the
    order may be older than another flag); works in any status.

    Raises: TransientError when another flag was added between the read and the write (the unit of work runs again).
    """
    stored = Order.objects.filter(pk=order.pk).values_list("attention_reason", flat=True).first() or ""
    reasons = "\n".join(part for part in (stored, reason) if part)
    if not Order.objects.filter(pk=order.pk, attention_reason=stored).update(
        needs_attention=True, attention_reason=reasons, updated_at=timezone.now()
    ):
        raise TransientError("the order was flagged meanwhile")
    record_event(order=order, kind=OrderEventKind.FLAGGED, reason=reason[:1000])
    logger.warning("Order %s flagged for staff: %s", order.number, reason)
    order.refresh_from_db()
    return order


@unit_of_work
def clear_flag(*, order: Order, actor=None) -> Order:
    """Staff resolved what the flag was about. Raises: OrderError(code="not_flagged") for an order with no flag
    (nothing is recorded)."""
    if not Order.objects.filter(pk=order.pk, needs_attention=True).update(
        needs_attention=False, attention_reason="", updated_at=timezone.now()
    ):
        raise OrderError(f"Order {order.number} has no flag to clear", code="not_flagged")
    record_event(order=order, kind=OrderEventKind.FLAG_CLEARED, actor=actor)
    _audit_order(order, before={"needs_attention": order.needs_attention, "attention_reason": order.attention_reason},
                 after={"needs_attention": False, "attention_reason": ""}, actor=actor)  # fmt: skip
    order.refresh_from_db()
    return order


def _audit_order(order: Order, *, before: dict, after: dict, actor) -> None:
    """Staff writes done with a conditional update (which sends no signal) go on the audit trail themselves."""
    record_change(action="update", model=Order, object_id=order.pk, object_repr=str(order), before=before,
                  after=after, actor=actor)  # fmt: skip


# -- the timeline and the buyer's emails ----------------------------------------------------------------------------


def _actor_name(actor) -> str:
    return (actor.get_full_name() or actor.email or str(actor))[:200]


def record_event(*, order: Order, kind: str, actor=None, **data) -> OrderEvent:
    """Appends an event to the order's timeline; `actor` is the user who did it (None: the shop itself, or a guest),
    whose name is kept with it. `data` must be JSON (ids as strings, amounts as ints in minor units). Call it inside
    the unit of work of the change it describes, so that the event exists exactly when the change committed."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return OrderEvent.objects.create(
        order_id=order.pk,
        kind=kind,
        actor=actor,
        actor_name=_actor_name(actor) if actor is not None else "",
        data=data,
    )


ORDER_EMAIL = "orders.email"


def _send_email(order: Order, *, kind: str, dedupe_key: str = "", **context) -> None:
    """Records one of the buyer's emails (to the order's address: the guest's for a guest order) in the caller's
    transaction: templates `orders/email/<kind>_subject.txt` and `_body.txt`. The worker sends it after commit
    (`send_order_email`); `dedupe_key` makes asking twice before it went out send it once."""
    context = {"order": order, "SHOP_NAME": settings.SHOP_NAME, **context}
    message = EmailMessage(
        subject=render_to_string(f"orders/email/{kind}_subject.txt", context).strip(),
        body=render_to_string(f"orders/email/{kind}_body.txt", context),
        to=[order.email],
    )
    enqueue(
        ORDER_EMAIL,
        dedupe_key=dedupe_key,
        order_id=str(order.pk),
        email=kind,
        email_id=secrets.token_hex(16),
        message=message_to_dict(message),
    )


def _send_paid_email(order: Order) -> None:
    """The confirmation email, recorded in the caller's transaction and sent by the worker."""
    _send_email(order, kind="order_paid", lines=list(OrderLine.objects.filter(order_id=order.pk)),
                dedupe_key=f"order-{order.number}-paid-email")  # fmt: skip


def _is_last_attempt(payload: dict) -> bool:
    """Whether the outbox gives up on this email if this attempt fails (it counts the attempt before running it)."""
    attempts = (
        OutboxMessage.objects.filter(topic=ORDER_EMAIL, payload__email_id=payload["email_id"])
        .values_list("attempts", flat=True)
        .first()
    )
    return attempts is not None and attempts >= settings.OUTBOX_MAX_ATTEMPTS


@handler(ORDER_EMAIL)
def send_order_email(payload: dict) -> None:
    """The worker sends one of an order's emails (`shop.mail.deliver_email`), then records on the order's timeline
    that it went out; when it fails for the last time (the outbox gives up and flags it for staff), that it failed.
    Raises while the mail server refuses it, so that the outbox tries again."""
    order = Order.objects.filter(pk=payload["order_id"]).first()
    details = {"email": payload["email"], "to": payload["message"]["to"]}
    try:
        deliver_email(payload)
    except Exception as error:
        if order is not None and _is_last_attempt(payload):
            record_event(order=order, kind=OrderEventKind.EMAIL_FAILED, error=f"{type(error).__name__}: {error}"[:500],
                         **details)  # fmt: skip
        raise
    if order is not None:
        record_event(order=order, kind=OrderEventKind.EMAIL_SENT, **details)


@dataclass
class StockCheck:
    """What `check_stock` found, and with `repair` what it fixed; `problems` left means a person must look."""

    stock_mismatches: list = field(default_factory=list)
    held_mismatches: list = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.stock_mismatches or self.held_mismatches)


def check_stock(*, repair: bool = False, actor=None) -> StockCheck:
    """Checks, per item, that stock equals the sum of its ledger and that the units each order holds in the ledger
    match its state. With `repair`, gives back units the ledger shows held by no live order (a REPAIR move naming the
    order), then sets drifted stock columns to their ledger sums (a REPAIR move saying what the column held).
    Anything it cannot fix safely (an order holding units the ledger never took) is left in `problems`.

    A first pass reads everything outside any transaction (so no writer waits for it); each item it suspects is then
    checked again, and repaired, in a small transaction of its own, so an order that landed between two reads is
    never reported.
    """
    suspects = {mismatch.item_id for mismatch in stock_mismatches()}
    suspects |= {mismatch.item_id for mismatch in held_mismatches()}
    report = StockCheck()
    for item_id in sorted(suspects, key=str):
        found = _check_item_stock(item_id=item_id, repair=repair, actor=actor)
        report.stock_mismatches += found.stock_mismatches
        report.held_mismatches += found.held_mismatches
        report.repaired += found.repaired
        report.problems += found.problems
    return report


@unit_of_work
def _check_item_stock(*, item_id: object, repair: bool, actor) -> StockCheck:
    report = StockCheck(
        stock_mismatches=stock_mismatches(item_ids=[item_id]), held_mismatches=held_mismatches(item_ids=[item_id])
    )
    for mismatch in report.held_mismatches:
        name = f"order {mismatch.order_number}, item {mismatch.item_id}"
        if mismatch.held > mismatch.expected and repair:
            release_stock(
                item_id=mismatch.item_id,
                quantity=mismatch.held - mismatch.expected,
                order_number=mismatch.order_number,
                reason=StockReason.REPAIR,
                note=f"check_stock: the order holds {mismatch.expected}, the ledger had {mismatch.held}",
            )
            report.repaired.append(f"{name}: gave back {mismatch.held - mismatch.expected} stranded units")
        elif mismatch.held < mismatch.expected:
            report.problems.append(
                f"{name}: holds {mismatch.expected} units but the ledger took {mismatch.held}; adjust the stock by hand"
            )
    if repair:
        for mismatch in stock_mismatches(item_ids=[item_id]):
            try:
                repair_stock(item_id=mismatch.item_id, actor=actor)
            except ShopError as error:
                report.problems.append(f"item {mismatch.sku}: {error}")
            else:
                fixed = f"stock {mismatch.stock} set to its ledger {mismatch.ledger}"
                report.repaired.append(f"item {mismatch.sku}: {fixed}")
    return report


# What an erased buyer's orders keep for the accounts: number, dates, status, amounts, VAT, lines, refunds and the
# destination country (the VAT rate depends on it). These lose the person.
_ORDER_ADDRESS_FIELDS = ("shipping_name", "shipping_line1", "shipping_line2", "shipping_postal_code", "shipping_city")


@unit_of_work
def anonymise_orders(*, user, emails: list[str], placeholder: str) -> None:
    """An erased person's orders (`orders_of_person`) stay for the accounts with the buyer anonymised: their email
    becomes `placeholder` and the shipping address is blanked but for the country. On their timelines, the address
    emails went to and the user's own name as the actor go too (the events stay)."""
    orders = orders_of_person(user=user, emails=emails)
    order_ids = list(orders.values_list("pk", flat=True))
    orders.update(email=placeholder, updated_at=timezone.now(), **dict.fromkeys(_ORDER_ADDRESS_FIELDS, ""))
    for event in OrderEvent.objects.filter(order_id__in=order_ids):
        changes = {}
        if "to" in event.data:
            changes["data"] = {**event.data, "to": [placeholder]}
        if event.actor_id == user.pk and event.actor_name:
            changes["actor_name"] = ""
        if changes:
            OrderEvent.objects.filter(pk=event.pk).update(**changes)
