from cart.selectors import cart_count, owner_for


def cart(request) -> dict:
    """The navigation badge's unit count."""
    if not hasattr(request, "session"):
        return {"cart_count": 0}
    return {"cart_count": cart_count(owner=owner_for(request))}
