"""Demo orders: a few hundred past orders over the last 60 days, in every status, each with its timeline, so that the
dashboard, the order admin, the timelines and the audit log have something to show on first start.

Every order lives its life through the shop's own services, as a real one would: a demo shopper (or a guest) fills a
cart and places the order (stock is reserved through the ledger, the discount code counted), then it is cancelled,
expired, or paid, shipped by the demo admin with a carrier and a tracking number, delivered, refunded in part or in
full. Then its dates are moved into the past. Each order is one unit of work, so an order is there with its whole
story or not at all.

What is not real, and why:
- Dates. The services stamp everything "now"; afterwards the order's dates, its timeline events and its refunds are
  set to plausible times over the last `DAYS` days with direct queryset updates. Only this demo does that. The audit
  log and the stock ledger keep the real time (the audit log is append-only, and both say truthfully that
  `load_demo` wrote them).
- Emails. The buyers' emails the services record (confirmation, shipped, cancelled, refunded, a guest's link) are
  deleted from the outbox in the same unit: the demo's history happened long ago, and a worker must not send
  hundreds of emails to made-up addresses (an SMTP server set in EMAIL_URL would try). So timelines have no
  "email sent" events. (Payments' later check that each refund finished stays queued: it finds it done.)
- Money. Paying an order here is `mark_order_paid`, which the payment gateway's fulfilment calls; the demo
  gateway's payment records are added by `payments.demo` (the `load_payments_demo` command, which
  `load_orders_demo` runs), since orders may not import payments.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.base import SessionBase
from django.db.models import QuerySet
from django.utils import timezone

from accounts.selectors import user_by_email
from accounts.services import create_user
from cart.selectors import CartOwner
from cart.services import add_to_cart, empty_cart
from catalog.demo import DEMO_PASSWORD, DEMO_USERS
from catalog.selectors import visible_items
from orders.models import Order, OrderEvent, OrderEventKind, OrderStatus, Refund
from orders.services import (
    ORDER_EMAIL,
    ShippingAddress,
    cancel_order,
    complete_refund,
    expire_order,
    mark_delivered,
    mark_order_paid,
    mark_shipped,
    place_order,
    record_event,
    reserve_refund,
)
from pricing.exceptions import DiscountRefused
from shop.db import unit_of_work
from shop.models import OutboxMessage

DAYS = 60
DEFAULT_ORDERS = 300
DEMO_DOMAIN = "example.com"  # reserved for examples (RFC 2606): nothing is ever delivered there

# Twenty demo shoppers who log in with DEMO_PASSWORD, and guests who bought without an account.
SHOPPER_NAMES = [
    ("Anna", "Schmidt"), ("Lukas", "Müller"), ("Sophie", "Martin"), ("Jonas", "Weber"), ("Emma", "Janssen"),
    ("Noah", "Dubois"), ("Mia", "Rossi"), ("Elias", "Novak"), ("Lena", "Fischer"), ("Matteo", "Bianchi"),
    ("Clara", "García"), ("Finn", "Andersen"), ("Zoe", "Murphy"), ("Leon", "Kowalski"), ("Ida", "Lindqvist"),
    ("Paul", "Bernard"), ("Marie", "De Vries"), ("Oskar", "Nieminen"), ("Julia", "Horvat"), ("David", "Costa"),
]  # fmt: skip
GUEST_NAMES = [
    ("Hannah", "Keller"), ("Louis", "Petit"), ("Eva", "Svoboda"), ("Luca", "Romano"), ("Nora", "Byrne"),
    ("Max", "Wagner"), ("Alice", "Lambert"), ("Tom", "Peeters"),
]  # fmt: skip


def _email(first: str, last: str, *, guest: bool = False) -> str:
    local = f"{first}.{last}".lower().replace(" ", "").translate(str.maketrans("üéíçáö", "ueicao"))
    return f"{local}{'.guest' if guest else ''}@{DEMO_DOMAIN}"


SHOPPER_EMAILS = [_email(first, last) for first, last in SHOPPER_NAMES]
GUEST_EMAILS = [_email(first, last, guest=True) for first, last in GUEST_NAMES]

# (country, postal code, city, street): used for the countries the shop ships to.
PLACES = [
    ("DE", "10115", "Berlin", "Invalidenstraße"), ("DE", "80331", "München", "Sendlinger Straße"),
    ("DE", "50667", "Köln", "Hohe Straße"), ("AT", "1010", "Wien", "Kärntner Straße"),
    ("FR", "75004", "Paris", "Rue de Rivoli"), ("NL", "1012 JS", "Amsterdam", "Damrak"),
    ("BE", "1000", "Bruxelles", "Rue Neuve"), ("IT", "20121", "Milano", "Via Brera"),
    ("ES", "28013", "Madrid", "Calle Mayor"), ("SE", "111 29", "Stockholm", "Drottninggatan"),
    ("PL", "00-001", "Warszawa", "Nowy Świat"), ("IE", "D02 XY45", "Dublin", "Grafton Street"),
    ("DK", "1160", "København", "Strøget"), ("FI", "00100", "Helsinki", "Aleksanterinkatu"),
    ("CZ", "110 00", "Praha", "Národní"), ("PT", "1100-148", "Lisboa", "Rua Augusta"),
]  # fmt: skip
CARRIERS = [("DHL", "JJD{:018d}"), ("DPD", "{:014d}"), ("GLS", "{:011d}"), ("UPS", "1Z{:016d}"), ("Hermes", "H{:019d}")]
PARTIAL_REFUND_NOTES = ["One unit arrived damaged", "Goodwill: late delivery", "Wrong colour, kept the rest"]
REFUND_NOTES = ["Returned within 14 days", "Did not fit", "Arrived too late", "Changed their mind"]

# How the demo's orders end, with their weights. The first orders take each fate once, so even a few orders show
# every status.
FATES: dict[str, int] = {
    OrderStatus.DELIVERED: 50,
    OrderStatus.SHIPPED: 9,
    OrderStatus.PAID: 7,
    OrderStatus.PARTIALLY_REFUNDED: 6,
    OrderStatus.REFUNDED: 7,
    OrderStatus.CANCELLED: 10,
    OrderStatus.EXPIRED: 8,
    OrderStatus.PENDING_PAYMENT: 3,
}
STOCK_LEFT = 5  # the demo leaves at least this many units of an item for visitors to buy

Progress = Callable[[str], None]


@dataclass
class Plan:
    """One order's life: who buys what, how it ends, and when each step happened."""

    fate: str
    email: str
    guest: bool
    address: ShippingAddress
    items: list[tuple[object, int]]
    discount_code: str = ""
    refund_before_shipping: bool = False
    times: dict[str, datetime] = field(default_factory=dict)


