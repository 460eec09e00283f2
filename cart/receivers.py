from django.contrib import messages

from cart.selectors import CartOwner, personal_cart
from cart.services import empty_cart, forget_deleted_item, merge_session_cart


def merge_cart_on_login(sender, request, user, **kwargs) -> None:
    """The anonymous cart follows the shopper into their account."""
    if request is None or not hasattr(request, "session"):
        return
    for notice in merge_session_cart(user=user, session=request.session):
        messages.warning(request, notice)


def item_deleted(sender, instance, **kwargs) -> None:
    """Deleting an item deletes the cart lines that hold it (a cascade): those carts' pages and badges change."""
    forget_deleted_item(item_id=instance.pk)


def export_cart(sender, user, **kwargs) -> dict:
    """The user's cart for `accounts.selectors.export_personal_data` (GDPR)."""
    return {"cart": personal_cart(user=user)}


def empty_cart_of_erased_person(sender, user, **kwargs) -> None:
    """An erased user's stored cart is emptied (GDPR)."""
    empty_cart(owner=CartOwner(user=user))
