from django.contrib import messages

from cart.services import forget_deleted_item, merge_session_cart


def merge_cart_on_login(sender, request, user, **kwargs) -> None:
    """The anonymous cart follows the shopper into their account."""
    if request is None or not hasattr(request, "session"):
        return
    for notice in merge_session_cart(user=user, session=request.session):
        messages.warning(request, notice)


def item_deleted(sender, instance, **kwargs) -> None:
    """Deleting an item deletes the cart lines that hold it (a cascade): those carts' pages and badges change."""
    forget_deleted_item(item_id=instance.pk)
