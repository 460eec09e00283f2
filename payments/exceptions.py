from http import HTTPStatus

from shop.exceptions import ShopError


class PaymentError(ShopError):
    code = "payment_error"


class PaymentGatewayError(PaymentError):
    """The gateway failed or could not be reached (logged; the shopper sees this generic message).

    `retryable` says whether the same attempt may be tried again with the same idempotency key. `detail` is the
    provider's own words, for the log and for staff (an order's flag, the admin): never in `extra`, which clients
    see (it may name a key, an account or a card).
    """

    code = "payment_gateway_error"
    http_status = HTTPStatus.SERVICE_UNAVAILABLE
    message = "We could not reach the payment provider. Your order is saved: please try paying again in a minute."

    def __init__(self, message: str | None = None, *, retryable: bool = True, detail: str = "", **extra) -> None:
        super().__init__(message, **extra)
        self.retryable = retryable
        self.detail = detail


class OrderNotPayable(PaymentError):
    code = "order_not_payable"
    http_status = HTTPStatus.CONFLICT
    message = "This order cannot be paid any more."


class PaymentInProgress(PaymentError):
    code = "payment_in_progress"
    http_status = HTTPStatus.CONFLICT
    message = "A payment for this order is being processed; we will email you when it is confirmed."


class InvalidPaymentLink(PaymentError):
    code = "invalid_payment_link"
    message = "This payment link is invalid or has expired."


class RefundNotPossible(PaymentError):
    code = "refund_not_possible"
    http_status = HTTPStatus.CONFLICT


class RefundGatewayUnavailable(PaymentError):
    """The gateway did not answer: the refund stays under way and the worker finishes it (the API answers 503)."""

    code = "refund_gateway_unavailable"
    http_status = HTTPStatus.SERVICE_UNAVAILABLE
    client_extra = ("number",)
    message = (
        "The payment provider did not answer. The refund is recorded and will be completed automatically: "
        "do not send it again."
    )


class RefundGatewayRefused(PaymentError):
    """The gateway refused the refund: it failed and its amount went back to the order (the API answers 502)."""

    code = "refund_gateway_refused"
    http_status = HTTPStatus.BAD_GATEWAY
    client_extra = ("number",)
    message = "The payment provider refused the refund; nothing was refunded. Staff can see why on the order."
