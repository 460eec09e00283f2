"""Reads on carts. A cart belongs to a signed-in user (stored) or to a browser session (anonymous)."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db.models import Sum

from cart.models import CartLine
from catalog.models import Item
from catalog.selectors import items_by_ids
from pricing.exceptions import DiscountRefused
from pricing.selectors import Breakdown, price
from shop.fragments import version_token

SESSION_KEY = "cart"
DISCOUNT_SESSION_KEY = "cart_discount"
SESSION_CART_ID_KEY = "cart_id"
ORDERED_CART_ID_KEY = "ordered_cart_id"  # the id of the session cart last ordered (`checkout_cart_id`)

PROBLEM_MESSAGES = {
    "inactive": "This item is no longer sold. Remove it to check out.",
    "out_of_stock": "This item is out of stock. Remove it to check out.",
    "short": "Only {stock} left. Lower the quantity to check out.",
}


@dataclass(frozen=True)
class CartOwner:
    """Whose cart: a signed-in user's stored cart, else the session's."""

    user: object | None = None
    session: SessionBase | None = None

    @property
    def is_stored(self) -> bool:
        return self.user is not None and self.user.is_authenticated


@dataclass(frozen=True)
class CartLineView:
    item: Item
    quantity: int
    line_id: object = None  # the stored line's primary key (None in a session cart)

    @property
    def unit_price_minor(self) -> int:
        return self.item.price_minor

    @property
    def line_total_minor(self) -> int:
        return self.item.price_minor * self.quantity

    @property
    def problem(self) -> str | None:
        """None when the line can be checked out, else 'inactive', 'out_of_stock' or 'short'."""
        if not self.item.is_active:
            return "inactive"
        if self.item.stock == 0:
            return "out_of_stock"
        if self.quantity > self.item.stock:
            return "short"
        return None

    @property
    def problem_message(self) -> str:
        return PROBLEM_MESSAGES[self.problem].format(stock=self.item.stock) if self.problem else ""


@dataclass(frozen=True)
class CartSummary:
    lines: list[CartLineView]
    discount_code: str = ""  # the code the shopper applied (checked again whenever the cart is priced)

    @property
    def total_minor(self) -> int:
        return sum(line.line_total_minor for line in self.lines if line.item.is_active)

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def has_problems(self) -> bool:
        return any(line.problem for line in self.lines)


def owner_for(request) -> CartOwner:
    """The cart owner behind a request."""
    return CartOwner(user=request.user, session=request.session)


def session_cart_id(*, session: SessionBase) -> str | None:
    """The id of a session cart with lines: random, kept in the session only (never in a page), new for each cart
    filled after one was emptied or ordered. None for an empty cart."""
    cart_id = session.get(SESSION_CART_ID_KEY)
    return cart_id if isinstance(cart_id, str) and cart_id and session_quantities(session=session) else None


def checkout_cart_id(*, session: SessionBase) -> str | None:
    """What names a guest's checkout: the session cart's id, or once that cart was ordered (and so emptied) its id
    still, so that Place order pressed again while the first press is answered finds that order."""
    cart_id = session_cart_id(session=session) or session.get(ORDERED_CART_ID_KEY)
    return cart_id if isinstance(cart_id, str) and cart_id else None


def session_quantities(*, session: SessionBase) -> dict[str, int]:
    """The anonymous cart as {item id: quantity}, ignoring anything malformed in the session."""
    raw = session.get(SESSION_KEY) or {}
    if not isinstance(raw, dict):
        return {}
    return {str(pk): qty for pk, qty in raw.items() if isinstance(qty, int) and qty > 0}


def stored_lines(*, user) -> list[CartLine]:
    """A signed-in user's stored cart lines, oldest first, with their items, the items' categories and the cart: one
    query however many lines."""
    return list(
        CartLine.objects.filter(cart__user_id=user.pk).select_related("item__category", "cart").order_by("added_at")
    )


def summary_of(lines: list[CartLine]) -> CartSummary:
    """The cart that `stored_lines` read (or a unit of work that wrote them holds)."""
    return CartSummary(
        lines=[CartLineView(item=line.item, quantity=line.quantity, line_id=line.pk) for line in lines],
        discount_code=lines[0].cart.discount_code if lines else "",
    )


def cart_for_user(*, user) -> CartSummary:
    """A signed-in user's stored cart, with current prices and stock, in one query however many lines."""
    return summary_of(stored_lines(user=user))


def cart_for_session(*, session: SessionBase) -> CartSummary:
    """An anonymous cart, with current prices and stock; items that no longer exist are left out."""
    quantities = session_quantities(session=session)
    if not quantities:
        return CartSummary(lines=[])
    items = items_by_ids(ids=list(quantities))
    code = session.get(DISCOUNT_SESSION_KEY)
    return CartSummary(
        lines=[CartLineView(item=items[pk], quantity=qty) for pk, qty in quantities.items() if pk in items],
        discount_code=code if isinstance(code, str) else "",
    )


def cart_for(*, owner: CartOwner) -> CartSummary:
    """The owner's cart."""
    if owner.is_stored:
        return cart_for_user(user=owner.user)
    return cart_for_session(session=owner.session)


def cart_version_key(*, user_id: object) -> str:
    """Where the version token of a user's stored cart lives in the cache (see `shop.fragments`)."""
    return f"cart:version:{user_id}"


def cart_version(*, owner: CartOwner) -> str | None:
    """A value that changes whenever the owner's cart lines change, read without a query; None when a stored cart
    has no token to offer (`settings.CACHE_IS_SHARED` off, or the cache not answering). It says nothing about the
    items' prices or stock: pair it with `catalog.selectors.catalog_version()` for what a page shows."""
    if owner.is_stored:
        return version_token(cart_version_key(user_id=owner.user.pk)) if settings.CACHE_IS_SHARED else None
    return repr((sorted(session_quantities(session=owner.session).items()), owner.session.get(DISCOUNT_SESSION_KEY)))


def cart_count(*, owner: CartOwner) -> int:
    """How many units the cart holds, for the navigation badge: no query for a session cart, one for a stored one."""
    if not owner.is_stored:
        return sum(session_quantities(session=owner.session).values())
    return CartLine.objects.filter(cart__user_id=owner.user.pk).aggregate(n=Sum("quantity"))["n"] or 0


def cart_breakdown(*, cart: CartSummary, country: str | None = None) -> tuple[Breakdown, str]:
    """The cart's price breakdown (`pricing.selectors.price`) with its code and the cheapest shipping to `country`
    (the shop's own until the shopper names one), and why its code no longer applies ("" when it does): the cart
    is then priced without it."""
    lines = [line for line in cart.lines if line.item.is_active]
    try:
        return price(lines=lines, country=country, code=cart.discount_code), ""
    except DiscountRefused as refusal:
        return price(lines=lines, country=country), refusal.message


def personal_cart(*, user) -> dict:
    """The user's stored cart as JSON-ready data for the GDPR export."""
    cart = cart_for_user(user=user)
    return {
        "discount_code": cart.discount_code,
        "lines": [
            {
                "sku": line.item.sku,
                "title": line.item.title,
                "quantity": line.quantity,
                "unit_price_minor": line.unit_price_minor,
            }
            for line in cart.lines
        ],
    }
