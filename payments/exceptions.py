from shop.exceptions import ShopError


class PaymentError(ShopError):
    code = "payment_error"


class PaymentGatewayError(PaymentError):
    """The gateway failed or could not be reached (logged; the shopper sees this generic message).

    `retryable` says whether the same attempt may be tried again with the same idempotency key.
    """

    code = "payment_gateway_error"
    message = "We could not reach the payment provider. Your order is saved: please try paying again in a minute."

    def __init__(self, message: str | None = None, *, retryable: bool = True, **extra) -> None:
        super().__init__(message, **extra)
        self.retryable = retryable


class OrderNotPayable(PaymentError):
    code = "order_not_payable"
    message = "This order cannot be paid any more."


class PaymentInProgress(PaymentError):
    code = "payment_in_progress"
    message = "A payment for this order is being processed; we will email you when it is confirmed."


class InvalidPaymentLink(PaymentError):
    code = "invalid_payment_link"
    message = "This payment link is invalid or has expired."


class RefundNotPossible(PaymentError):
    code = "refund_not_possible"
