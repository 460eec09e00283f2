"""Reads on orders."""

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core import signing
from django.db.models import Count, F, Max, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from cart.selectors import CartSummary
from catalog.selectors import held_by_orders
from orders.models import BUYER_VISIBLE, Order, OrderEvent, OrderLine, OrderStatus, Refund
from pricing.exceptions import PricingError
from pricing.selectors import Breakdown, price, pricing_terms
from shop.moments import iso_moment


def payment_window() -> timedelta:
    """How long an order may stay unpaid before it expires (setting ORDER_PAYMENT_WINDOW_MINUTES)."""
    return timedelta(minutes=getattr(settings, "ORDER_PAYMENT_WINDOW_MINUTES", 60))


def payment_deadline(*, order: Order) -> datetime:
    """When an unpaid order expires."""
    return order.created_at + payment_window()


def is_payable(*, order: Order, now: datetime | None = None) -> bool:
    """Whether the order may be paid now: pending and within its payment window."""
    return order.status == OrderStatus.PENDING_PAYMENT and (now or timezone.now()) < payment_deadline(order=order)


def cart_fingerprint(*, cart: CartSummary) -> str:
    """A digest of what the shopper saw at checkout (items, quantities, prices, and the shipping, VAT and discount
    terms they were priced with: `pricing.selectors.pricing_terms`) to detect a cart that changed."""
    parts = sorted(f"{line.item.pk}:{line.quantity}:{line.unit_price_minor}" for line in cart.lines)
    return hashlib.sha256("|".join([*parts, pricing_terms()]).encode()).hexdigest()[:32]


def checkout_breakdown(
    *, cart: CartSummary, country: str | None, shipping_method_id: str | None, code: str
) -> tuple[Breakdown, str]:
    """What the checkout page shows for what the shopper chose so far, and why a choice cannot be used ("" when all
    can): then the cart is priced without that code or method. `place_order` prices it again, strictly."""
    lines = [line for line in cart.lines if line.item.is_active]
    problems = []
    for attempt in (
        {"code": code, "shipping_method_id": shipping_method_id},
        {"shipping_method_id": shipping_method_id},
        {"code": code},
        {},
    ):
        try:
            return price(lines=lines, country=country, **attempt), " ".join(problems)
        except PricingError as error:
            if error.message not in problems:
                problems.append(error.message)
    raise AssertionError("pricing without a code or a method cannot be refused")


def orders_for_buyer(*, buyer) -> QuerySet[Order]:
    """The buyer's orders, newest first."""
    return Order.objects.filter(buyer_id=buyer.pk).order_by("-created_at")


def order_for_buyer(*, buyer, number: str) -> Order | None:
    """One of the buyer's orders by number; None for an unknown number or someone else's order."""
    return Order.objects.filter(buyer_id=buyer.pk, number=number).first()


GUEST_ORDERS_SESSION_KEY = "guest_orders"
GUEST_LINK_SALT = "orders.guest-order"


def order_for_viewer(*, user, session, number: str) -> Order | None:
    """The order a browser may see: a signed-in buyer's own, or a guest order this session placed or opened through
    its emailed link. None otherwise."""
    if user.is_authenticated:
        return order_for_buyer(buyer=user, number=number)
    numbers = session.get(GUEST_ORDERS_SESSION_KEY) or []
    if not isinstance(numbers, list) or number not in numbers:
        return None
    return Order.objects.filter(buyer__isnull=True, number=number).first()


def order_by_guest_token(*, token: str) -> Order | None:
    """The guest order a signed link names (`orders.services.guest_order_link`); None for a tampered link or an
    order that has an account now (it is then seen by logging in)."""
    try:
        number = signing.loads(token, salt=GUEST_LINK_SALT)
    except signing.BadSignature:
        return None
    return Order.objects.filter(buyer__isnull=True, number=str(number)).first()


def order_by_number(*, number: str) -> Order | None:
    """Any order by its number (staff, payments)."""
    return Order.objects.filter(number=number).first() if number else None


def order_by_id(*, order_id: object) -> Order | None:
    """Any order by primary key (the API); None when there is none."""
    return Order.objects.filter(pk=order_id).first() if order_id else None


def order_lines(*, order: Order) -> list[OrderLine]:
    """The order's lines in a stable order (title, then pk)."""
    return list(OrderLine.objects.filter(order_id=order.pk).order_by("title", "pk"))


