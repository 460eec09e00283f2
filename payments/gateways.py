"""The one small gateway interface: Stripe Checkout, or the demo gateway when no Stripe key is configured.

A gateway only talks to the outside world and answers `SessionInfo`; deciding what that means for an order
is `payments.services`' job, the same for both gateways.
"""

import logging
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

import stripe
from django.conf import settings
from django.core import signing
from django.urls import reverse

from payments.exceptions import InvalidPaymentLink, PaymentGatewayError
from payments.models import Gateway, Payment, PaymentStatus

logger = logging.getLogger(__name__)

DEMO_SALT = "payments.demo-checkout"


@dataclass(frozen=True)
class CheckoutLine:
    title: str
    unit_amount: int
    quantity: int


@dataclass(frozen=True)
class CheckoutRequest:
    """Everything a gateway needs to open a checkout, built on the server from the order's own lines."""

    order_number: str
    attempt: int
    email: str
    currency: str
    lines: list[CheckoutLine]  # the goods at their unit prices, then VAT as a line of its own when added on top
    success_url: str  # ends with "session_id={CHECKOUT_SESSION_ID}"
    cancel_url: str
    expires_at: int  # unix time
    idempotency_key: str
    shipping_name: str = ""
    shipping_amount: int = 0
    discount_name: str = ""
    discount_amount: int = 0  # off the lines, never off shipping (as Stripe applies coupons)

    @property
    def amount_total(self) -> int:
        """What the shopper is asked to pay: the order's total, exactly."""
        return (
            sum(line.unit_amount * line.quantity for line in self.lines) - self.discount_amount + self.shipping_amount
        )


@dataclass(frozen=True)
class SessionInfo:
    """What a gateway says about a checkout session (a Stripe Checkout Session's fields we use)."""

    id: str
    status: str  # open | complete | expired
    payment_status: str  # paid | unpaid | no_payment_required
    amount_total: int | None
    currency: str | None
    payment_intent: str | None = None
    url: str | None = None
    order_number: str | None = None
    attempt: int | None = None

    @classmethod
    def from_stripe(cls, obj: Any) -> "SessionInfo":
        data = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
        metadata = data.get("metadata") or {}
        attempt = str(metadata.get("attempt") or "")
        payment_intent = data.get("payment_intent")
        if isinstance(payment_intent, dict):  # expanded
            payment_intent = payment_intent.get("id")
        return cls(
            id=data["id"],
            status=data.get("status") or "",
            payment_status=data.get("payment_status") or "",
            amount_total=data.get("amount_total"),
            currency=data.get("currency"),
            payment_intent=payment_intent,
            url=data.get("url"),
            order_number=metadata.get("order_number") or data.get("client_reference_id"),
            attempt=int(attempt) if attempt.isdigit() else None,
        )

    @property
    def is_paid(self) -> bool:
        # A session whose total is 0 (a 100% code, free shipping) completes as "no payment required": nothing is
        # owed, so it counts as paid (the amount check still compares 0 with the order's total).
        return self.payment_status in ("paid", "no_payment_required")


class PaymentGateway(Protocol):
    name: str

    def start_checkout(self, *, request: CheckoutRequest) -> SessionInfo: ...
    def retrieve(self, *, session_id: str) -> SessionInfo: ...
    def expire(self, *, session_id: str) -> SessionInfo: ...
    def refund(self, *, payment: Payment, amount_minor: int, idempotency_key: str) -> str: ...


def _gateway_error(action: str, exc: stripe.StripeError) -> PaymentGatewayError:
    """Stripe's error as our own, logged; retryable only when repeating the same request may succeed."""
    retryable = isinstance(exc, (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError))
    logger.warning("Stripe %s failed (%s): %s", action, type(exc).__name__, exc)
    return PaymentGatewayError(retryable=retryable, detail=f"{type(exc).__name__}: {exc}")


REFUND_KEY_METADATA = "shop_refund_key"  # a refund's idempotency key, kept by Stripe with the refund