def demo_orders(*, marker: bool = False) -> QuerySet[Order]:
    """The orders this demo made: those of its shoppers and guests, and of the demo shopper whose login the README
    gives. With `marker`, only the former: whether the demo ran (the demo shopper may have ordered on the shop)."""
    emails = [*SHOPPER_EMAILS, *GUEST_EMAILS, *([] if marker else [DEMO_USERS["shopper"]])]
    return Order.objects.filter(email__in=emails)


def ensure_demo_shoppers() -> list:
    """The twenty demo shoppers exist (created with the demo password when missing); returns them."""
    hashed = None
    shoppers = []
    for (first, last), email in zip(SHOPPER_NAMES, SHOPPER_EMAILS, strict=True):
        user = user_by_email(email=email)
        if user is None:
            user = create_user(email=email, password=None, first_name=first, last_name=last)
            # One hash for all of them: hashing DEMO_PASSWORD twenty times would take seconds.
            hashed = hashed or make_password(DEMO_PASSWORD)
            user.password = hashed
            user.save(update_fields=["password"])
        shoppers.append(user)
    return shoppers


def _fates(count: int, rng: random.Random) -> list[str]:
    fates = list(FATES)[:count]
    fates += rng.choices(list(FATES), weights=list(FATES.values()), k=max(count - len(fates), 0))
    return fates


