"""Writes on carts. Quantities are checked against current stock; prices are never taken from a client.

Every change to a stored cart ends with `_stored_cart_changed`, which replaces the cart's version token: cached cart
pages and badges are keyed by it (`cart.selectors.cart_version`).
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone

from cart.exceptions import CartIsEmpty, InvalidQuantity, ItemUnavailable, NotEnoughStock
from cart.models import Cart, CartLine
from cart.selectors import (
    DISCOUNT_SESSION_KEY,
    ORDERED_CART_ID_KEY,
    SESSION_CART_ID_KEY,
    SESSION_KEY,
    CartOwner,
    CartSummary,
    cart_for,
    cart_version_key,
    checkout_cart_id,
    session_quantities,
    stored_lines,
    summary_of,
)
from catalog.models import Item
from catalog.selectors import items_by_ids, sellable_item
from pricing.selectors import Breakdown, price
from shop.db import TransientError, checkpoint, on_commit, unique_row, unit_of_work
from shop.fragments import replace_version_token

MAX_LINE_QUANTITY = 999


def _validate_quantity(quantity: object) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_LINE_QUANTITY:
        raise InvalidQuantity(f"Quantity must be a whole number from 1 to {MAX_LINE_QUANTITY}.")
    return quantity


def _sellable_item(item_id: object) -> Item:
    item = sellable_item(item_id=item_id)
    if item is None:
        raise ItemUnavailable()
    return item


def _check_stock(item: Item, quantity: int) -> None:
    if item.stock == 0:
        raise NotEnoughStock(f"{item.title} is out of stock.", item_id=str(item.pk), available=0)
    if quantity > item.stock:
        raise NotEnoughStock(
            f"Only {item.stock} of {item.title} left; you asked for {quantity}.",
            item_id=str(item.pk),
            available=item.stock,
        )


def _stored_cart_changed(user_id: object) -> None:
    if settings.CACHE_IS_SHARED:
        key = cart_version_key(user_id=user_id)
        on_commit(lambda: replace_version_token(key))


def forget_deleted_item(*, item_id: object) -> None:
    """An item is being deleted, and the database takes its cart lines with it: the carts that held it change."""
    user_ids = CartLine.objects.filter(item_id=item_id).values_list("cart__user_id", flat=True)
    for user_id in set(user_ids):
        _stored_cart_changed(user_id)


@dataclass(frozen=True)
class CartChange:
    quantity: int  # the line's new quantity
    # A stored cart as the unit of work left it (the caller needs no second read); None for a session cart, which
    # the session holds without its items (showing it is a query no caller of a change needs).
    cart: CartSummary | None


def _change_line(owner: CartOwner, item_id: object, new_quantity: Callable[[int], int]) -> CartChange:
    """Sets the owner's line of an active item to `new_quantity(units held now)`, checked against its stock."""
    if owner.is_stored:
        return _change_stored_line(owner.user, item_id, new_quantity)
    item = _sellable_item(item_id)
    quantities = session_quantities(session=owner.session)
    quantity = _validate_quantity(new_quantity(quantities.get(str(item.pk), 0)))
    _check_stock(item, quantity)
    quantities[str(item.pk)] = quantity
    _store_session_lines(owner.session, quantities)
    return CartChange(quantity=quantity, cart=None)


def _change_stored_line(user, item_id: object, new_quantity: Callable[[int], int]) -> CartChange:
    """The stored cart is read once, with its items: the line, its item when the cart holds it, and the answer."""
    lines = stored_lines(user=user)
    by_item = {str(line.item_id): line for line in lines}
    line = by_item.get(str(item_id))
    item = line.item if line is not None else _sellable_item(item_id)
    if not item.is_active:
        raise ItemUnavailable()
    line = by_item.get(str(item.pk))  # the id as sent may be spelled otherwise
    quantity = _validate_quantity(new_quantity(line.quantity if line is not None else 0))
    _check_stock(item, quantity)
    if line is not None:
        CartLine.objects.filter(pk=line.pk).update(quantity=quantity)
        line.quantity = quantity
    else:
        cart = lines[0].cart if lines else unique_row(Cart.objects.filter(user_id=user.pk).only("pk", "discount_code"))
        try:
            if cart is None:
                cart = Cart.objects.create(user_id=user.pk)
                checkpoint("add_to_cart.cart_created")
            lines.append(CartLine.objects.create(cart=cart, item=item, quantity=quantity))
        except IntegrityError as error:  # the same cart or line created meanwhile: run the unit again
            raise TransientError("cart line created meanwhile") from error
    _stored_cart_changed(user.pk)
    return CartChange(quantity=quantity, cart=summary_of(lines))