def order_timeline(*, order: Order, for_buyer: bool = False) -> list[OrderEvent]:
    """The order's events, oldest first; `for_buyer`: only those the buyer may see (`orders.models.BUYER_VISIBLE`;
    show their `buyer_data`, never `actor_name`). One query, none when `order.events` was prefetched (or kept by the
    unit of work that placed the order)."""
    return [event for event in order.events.all() if not for_buyer or event.kind in BUYER_VISIBLE]


def stale_pending_orders(*, older_than: timedelta, now: datetime | None = None) -> QuerySet[Order]:
    """Orders still waiting for payment that were placed more than `older_than` ago, oldest first."""
    cutoff = (now or timezone.now()) - older_than
    return Order.objects.filter(status=OrderStatus.PENDING_PAYMENT, created_at__lt=cutoff).order_by("created_at")


def orders_needing_attention() -> QuerySet[Order]:
    """Orders flagged for staff, newest first."""
    return Order.objects.filter(needs_attention=True).order_by("-updated_at")


# -- the dashboard ---------------------------------------------------------------------------------------------------
# Every figure is over the whole shop, or over one seller's own order lines when `seller` is given (a seller's share
# of an order is the sum of their lines, never the order total).

# An order has been paid when it is in one of these; REFUNDED gave the money back.
PAID_STATUSES = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.PARTIALLY_REFUNDED)
EVER_PAID_STATUSES = (*PAID_STATUSES, OrderStatus.REFUNDED)


@dataclass(frozen=True)
class DaySales:
    day: date
    orders: int
    revenue_minor: int


@dataclass(frozen=True)
class Revenue:
    """Money of the orders paid in a window: `gross` all of them, `refunded` those refunded since, `net` the rest."""

    gross_minor: int
    refunded_minor: int
    orders: int
    refunded_orders: int

    @property
    def net_minor(self) -> int:
        return self.gross_minor - self.refunded_minor

    @property
    def kept_orders(self) -> int:
        return self.orders - self.refunded_orders


@dataclass(frozen=True)
class BestSeller:
    sku: str
    title: str
    units: int
    revenue_minor: int


def _day_bounds(*, since: date, until: date) -> tuple[datetime, datetime]:
    """[start of `since`, start of the day after `until`) in the shop's time zone."""
    start = timezone.make_aware(datetime.combine(since, time.min))
    end = timezone.make_aware(datetime.combine(until + timedelta(days=1), time.min))
    return start, end


def _paid_in(*, since: date, until: date, seller, statuses) -> QuerySet:
    """Orders (or the seller's lines of orders) paid in the window and now in one of `statuses`."""
    start, end = _day_bounds(since=since, until=until)
    if seller is None:
        return Order.objects.filter(paid_at__gte=start, paid_at__lt=end, status__in=list(statuses))
    return OrderLine.objects.filter(
        seller_id=seller.pk, order__paid_at__gte=start, order__paid_at__lt=end, order__status__in=list(statuses)
    )


def sales_by_day(*, since: date, until: date, seller=None) -> list[DaySales]:
    """Paid orders (not refunded in full since) per day of payment, every day from `since` to `until` (shop time
    zone), days without sales included as zeros: what the shop kept of them (a seller: of their lines), on the basis
    of `revenue`'s net, so the days add up to it. One query; rows are summed in Python, streamed, since the MongoDB
    backend cannot truncate a date in a non-UTC time zone."""
    rows = _paid_in(since=since, until=until, seller=seller, statuses=PAID_STATUSES)
    if seller is None:
        rows = rows.values_list("paid_at", "pk", "total_minor", "refunded_minor")
    else:
        rows = rows.values_list(
            "order__paid_at", "order_id", "line_total_minor", "refunded_minor", "discount_minor", "tax_minor",
            "order__prices_include_tax",
        )  # fmt: skip
    totals: dict[date, int] = defaultdict(int)
    orders: dict[date, set] = defaultdict(set)
    for paid_at, order_id, amount, refunded, *line in rows.iterator(chunk_size=2000):
        if line:  # a seller's line: what its buyer paid for it (after discount, VAT on top where it was added)
            discount, tax, include_tax = line
            amount = amount - discount + (0 if include_tax else tax)
        day = timezone.localdate(paid_at)
        totals[day] += amount - refunded
        orders[day].add(order_id)
    days = (since + timedelta(days=offset) for offset in range((until - since).days + 1))
    return [DaySales(day=day, orders=len(orders[day]), revenue_minor=totals[day]) for day in days]


