from django.contrib import messages

from cart.services import merge_session_cart


def merge_cart_on_login(sender, request, user, **kwargs) -> None:
    """The anonymous cart follows the shopper into their account."""
    if request is None or not hasattr(request, "session"):
        return
    for notice in merge_session_cart(user=user, session=request.session):
        messages.warning(request, notice)
