"""Writes on the catalog. Stock moves only through conditional single-row updates (no transaction needed)."""

from django.db.models import F
from django.utils import timezone

from catalog.models import Item


def reserve_stock(*, item_id: object, quantity: int) -> bool:
    """Takes `quantity` units of an active item if that many are there, in one conditional update.

    Returns whether it did; stock never goes below zero, however many buyers race for the last units.
    """
    if quantity < 1:
        raise ValueError("quantity must be at least 1")
    taken = Item.objects.filter(pk=item_id, is_active=True, stock__gte=quantity).update(
        stock=F("stock") - quantity, updated_at=timezone.now()
    )
    return bool(taken)


def release_stock(*, item_id: object, quantity: int) -> None:
    """Puts `quantity` units back (an order was cancelled or a reservation undone)."""
    if quantity < 1:
        raise ValueError("quantity must be at least 1")
    Item.objects.filter(pk=item_id).update(stock=F("stock") + quantity, updated_at=timezone.now())