def revenue(*, since: date, until: date, seller=None) -> Revenue:
    """Gross, refunded and net money of the orders paid from `since` to `until` (see `Revenue`). One query."""
    rows = _paid_in(since=since, until=until, seller=seller, statuses=EVER_PAID_STATUSES)
    if seller is None:
        grouped = rows.values("status").annotate(
            amount=Sum("total_minor"), refunded=Sum("refunded_minor"), orders=Count("pk")
        )
    else:
        # A seller's share is what the buyers paid for their lines (after discount, with VAT added on top where it
        # was), the same basis as the lines' refunds; amount refunds of a whole order stay with the shop's figures.
        grouped = rows.values(status=F("order__status"), include_tax=F("order__prices_include_tax")).annotate(
            line=Sum("line_total_minor"),
            discount=Sum("discount_minor"),
            tax=Sum("tax_minor"),
            refunded=Sum("refunded_minor"),
            orders=Count("order_id", distinct=True),
        )
    gross = refunded = orders = refunded_orders = 0
    for row in grouped.order_by():
        if seller is not None:
            row["amount"] = row["line"] - row["discount"] + (0 if row["include_tax"] else row["tax"])
            if row["status"] == OrderStatus.REFUNDED:  # refunded in full, by lines or by an amount: all went back
                row["refunded"] = row["amount"]
        gross += row["amount"] or 0
        refunded += row["refunded"] or 0  # partial refunds too
        orders += row["orders"]
        if row["status"] == OrderStatus.REFUNDED:
            refunded_orders += row["orders"]
    return Revenue(gross_minor=gross, refunded_minor=refunded, orders=orders, refunded_orders=refunded_orders)


def orders_per_status(*, seller=None) -> dict[str, int]:
    """How many orders are in each status now (all time), every status present, in life-cycle order; for a seller,
    the orders holding at least one of their lines. One query."""
    if seller is None:
        grouped = Order.objects.values("status").annotate(count=Count("pk"))
    else:
        grouped = (
            OrderLine.objects.filter(seller_id=seller.pk)
            .values(status=F("order__status"))
            .annotate(count=Count("order_id", distinct=True))
        )
    counts = {row["status"]: row["count"] for row in grouped.order_by()}
    return {status: counts.get(status, 0) for status in OrderStatus.values}


def best_sellers(*, since: date, until: date, seller=None, limit: int = 10) -> list[BestSeller]:
    """The `limit` items with the most units in orders paid from `since` to `until` and not refunded, most first.

    Grouped by SKU, which order lines keep even when the item is renamed or deleted. One query.
    """
    start, end = _day_bounds(since=since, until=until)
    lines = OrderLine.objects.filter(
        order__paid_at__gte=start, order__paid_at__lt=end, order__status__in=list(PAID_STATUSES)
    )
    if seller is not None:
        lines = lines.filter(seller_id=seller.pk)
    grouped = (
        lines.values("sku")
        .annotate(title=Max("title"), units=Sum("quantity"), revenue_minor=Sum("line_total_minor"))
        .order_by("-units", "sku")[:limit]
    )
    return [BestSeller(**row) for row in grouped]


def orders_for_export(
    *, since: date | None = None, until: date | None = None, statuses: list[str] | None = None
) -> QuerySet[Order]:
    """Orders placed from `since` to `until` (inclusive days, shop time zone; None is open-ended) in any of `statuses`
    (None: all), oldest first, with their lines prefetched by title. Iterate with `.iterator(chunk_size=...)`: each
    chunk of orders costs one more query for its lines, so memory stays bounded."""
    orders = Order.objects.all()
    if since is not None:
        orders = orders.filter(created_at__gte=_day_bounds(since=since, until=since)[0])
    if until is not None:
        orders = orders.filter(created_at__lt=_day_bounds(since=until, until=until)[1])
    if statuses:
        orders = orders.filter(status__in=list(statuses))
    lines = OrderLine.objects.order_by("title", "pk")
    return orders.order_by("created_at", "pk").prefetch_related(Prefetch("lines", queryset=lines))