@unit_of_work
def add_to_cart(*, owner: CartOwner, item_id: object, quantity: object = 1) -> CartChange:
    """Adds units of an active item; the line never exceeds stock. Returns the line's new quantity and the cart.

    Raises: InvalidQuantity, ItemUnavailable, NotEnoughStock (the cart is then unchanged).
    """
    quantity = _validate_quantity(quantity)
    return _change_line(owner, item_id, lambda held: held + quantity)


@unit_of_work
def set_quantity(*, owner: CartOwner, item_id: object, quantity: object) -> CartChange:
    """Sets a line's quantity (1..stock); the item must already be in the cart. Returns it and the cart.

    Raises: InvalidQuantity, ItemUnavailable, NotEnoughStock (the cart is then unchanged).
    """
    quantity = _validate_quantity(quantity)

    def held_already(held: int) -> int:
        if not held:
            raise ItemUnavailable("That item is not in your cart.")
        return quantity

    return _change_line(owner, item_id, held_already)


@unit_of_work
def remove_from_cart(*, owner: CartOwner, item_id: object) -> bool:
    """Removes the item's line, whatever the item's state now. Returns whether there was one."""
    key = str(item_id)
    if owner.is_stored:
        # Compared as strings, so that a malformed id simply matches nothing on either backend.
        lines = CartLine.objects.filter(cart__user_id=owner.user.pk).values_list("pk", "item_id")
        line_ids = [pk for pk, item_pk in lines if str(item_pk) == key]
        removed = bool(line_ids) and CartLine.objects.filter(pk__in=line_ids).delete()[0] > 0
        if removed:
            _stored_cart_changed(owner.user.pk)
        return removed
    quantities = session_quantities(session=owner.session)
    removed = quantities.pop(key, None) is not None
    _store_session_lines(owner.session, quantities)
    return removed


def claim_cart(*, user) -> None:
    """The first write of a checkout's unit of work: touches the user's cart row, so that two checkouts of one cart
    running at once conflict here (SQLite: one waits for the other; MongoDB: one transaction aborts and is retried)
    and the second then finds the cart empty."""
    Cart.objects.filter(user_id=user.pk).update(updated_at=timezone.now())


@unit_of_work
def empty_cart(*, owner: CartOwner, read: CartSummary | None = None, ordered: bool = False) -> None:
    """Removes every line of the owner's cart, and its discount code. `read`: the stored cart as the caller's unit
    of work read it (`cart.selectors.cart_for`), whose lines are then removed without reading them again. `ordered`:
    the cart became an order; a session cart's id is kept as the one ordered (`cart.selectors.checkout_cart_id`)."""
    if owner.is_stored:
        if read is not None:
            line_ids, discount_code = [line.line_id for line in read.lines], read.discount_code
        else:
            rows = list(CartLine.objects.filter(cart__user_id=owner.user.pk).values_list("pk", "cart__discount_code"))
            line_ids, discount_code = [pk for pk, _ in rows], rows[0][1] if rows else ""  # the cart's, on every line
        if line_ids:
            CartLine.objects.filter(pk__in=line_ids).delete()
            if discount_code:
                Cart.objects.filter(user_id=owner.user.pk).update(discount_code="")
            _stored_cart_changed(owner.user.pk)
    else:
        cart_id = checkout_cart_id(session=owner.session) if ordered else None  # ordered again: a second press
        _forget_session_cart(owner.session)
        if cart_id:
            owner.session[ORDERED_CART_ID_KEY] = cart_id


