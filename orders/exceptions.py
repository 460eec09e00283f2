from http import HTTPStatus

from shop.exceptions import ShopError


class OrderError(ShopError):
    code = "order_error"


class CartEmpty(OrderError):
    code = "cart_empty"
    message = "Your cart is empty."
    http_status = HTTPStatus.CONFLICT


class CartHasProblems(OrderError):
    code = "cart_has_problems"
    message = "Some items in your cart cannot be ordered. Fix them in your cart first."
    http_status = HTTPStatus.CONFLICT
    client_extra = ("items",)


class CartChanged(OrderError):
    code = "cart_changed"
    message = "Your cart changed since you opened checkout (prices, quantities or items). Please review it."
    http_status = HTTPStatus.CONFLICT


class IdempotencyKeyReused(OrderError):
    """An Idempotency-Key sent again with another request: the first request's order stands, this one is refused."""

    code = "idempotency_key_reused"
    message = "This Idempotency-Key was used for another request: send that request again, or use a new key."
    http_status = HTTPStatus.CONFLICT
    client_extra = ("order_id",)  # the first request's order


class OutOfStock(OrderError):
    code = "out_of_stock"
    http_status = HTTPStatus.CONFLICT
    client_extra = ("item_id", "title", "requested", "items")


class OrderNotFound(OrderError):
    code = "order_not_found"
    message = "No such order."
    http_status = HTTPStatus.NOT_FOUND


class IllegalTransition(OrderError):
    """The order is not in a state that allows the requested change (the API answers 409)."""

    code = "illegal_transition"
    http_status = HTTPStatus.CONFLICT
    client_extra = ("number", "status", "requested")


class NotAllowed(OrderError):
    code = "not_allowed"
    message = "You may not change this order."
    http_status = HTTPStatus.FORBIDDEN


class RefundRefused(OrderError):
    """A refund that cannot be made as asked (no lines or amount, a line of another order, more than is left);
    nothing was changed."""

    code = "refund_refused"
    message = "This refund cannot be made."
    client_extra = ("amount", "left", "line")