def _address(name: str, rng: random.Random) -> ShippingAddress:
    shipping = {code.upper() for code in settings.SHOP_SHIPPING_COUNTRIES}
    places = [place for place in PLACES if place[0] in shipping] or [
        (settings.SHOP_COUNTRY.upper(), "12345", "Demo City", "Main Street")
    ]
    country, postal_code, city, street = rng.choice(places)
    return ShippingAddress(
        name=name, line1=f"{street} {rng.randint(1, 120)}", postal_code=postal_code, city=city, country=country
    )


def _times(plan: Plan, now: datetime, rng: random.Random) -> dict[str, datetime]:
    """When each step of the plan happened: every step after the one before, the last one before `now`, the
    whole spread over the last DAYS days (orders still pending or on their way are recent, as they would be)."""

    def hours(low: float, high: float) -> timedelta:
        return timedelta(hours=rng.uniform(low, high))

    steps: dict[str, timedelta] = {"placed": timedelta(0)}
    fate = plan.fate
    if fate == OrderStatus.CANCELLED:
        steps["closed"] = hours(0.05, 0.9)
    elif fate == OrderStatus.EXPIRED:
        steps["closed"] = timedelta(minutes=settings.ORDER_PAYMENT_WINDOW_MINUTES) + hours(0.05, 0.5)
    elif fate != OrderStatus.PENDING_PAYMENT:
        steps["payment_started"] = hours(0.01, 0.1)
        steps["paid"] = steps["payment_started"] + hours(0.02, 0.3)
        if plan.refund_before_shipping:
            steps["refunded"] = steps["paid"] + hours(2, 30)
        elif fate != OrderStatus.PAID:
            steps["shipped"] = steps["paid"] + hours(3, 30)
            if fate != OrderStatus.SHIPPED:
                steps["delivered"] = steps["shipped"] + hours(20, 96)
                if fate in (OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED):
                    steps["refunded"] = steps["delivered"] + hours(24, 240)
    span = max(steps.values())
    # How far back the order may start: pending ones within the payment window, paid and shipped ones in the
    # last days, the rest anywhere in the last DAYS days.
    latest_start = {
        OrderStatus.PENDING_PAYMENT: timedelta(minutes=max(min(40, settings.ORDER_PAYMENT_WINDOW_MINUTES - 5), 1)),
        OrderStatus.PAID: timedelta(days=2),
        OrderStatus.SHIPPED: timedelta(days=3),
    }.get(fate, timedelta(days=DAYS))
    slack = max(latest_start - span, timedelta(minutes=2)) if fate != OrderStatus.PENDING_PAYMENT else latest_start
    placed = now - span - timedelta(seconds=rng.uniform(60, max(slack.total_seconds(), 61)))
    placed = max(placed, now - timedelta(days=DAYS))
    return {step: placed + offset for step, offset in steps.items()}


def _pick_items(stock: dict, rng: random.Random) -> list[tuple[object, int]]:
    """One to three items with units to spare, mostly one unit each; reserves them in `stock` (our running count)."""
    candidates = [item_id for item_id, units in stock.items() if units > STOCK_LEFT]
    picked = []
    for item_id in rng.sample(candidates, k=min(len(candidates), rng.choice([1, 1, 1, 2, 2, 3]))):
        quantity = min(rng.choice([1, 1, 1, 1, 2, 2, 3]), stock[item_id] - STOCK_LEFT)
        stock[item_id] -= quantity
        picked.append((item_id, quantity))
    return picked


