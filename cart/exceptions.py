from shop.exceptions import ShopError


class CartError(ShopError):
    code = "cart_error"


class ItemUnavailable(CartError):
    code = "item_unavailable"
    message = "That item is not available."


class NotEnoughStock(CartError):
    code = "not_enough_stock"


class InvalidQuantity(CartError):
    code = "invalid_quantity"
    message = "Quantity must be a whole number of at least 1."


class CartIsEmpty(CartError):
    code = "cart_empty"
    message = "Your cart is empty: add something before applying a discount code."