@dataclass(frozen=True)
class HeldMismatch:
    """An order whose units in the stock ledger differ from what its state says it holds."""

    item_id: object
    order_number: str
    held: int  # units the ledger says the order holds (reserved less released)
    expected: int  # units the order's lines hold in its current state (0 once cancelled, expired or restocked)


def held_mismatches(*, item_ids=None) -> list[HeldMismatch]:
    """Every (item, order), of the given items or of all, whose units held in the stock ledger differ from what the
    order holds now: units stranded by a reservation without an order, or a cancelled order that kept them; an order
    holding units never taken."""
    expected: dict[tuple, int] = {}
    lines = OrderLine.objects.filter(item_id__isnull=False)
    if item_ids is not None:
        lines = lines.filter(item_id__in=list(item_ids))
    lines = list(lines.values_list("order_id", "item_id", "quantity", "restocked_quantity"))
    orders = {
        pk: (number, status, restocked_at)
        for pk, number, status, restocked_at in Order.objects.filter(
            pk__in=list({order_id for order_id, *_ in lines})
        ).values_list("pk", "number", "status", "restocked_at")
    }
    for order_id, item_id, quantity, restocked in lines:
        number, status, restocked_at = orders[order_id]
        if Order(status=status, restocked_at=restocked_at).holds_stock:
            # Units a partial refund put back are no longer held.
            expected[(item_id, number)] = expected.get((item_id, number), 0) + quantity - restocked
    held = held_by_orders(item_ids=item_ids)
    return sorted(
        (
            HeldMismatch(item_id=item_id, order_number=number, held=held.get(key, 0), expected=expected.get(key, 0))
            for key in set(held) | set(expected)
            for item_id, number in [key]
            if held.get(key, 0) != expected.get(key, 0)
        ),
        key=lambda mismatch: (mismatch.order_number, str(mismatch.item_id)),
    )


# The personal data of accounts (GDPR): what `personal_orders` exports, and what `orders.services.anonymise_orders`
# keeps. Order fields that are the shop's own bookkeeping, not the buyer's data:
_ORDER_FIELDS_NOT_EXPORTED = {"id", "buyer", "checkout_token", "request_digest", "needs_attention", "attention_reason"}
_LINE_FIELDS_NOT_EXPORTED = {"id", "order", "item", "seller"}


def _jsonable(value):
    return iso_moment(value)


def _row(instance, *, skip: set[str]) -> dict:
    return {
        field.name: _jsonable(field.value_from_object(instance))
        for field in instance._meta.concrete_fields
        if field.name not in skip
    }


def orders_of_person(*, user, emails: list[str]) -> QuerySet[Order]:
    """The user's orders, and the guest orders placed under an address the user proved they own, oldest first."""
    mine = Q(buyer_id=user.pk)
    for email in emails:
        mine |= Q(buyer__isnull=True, email__iexact=email)
    return Order.objects.filter(mine).order_by("created_at", "pk")


def personal_orders(*, user, emails: list[str]) -> list[dict]:
    """The person's orders with lines, payment state and refunds, as JSON-ready data for the GDPR export (one query
    each for orders, lines and refunds, however many orders)."""
    orders = list(orders_of_person(user=user, emails=emails))
    order_ids = [order.pk for order in orders]
    lines, refunds = defaultdict(list), defaultdict(list)
    for line in OrderLine.objects.filter(order_id__in=order_ids).order_by("title", "pk"):
        lines[line.order_id].append(_row(line, skip=_LINE_FIELDS_NOT_EXPORTED))
    for refund in Refund.objects.filter(order_id__in=order_ids).order_by("created_at", "pk"):
        refunds[refund.order_id].append(
            {
                "amount_minor": refund.amount_minor,
                "status": refund.status,
                "created_at": _jsonable(refund.created_at),
                "completed_at": _jsonable(refund.completed_at),
            }
        )
    exported = []
    for order in orders:
        row = _row(order, skip=_ORDER_FIELDS_NOT_EXPORTED)
        row["payment"] = {"paid": order.paid_at is not None, "paid_at": row["paid_at"], "refunds": refunds[order.pk]}
        row["lines"] = lines[order.pk]
        exported.append(row)
    return exported