def _store_session_lines(session, quantities: dict[str, int]) -> None:
    """Writes a session cart's lines. A cart that gets its first line gets an id of its own (a secret of the session:
    `cart.selectors.session_cart_id`), which it keeps until it is emptied."""
    if not quantities:
        _forget_session_cart(session)
        return
    session[SESSION_KEY] = quantities
    if not session.get(SESSION_CART_ID_KEY):
        session[SESSION_CART_ID_KEY] = secrets.token_urlsafe(24)


def _forget_session_cart(session) -> None:
    for key in (SESSION_KEY, DISCOUNT_SESSION_KEY, SESSION_CART_ID_KEY, ORDERED_CART_ID_KEY):
        session.pop(key, None)


@unit_of_work
def merge_session_cart(*, user, session) -> list[str]:
    """Moves the session cart into the user's stored cart at login, all lines or none: quantities add up, capped at
    stock; inactive or vanished items are dropped. Returns a notice per capped or dropped line."""
    quantities = session_quantities(session=session)
    if not quantities:
        return []
    notices = []
    items = items_by_ids(ids=list(quantities))
    cart, _ = Cart.objects.get_or_create(user_id=user.pk)
    stored = {str(line.item_id): line for line in CartLine.objects.filter(cart=cart)}
    for pk, quantity in quantities.items():
        item = items.get(pk)
        if item is None or not item.is_active or item.stock == 0:
            title = item.title if item else "An item"
            notices.append(f"{title} is no longer available and was not added to your cart.")
            continue
        existing = stored[pk].quantity if pk in stored else 0
        wanted = existing + quantity
        merged = min(wanted, item.stock, MAX_LINE_QUANTITY)
        if merged < wanted and merged == item.stock:
            notices.append(f"Only {item.stock} of {item.title} available: your cart now holds {merged}.")
        elif merged < wanted:
            limit = f"At most {MAX_LINE_QUANTITY} of an item per order"
            notices.append(f"{limit}: your cart now holds {merged} of {item.title}.")
        if pk in stored:
            CartLine.objects.filter(pk=stored[pk].pk).update(quantity=merged)
        else:
            CartLine.objects.create(cart=cart, item=item, quantity=merged)
        checkpoint("merge_session_cart.line_stored")
    code = session.get(DISCOUNT_SESSION_KEY)
    if isinstance(code, str) and code and not cart.discount_code:
        Cart.objects.filter(pk=cart.pk).update(discount_code=code)
    _stored_cart_changed(user.pk)
    # The session is written after the response, whatever happens here: it is emptied only when the unit commits.
    on_commit(lambda: _forget_session_cart(session))
    return notices


@unit_of_work
def apply_discount(*, owner: CartOwner, code: str) -> Breakdown:
    """Applies a discount code to the owner's cart if it can be used on it now; returns the cart's new breakdown.
    Raises: CartIsEmpty, DiscountRefused (unknown, expired, used up, below its minimum, not for these items)."""
    cart = cart_for(owner=owner)
    if cart.is_empty:
        raise CartIsEmpty()
    email = owner.user.email if owner.is_stored else ""
    breakdown = price(lines=[line for line in cart.lines if line.item.is_active], code=code, email=email)
    _store_code(owner, breakdown.discount_code)
    return breakdown


@unit_of_work
def remove_discount(*, owner: CartOwner) -> None:
    _store_code(owner, "")


def _store_code(owner: CartOwner, code: str) -> None:
    if owner.is_stored:
        Cart.objects.update_or_create(user_id=owner.user.pk, defaults={"discount_code": code})
        _stored_cart_changed(owner.user.pk)
    elif code:
        owner.session[DISCOUNT_SESSION_KEY] = code
    else:
        owner.session.pop(DISCOUNT_SESSION_KEY, None)
