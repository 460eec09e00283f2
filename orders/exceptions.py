from shop.exceptions import ShopError


class OrderError(ShopError):
    code = "order_error"


class CartEmpty(OrderError):
    code = "cart_empty"
    message = "Your cart is empty."


class CartHasProblems(OrderError):
    code = "cart_has_problems"
    message = "Some items in your cart cannot be ordered. Fix them in your cart first."


class CartChanged(OrderError):
    code = "cart_changed"
    message = "Your cart changed since you opened checkout (prices, quantities or items). Please review it."


class OutOfStock(OrderError):
    code = "out_of_stock"


class OrderNotFound(OrderError):
    code = "order_not_found"
    message = "No such order."


class IllegalTransition(OrderError):
    """The order is not in a state that allows the requested change (the API answers 409)."""

    code = "illegal_transition"


class NotAllowed(OrderError):
    code = "not_allowed"
    message = "You may not change this order."


class RefundRefused(OrderError):
    """A refund that cannot be made as asked (no lines or amount, a line of another order, more than is left);
    nothing was changed."""

    code = "refund_refused"
    message = "This refund cannot be made."