def _plans(count: int, *, shoppers: list, now: datetime, rng: random.Random) -> list[Plan]:
    stock = {item.pk: item.stock for item in visible_items().only("pk", "stock")}
    buyers = [(user.email, user.get_full_name() or "Sam Shopper", False) for user in shoppers]
    guests = [(email, f"{first} {last}", True) for (first, last), email in zip(GUEST_NAMES, GUEST_EMAILS, strict=True)]
    guest_checkout = settings.SHOP_GUEST_CHECKOUT
    plans = []
    for fate in _fates(count, rng):
        items = _pick_items(stock, rng)
        if not items:
            break  # the catalog has nothing left to spare
        email, name, guest = rng.choice(guests) if guest_checkout and rng.random() < 0.15 else rng.choice(buyers)
        plan = Plan(fate=fate, email=email, guest=guest, address=_address(name, rng), items=items)
        plan.discount_code = rng.choice(["WELCOME10", "FREESHIP"]) if rng.random() < 0.12 else ""
        plan.refund_before_shipping = fate == OrderStatus.REFUNDED and rng.random() < 0.3
        plan.times = _times(plan, now, rng)
        plans.append(plan)
    return sorted(plans, key=lambda plan: plan.times["placed"])


def _refund(order: Order, *, plan: Plan, staff, rng: random.Random) -> None:
    """Refunds through the two steps the gateway's refund goes through (recorded, then done)."""
    if plan.fate == OrderStatus.REFUNDED:
        refund = reserve_refund(order=order, actor=staff, in_full=True, restock=True, note=rng.choice(REFUND_NOTES))
    else:
        lines = list(order.lines.all())
        several = [line for line in lines if line.quantity > 1]
        if several or len(lines) > 1:
            line = (several or lines)[0]
            refund = reserve_refund(order=order, actor=staff, lines=[(line.pk, 1)], restock=True,
                                    note=PARTIAL_REFUND_NOTES[0])  # fmt: skip
        else:
            amount = max(order.total_minor // 5, 1)
            refund = reserve_refund(order=order, actor=staff, amount_minor=amount,
                                    note=rng.choice(PARTIAL_REFUND_NOTES[1:]))  # fmt: skip
    complete_refund(refund=refund, reference=f"demo_re_{refund.pk}")


def _backdate(order: Order, times: dict[str, datetime]) -> None:
    """Moves the order's dates, its timeline and its refunds to the plan's times. Direct updates, for the demo only:
    the services stamp the present, and history has to be in the past."""
    order.refresh_from_db()
    fields = {"created_at": times["placed"], "updated_at": max(times.values())}
    for step, name in (("paid", "paid_at"), ("shipped", "shipped_at"), ("delivered", "delivered_at"),
                       ("refunded", "refunded_at"), ("closed", "closed_at")):  # fmt: skip
        if getattr(order, name) is not None and step in times:
            fields[name] = times[step]
    if order.restocked_at is not None:
        fields["restocked_at"] = times["refunded"]
    Order.objects.filter(pk=order.pk).update(**fields)
    events = {
        OrderEventKind.PLACED: "placed",
        OrderEventKind.PAYMENT_STARTED: "payment_started",
        OrderEventKind.PAID: "paid",
        OrderEventKind.SHIPPED: "shipped",
        OrderEventKind.DELIVERED: "delivered",
        OrderEventKind.CANCELLED: "closed",
        OrderEventKind.EXPIRED: "closed",
        OrderEventKind.REFUND_REQUESTED: "refunded",
        OrderEventKind.REFUNDED: "refunded",
        OrderEventKind.RESTOCKED: "refunded",
    }
    seen: dict[str, int] = {}
    for event in OrderEvent.objects.filter(order_id=order.pk).only("pk", "kind").order_by("pk"):
        step = events.get(event.kind)
        if step in times:
            # A second apart: events of one step keep the order they were recorded in (refund asked, done, restocked).
            seen[step] = seen.get(step, -1) + 1
            OrderEvent.objects.filter(pk=event.pk).update(created_at=times[step] + timedelta(seconds=seen[step]))
    if "refunded" in times:
        Refund.objects.filter(order_id=order.pk).update(created_at=times["refunded"], completed_at=times["refunded"])


@unit_of_work
def _live(plan: Plan, *, buyer, staff, rng: random.Random) -> Order:
    """Places the planned order and takes it to its fate, all or nothing."""
    if plan.guest:
        owner = CartOwner(session=SessionBase())
    else:
        owner = CartOwner(user=buyer)
        empty_cart(owner=owner)  # only what the plan buys
    for item_id, quantity in plan.items:
        add_to_cart(owner=owner, item_id=item_id, quantity=quantity)
    order_kwargs = {"guest": owner, "guest_email": plan.email} if plan.guest else {"buyer": buyer}
    try:
        order = place_order(**order_kwargs, address=plan.address, discount_code=plan.discount_code)
    except DiscountRefused:  # e.g. a welcome code this shopper already used
        order = place_order(**order_kwargs, address=plan.address)
    actor = None if plan.guest else buyer
    if plan.fate == OrderStatus.CANCELLED:
        cancel_order(order=order, actor=actor)
    elif plan.fate == OrderStatus.EXPIRED:
        expire_order(order=order)
    elif plan.fate != OrderStatus.PENDING_PAYMENT:
        record_event(
            order=order,
            kind=OrderEventKind.PAYMENT_STARTED,
            gateway="demo",
            attempt=1,
            reference=f"demo_{order.number}",
        )  # the session id `payments.demo` gives the order's payment
        mark_order_paid(order=order, reference=f"demo_pi_{order.number}")
        if "shipped" in plan.times:
            carrier, pattern = rng.choice(CARRIERS)
            mark_shipped(order=order, carrier=carrier, tracking_number=pattern.format(rng.randrange(10**10)),
                         actor=staff)  # fmt: skip
        if "delivered" in plan.times:
            mark_delivered(order=order)
        if "refunded" in plan.times:
            _refund(order, plan=plan, staff=staff, rng=rng)
    # The buyer's emails of long ago must not go out now (see the module's docstring).
    OutboxMessage.objects.filter(topic=ORDER_EMAIL, payload__order_id=str(order.pk)).delete()
    _backdate(order, plan.times)
    return order


def load_orders_demo(
    *, orders: int = DEFAULT_ORDERS, progress: Progress = lambda message: None, seed: int = 14
) -> dict:
    """Creates the demo shoppers and, unless the demo's orders exist already, `orders` past orders over the last DAYS
    days in every status (fewer when the catalog runs short of stock). Needs the demo catalog and prices
    (`load_demo`). Returns {"shoppers", "created", "skipped", "by_status"}."""
    shoppers = ensure_demo_shoppers()
    result = {"shoppers": len(shoppers), "created": 0, "skipped": False, "by_status": {}}
    if orders <= 0:
        return result
    if demo_orders(marker=True).exists():
        result["skipped"] = True
        return result
    rng = random.Random(seed)
    # The demo shopper whose login the README gives buys too: their order history is not empty.
    main_shopper = user_by_email(email=DEMO_USERS["shopper"])
    buyers = [*shoppers, *([main_shopper] if main_shopper is not None else [])]
    by_email = {user.email: user for user in buyers}
    staff = user_by_email(email=DEMO_USERS["admin"])
    plans = _plans(orders, shoppers=buyers, now=timezone.now(), rng=rng)
    for number, plan in enumerate(plans, start=1):
        _live(plan, buyer=None if plan.guest else by_email[plan.email], staff=staff, rng=rng)
        result["by_status"][plan.fate] = result["by_status"].get(plan.fate, 0) + 1
        result["created"] += 1
        if number % 50 == 0:
            progress(f"Orders: {number}/{len(plans)}")
    return result
