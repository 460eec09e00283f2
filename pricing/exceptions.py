from http import HTTPStatus

from shop.exceptions import ShopError


class PricingError(ShopError):
    code = "pricing_error"


class DiscountRefused(PricingError):
    """The code cannot be used on this cart: `extra["reason"]` says why (unknown, not_started, expired, used_up,
    used_by_you, below_minimum, not_for_these_items); the message says it to the shopper."""

    code = "discount_refused"
    message = "This discount code cannot be used."
    client_extra = ("reason", "discount_code")


class ShippingUnavailable(PricingError):
    """No shipping method of the shop serves the destination, or the chosen one does not (or not at this weight)."""

    code = "shipping_unavailable"
    message = "We cannot ship this cart there."
    client_extra = ("country",)


class DiscountCodeInUse(PricingError):
    """Orders used the code (their redemptions protect it): it can be deactivated, not deleted (the API answers 409)."""

    code = "discount_code_in_use"
    message = "Orders have used this code, so it cannot be deleted; deactivate it instead (is_active false)."
    http_status = HTTPStatus.CONFLICT
    client_extra = ("discount_code",)