class StripeGateway:
    """Stripe Checkout through the official library; every library error becomes a PaymentGatewayError."""

    name = Gateway.STRIPE

    def __init__(self) -> None:
        base = settings.STRIPE_API_BASE
        self.client = stripe.StripeClient(
            settings.STRIPE_SECRET_KEY,
            base_addresses={"api": base} if base else {},
            max_network_retries=getattr(settings, "STRIPE_MAX_NETWORK_RETRIES", 2),
            http_client=stripe.new_default_http_client(timeout=getattr(settings, "STRIPE_TIMEOUT_SECONDS", 20)),
        )

    def start_checkout(self, *, request: CheckoutRequest) -> SessionInfo:
        params = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": line.unit_amount,
                        "product_data": {"name": line.title},
                    },
                    "quantity": line.quantity,
                }
                for line in request.lines
            ],
            **self._shipping_and_discount(request),
            "customer_email": request.email,
            "client_reference_id": request.order_number,
            "metadata": {"order_number": request.order_number, "attempt": str(request.attempt)},
            "payment_intent_data": {"metadata": {"order_number": request.order_number}},
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "expires_at": request.expires_at,
        }
        try:
            session = self.client.v1.checkout.sessions.create(
                params=params, options={"idempotency_key": request.idempotency_key}
            )
        except stripe.StripeError as exc:
            raise _gateway_error("checkout session create", exc) from exc
        return SessionInfo.from_stripe(session)

    def _shipping_and_discount(self, request: CheckoutRequest) -> dict:
        """Shipping as a fixed shipping rate and the discount as a one-off coupon of exactly its amount, so that
        Stripe's total is the order's."""
        params: dict = {}
        currency = request.currency.lower()
        if request.shipping_name or request.shipping_amount:
            rate = {"type": "fixed_amount", "fixed_amount": {"amount": request.shipping_amount, "currency": currency}}
            params["shipping_options"] = [{"shipping_rate_data": {**rate, "display_name": request.shipping_name}}]
        if request.discount_amount:
            try:
                coupon = self.client.v1.coupons.create(
                    params={
                        "amount_off": request.discount_amount,
                        "currency": currency,
                        "duration": "once",
                        "name": request.discount_name[:40] or "Discount",
                    },
                    options={"idempotency_key": f"{request.idempotency_key}-coupon"},
                )
            except stripe.StripeError as exc:
                raise _gateway_error("coupon create", exc) from exc
            params["discounts"] = [{"coupon": coupon.id}]
        return params

    def retrieve(self, *, session_id: str) -> SessionInfo:
        try:
            return SessionInfo.from_stripe(self.client.v1.checkout.sessions.retrieve(session_id))
        except stripe.StripeError as exc:
            raise _gateway_error("checkout session retrieve", exc) from exc

    def expire(self, *, session_id: str) -> SessionInfo:
        try:
            return SessionInfo.from_stripe(self.client.v1.checkout.sessions.expire(session_id))
        except stripe.StripeError as exc:
            raise _gateway_error("checkout session expire", exc) from exc

    def refund(self, *, payment: Payment, amount_minor: int, idempotency_key: str) -> str:
        """Refunds once per `idempotency_key`, however late the retry: Stripe replays a key for 24 hours only, so the
        key also goes into the refund's metadata, and a refund already made under it is looked for first (a retry
        days after a first try whose answer was lost must not refund again)."""
        if not payment.payment_intent:
            raise PaymentGatewayError("Stripe has no payment to refund for this order.", retryable=False)
        try:
            made = self.client.v1.refunds.list(params={"payment_intent": payment.payment_intent, "limit": 100})
            for refund in made.data:
                if refund.metadata and refund.metadata.to_dict().get(REFUND_KEY_METADATA) == idempotency_key:
                    return refund.id
            refund = self.client.v1.refunds.create(
                params={
                    "payment_intent": payment.payment_intent,
                    "amount": amount_minor,
                    "metadata": {REFUND_KEY_METADATA: idempotency_key},
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _gateway_error("refund", exc) from exc
        return refund.id


class DemoGateway:
    """A local stand-in for Stripe Checkout: no money moves. Its session is our own Payment row, and its page's URL
    is a signed token (a capability, like Stripe's hosted page URL) valid for the order's payment window."""

    name = Gateway.DEMO

    def start_checkout(self, *, request: CheckoutRequest) -> SessionInfo:
        session_id = f"demo_{secrets.token_hex(12)}"
        url = reverse("payments:demo", kwargs={"token": demo_token(session_id=session_id)})
        return SessionInfo(
            id=session_id,
            status="open",
            payment_status="unpaid",
            amount_total=request.amount_total,
            currency=request.currency.lower(),
            url=url,
            order_number=request.order_number,
            attempt=request.attempt,
        )

    def retrieve(self, *, session_id: str) -> SessionInfo:
        payment = Payment.objects.filter(session_id=session_id, gateway=Gateway.DEMO).first()
        if payment is None:
            raise PaymentGatewayError("No such demo session.", retryable=False)
        status = {
            PaymentStatus.PAID: "complete",
            PaymentStatus.REFUNDED: "complete",
            PaymentStatus.EXPIRED: "expired",
            PaymentStatus.FAILED: "expired",
        }.get(payment.status, "open")
        return SessionInfo(
            id=session_id,
            status=status,
            payment_status="paid" if status == "complete" else "unpaid",
            amount_total=payment.amount_minor,
            currency=payment.currency.lower(),
            url=payment.checkout_url or None,
        )

    def pay(self, *, payment: Payment) -> SessionInfo:
        """What Stripe would report after the shopper paid: the whole amount of the attempt."""
        return SessionInfo(
            id=payment.session_id,
            status="complete",
            payment_status="paid",
            amount_total=payment.amount_minor,
            currency=payment.currency.lower(),
            payment_intent=f"demo_pi_{payment.session_id}",
        )

    def expire(self, *, session_id: str) -> SessionInfo:
        info = self.retrieve(session_id=session_id)
        if info.status != "open":
            raise PaymentGatewayError("Only open demo sessions can be expired.", retryable=False)
        return SessionInfo(
            id=session_id,
            status="expired",
            payment_status="unpaid",
            amount_total=info.amount_total,
            currency=info.currency,
        )

    def refund(self, *, payment: Payment, amount_minor: int, idempotency_key: str) -> str:
        return f"demo_re_{payment.session_id}"


def demo_token(*, session_id: str) -> str:
    """The signed capability in a demo payment page's URL."""
    return signing.TimestampSigner(salt=DEMO_SALT).sign(session_id)


def demo_session_id(*, token: str, max_age_seconds: int) -> str:
    """The session id a demo token names. Raises: InvalidPaymentLink (tampered, malformed or expired)."""
    try:
        return signing.TimestampSigner(salt=DEMO_SALT).unsign(token, max_age=max_age_seconds)
    except signing.BadSignature:  # SignatureExpired is a BadSignature too
        raise InvalidPaymentLink() from None


def gateway_named(name: str) -> PaymentGateway:
    """The gateway that handles payments of that name (a demo payment stays demo when a key appears later)."""
    if name == Gateway.DEMO:
        return DemoGateway()
    if not settings.STRIPE_SECRET_KEY:
        raise PaymentGatewayError("Stripe is not configured on this shop.", retryable=False)
    return StripeGateway()


def ensure_demo_gateway_enabled() -> None:
    """The demo gateway marks orders paid without money moving: a production shop must opt in to it.

    Raises: PaymentGatewayError when settings.PAYMENTS_DEMO_GATEWAY is off.
    """
    if not settings.PAYMENTS_DEMO_GATEWAY:
        raise PaymentGatewayError("Payments are not configured on this shop.", retryable=False)


def get_gateway() -> PaymentGateway:
    """Stripe when STRIPE_SECRET_KEY is set, else the demo gateway if it is enabled.

    Raises: PaymentGatewayError when neither is configured.
    """
    if settings.STRIPE_SECRET_KEY:
        return StripeGateway()
    ensure_demo_gateway_enabled()
    return DemoGateway()
