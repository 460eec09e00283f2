"""Helpers shared by the orders and payments tests (factories stay in tests/factories.py)."""

from cart.selectors import CartOwner
from cart.services import add_to_cart
from catalog.models import Item
from orders.models import Order
from orders.services import ShippingAddress, place_order

ADDRESS = ShippingAddress(name="Ann Buyer", line1="1 Main Street", postal_code="10115", city="Berlin", country="DE")
PARCEL = {"carrier": "DHL", "tracking_number": "00340434161094042557"}  # what mark_shipped asks for
ADDRESS_FORM = {"name": "Ann Buyer", "line1": "1 Main Street", "line2": "", "postal_code": "10115", "city": "Berlin",
                "country": "DE"}  # fmt: skip


def fill_cart(user, *lines: tuple[Item, int]) -> None:
    for item, quantity in lines:
        add_to_cart(owner=CartOwner(user=user), item_id=item.pk, quantity=quantity)


def place(user, *lines: tuple[Item, int], **kwargs) -> Order:
    """Fills the user's cart with `lines` and places the order."""
    fill_cart(user, *lines)
    return place_order(buyer=user, address=ADDRESS, **kwargs)


def stock_of(item: Item) -> int:
    item.refresh_from_db()
    return item.stock
