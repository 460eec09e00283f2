from http import HTTPStatus

from shop.exceptions import ShopError


class CartError(ShopError):
    code = "cart_error"


class ItemUnavailable(CartError):
    code = "item_unavailable"
    message = "That item is not available."
    http_status = HTTPStatus.NOT_FOUND


class NotEnoughStock(CartError):
    code = "not_enough_stock"
    http_status = HTTPStatus.CONFLICT
    client_extra = ("item_id", "available")


class InvalidQuantity(CartError):
    code = "invalid_quantity"
    message = "Quantity must be a whole number of at least 1."


class CartIsEmpty(CartError):
    code = "cart_empty"
    message = "Your cart is empty: add something before applying a discount code."
    http_status = HTTPStatus.CONFLICT
