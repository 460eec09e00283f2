"""Writes on payments: opening checkouts, fulfilling paid sessions (webhook, success page and demo page alike),
handling expiry and refunds.

Fulfilment is idempotent and order-independent: the webhook may come before or after the shopper's redirect,
twice, or out of order, and each path calls `fulfil_checkout_session`: one unit of work (`shop.db`) whose conditional
updates let exactly one caller win (`orders.services.mark_order_paid`). A webhook event is recorded in the same unit
as its effect, so a crash leaves it unrecorded and Stripe's retry processes it. Gateway calls never run inside a
transaction: the ones that can wait (expiring the sessions of a cancelled order, refunding a payment that arrived
after the order closed) go through the outbox (`shop.outbox`) and are retried until the gateway answers.
"""

import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urljoin

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from audit.services import record_change
from orders.exceptions import IllegalTransition
from orders.models import Order, OrderEventKind, OrderStatus, Refund, RefundStatus
from orders.selectors import is_payable, order_by_number, order_lines, payment_deadline, stale_pending_orders
from orders.services import (
    REFUNDABLE,
    complete_refund,
    expire_order,
    fail_refund,
    flag_order,
    mark_order_paid,
    mark_refunded,
    record_event,
    record_late_payment_refunded,
    reserve_refund,
    restock_refunded_order,
)
from payments.exceptions import OrderNotPayable, PaymentGatewayError, PaymentInProgress, RefundNotPossible
from payments.gateways import (
    CheckoutLine,
    CheckoutRequest,
    DemoGateway,
    SessionInfo,
    ensure_demo_gateway_enabled,
    gateway_named,
    get_gateway,
)
from payments.models import Gateway, Payment, PaymentEvent, PaymentStatus
from payments.selectors import PLACEHOLDER_PREFIX, latest_payment, paid_payment, payment_by_session
from shop.db import checkpoint, unit_of_work
from shop.outbox import enqueue, handler

logger = logging.getLogger(__name__)

# Stripe refuses a Checkout Session that expires sooner than 30 minutes after creation; one more for clock skew.
MIN_SESSION_LIFETIME = timedelta(minutes=31)
UNFINISHED = (PaymentStatus.CREATING, PaymentStatus.OPEN)
# What an attempt may be when its session is paid in full (a late or replayed answer may find it failed or expired).
PAYABLE_STATUSES = (*UNFINISHED, PaymentStatus.PROCESSING, PaymentStatus.FAILED, PaymentStatus.EXPIRED)
# Orders some attempt has paid.
PAID_ORDER = (
    OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED
)  # fmt: skip


def _set_status(payment: Payment, *, to: str, sources, **fields) -> bool:
    """Moves the attempt to `to` if it is in one of `sources`, in one conditional update. Returns whether it did."""
    changed = Payment.objects.filter(pk=payment.pk, status__in=list(sources)).update(
        status=to, updated_at=timezone.now(), **fields
    )
    before = {"status": payment.status, **{name: getattr(payment, name) for name in fields}}
    payment.refresh_from_db()
    if changed:  # on the audit trail when staff caused it (a refund from the admin); a signal-less update
        record_change(action="update", model=Payment, object_id=payment.pk, object_repr=str(payment), before=before,
                      after={"status": to, **fields})  # fmt: skip
    return bool(changed)


# -- opening a checkout ----------------------------------------------------------------------------------------


def _new_attempt(*, order, gateway_name: str) -> Payment:
    """Inserts the next attempt; a twin request that inserted the same attempt first gets that row instead."""
    latest = latest_payment(order=order)
    attempt = latest.attempt + 1 if latest else 1
    payment = Payment(
        order=order,
        gateway=gateway_name,
        attempt=attempt,
        session_id=f"{PLACEHOLDER_PREFIX}{secrets.token_urlsafe(18)}",  # unguessable, like a gateway's id
        amount_minor=order.total_minor,
        currency=order.currency,
    )
    try:
        with transaction.atomic():  # a savepoint on SQLite; MongoDB's unique index decides alone
            payment.save(force_insert=True)
    except IntegrityError:
        return Payment.objects.get(order_id=order.pk, attempt=attempt)
    return payment


def _checkout_request(*, order, payment: Payment, site_url: str) -> CheckoutRequest:
    success = urljoin(site_url, reverse("payments:success")) + "?session_id={CHECKOUT_SESSION_ID}"
    cancel = urljoin(site_url, reverse("orders:detail", kwargs={"number": order.number})) + "?payment=cancelled"
    # Derived from stored values only, so a retry of this attempt sends identical parameters under the same
    # idempotency key (Stripe refuses a reused key with different parameters).
    expires_at = max(payment_deadline(order=order), payment.created_at + MIN_SESSION_LIFETIME)
    return CheckoutRequest(
        order_number=order.number,
        attempt=payment.attempt,
        email=order.email,
        currency=order.currency,
        lines=_checkout_lines(order),
        success_url=success,
        cancel_url=cancel,
        expires_at=int(expires_at.timestamp()),
        idempotency_key=f"order-{order.number}-checkout-{payment.attempt}",
        shipping_name=order.shipping_method,
        shipping_amount=order.shipping_minor,
        discount_name=order.discount_code,
        discount_amount=order.discount_minor,
    )


def _checkout_lines(order) -> list[CheckoutLine]:
    """The order's frozen breakdown as a gateway's lines: the goods at their unit prices (VAT included when prices
    include it), and VAT as a line of its own when it is added on top."""
    lines = [
        CheckoutLine(title=line.title, unit_amount=line.unit_price_minor, quantity=line.quantity)
        for line in order_lines(order=order)
    ]
    if not order.prices_include_tax and order.tax_minor:
        lines.append(CheckoutLine(title="VAT", unit_amount=order.tax_minor, quantity=1))
    return lines


def start_payment(*, order, site_url: str) -> Payment:
    """The attempt whose `checkout_url` the shopper should go to: the open one if it is still open, else a new one.

    `site_url` is the shop's absolute base URL (for the gateway's return links). Safe to repeat and to race: one
    attempt per idempotency key, so a double click opens one session.

    Raises: OrderNotPayable, PaymentInProgress, PaymentGatewayError (the order stays payable).
    """
    if not is_payable(order=order):
        raise OrderNotPayable(f"Order {order.number} is {order.get_status_display().lower()} and cannot be paid.")
    gateway = get_gateway()
    payment = latest_payment(order=order)
    if payment is not None and payment.status == PaymentStatus.PROCESSING:
        raise PaymentInProgress()
    if payment is not None and payment.status == PaymentStatus.OPEN and payment.gateway == gateway.name:
        session = gateway.retrieve(session_id=payment.session_id)
        if session.status == "open":
            return payment
        fulfil_checkout_session(session=session)
        order.refresh_from_db()
        if not is_payable(order=order):
            raise OrderNotPayable(f"Order {order.number} is {order.get_status_display().lower()}.")
        payment.refresh_from_db(fields=["status"])
        if payment.status == PaymentStatus.PROCESSING:  # completed, its money on the way: no second session
            raise PaymentInProgress()
        payment = None
    if payment is None or payment.status != PaymentStatus.CREATING or payment.gateway != gateway.name:
        payment = _new_attempt(order=order, gateway_name=gateway.name)
        if payment.status != PaymentStatus.CREATING:
            return payment  # a twin request finished it
    try:
        session = gateway.start_checkout(request=_checkout_request(order=order, payment=payment, site_url=site_url))
    except PaymentGatewayError as err:
        fields = {"last_error": f"{err.extra.get('gateway_error', '')}: {err.extra.get('detail', err.message)}"}
        if err.retryable:
            Payment.objects.filter(pk=payment.pk).update(updated_at=timezone.now(), **fields)
        else:  # e.g. an idempotency error: the next try opens a fresh attempt with a fresh key
            _set_status(payment, to=PaymentStatus.FAILED, sources=[PaymentStatus.CREATING], **fields)
        raise
    opened = _record_opened(payment, session_id=session.id, checkout_url=urljoin(site_url, session.url or ""))
    order.refresh_from_db()
    if not opened or not is_payable(order=order):
        # The order was cancelled or expired while the gateway opened the session: nobody may pay it.
        _expire_later(payment)
        raise OrderNotPayable(f"Order {order.number} is {order.get_status_display().lower()} and cannot be paid.")
    return payment


@unit_of_work
def _record_opened(payment: Payment, *, session_id: str, checkout_url: str) -> bool:
    """The gateway opened the attempt's session: the attempt is open and the order's timeline says payment started,
    together. Returns whether this call opened it (a twin request may have)."""
    opened = _set_status(payment, to=PaymentStatus.OPEN, sources=[PaymentStatus.CREATING], session_id=session_id,
                         checkout_url=checkout_url, last_error="")  # fmt: skip
    if opened:
        record_event(order=payment.order, kind=OrderEventKind.PAYMENT_STARTED, gateway=payment.gateway,
                     attempt=payment.attempt, reference=session_id)  # fmt: skip
    return opened


# -- fulfilment ------------------------------------------------------------------------------------------------


def _payment_for_session(session: SessionInfo) -> Payment | None:
    """Our attempt behind a session; also finds one whose row never learnt its session id (a lost response)."""
    payment = payment_by_session(session_id=session.id)
    if payment is not None or not session.order_number or not session.attempt:
        return payment
    order = order_by_number(number=session.order_number)
    if order is None:
        return None
    Payment.objects.filter(order_id=order.pk, attempt=session.attempt, status=PaymentStatus.CREATING).update(
        session_id=session.id, status=PaymentStatus.OPEN, updated_at=timezone.now()
    )
    return payment_by_session(session_id=session.id)


@unit_of_work
def fulfil_checkout_session(*, session: SessionInfo) -> str:
    """Brings our records in line with what the gateway says about a session, and returns what happened.

    One unit of work. Paid in full: the attempt and the order become paid (once; the buyer gets one email). Paid a
    different amount or currency: nothing is fulfilled and the order is flagged for staff. Paid after the order was
    cancelled or expired: the money is refunded through the outbox and the order flagged. Expired: the attempt
    expires, and so does the order when it was its latest attempt (its stock is released). Completed but unpaid (an
    asynchronous method): the attempt is processing.
    Paid when another attempt had paid the order already: that money is refunded through the outbox and the order
    flagged.
    Outcomes: paid, already_paid, amount_mismatch, paid_twice, paid_closed_order, processing, expired, open,
    unknown_session.
    """
    payment = _payment_for_session(session)
    if payment is None:
        logger.warning("Checkout session %s (order %s) is not ours; ignored", session.id, session.order_number)
        return "unknown_session"
    order = payment.order
    if session.status == "expired":
        return _session_expired(payment=payment, order=order)
    if not session.is_paid:
        if session.status == "complete":
            _set_status(payment, to=PaymentStatus.PROCESSING, sources=UNFINISHED)
            return "processing"
        return "open"

    intent = session.payment_intent or ""
    if session.amount_total != order.total_minor or (session.currency or "").lower() != order.currency.lower():
        if _set_status(
            payment, to=PaymentStatus.MISMATCH, sources=[*UNFINISHED, PaymentStatus.PROCESSING], payment_intent=intent
        ):
            flag_order(
                order=order,
                reason=f"Session {session.id} was paid {session.amount_total} {session.currency} but the order is "
                f"{order.total_minor} {order.currency.lower()}: not fulfilled; check and refund.",
            )
        return "amount_mismatch"

    if order.status in PAID_ORDER and payment.status != PaymentStatus.PAID:
        # Another attempt paid the order first (e.g. a bank debit that cleared after the shopper paid by card): this
        # money is not the order's and goes back, as a payment of a closed order does.
        if _set_status(payment, to=PaymentStatus.DUPLICATE, sources=PAYABLE_STATUSES, payment_intent=intent):
            checkpoint("fulfil.paid_twice_marked")
            flag_order(
                order=order,
                reason=f"Session {session.id} paid the order a second time: that payment is refunded automatically.",
            )
            enqueue(REFUND_LATE_PAYMENT, payment_id=str(payment.pk))
        return "paid_twice"

    newly_paid = _set_status(payment, to=PaymentStatus.PAID, sources=PAYABLE_STATUSES, payment_intent=intent)
    checkpoint("fulfil.payment_marked")
    was_paid = order.status != OrderStatus.PENDING_PAYMENT
    try:
        mark_order_paid(order=order, reference=intent or session.id)
    except IllegalTransition:
        if newly_paid:
            flag_order(
                order=order,
                reason=f"Session {session.id} was paid after the order was {order.get_status_display().lower()}: "
                "the payment is refunded automatically.",
            )
            enqueue(REFUND_LATE_PAYMENT, payment_id=str(payment.pk))
        return "paid_closed_order"
    return "already_paid" if was_paid and not newly_paid else "paid"


def _session_expired(*, payment: Payment, order) -> str:
    _set_status(payment, to=PaymentStatus.EXPIRED, sources=UNFINISHED)
    latest = latest_payment(order=order)
    if latest is not None and latest.pk == payment.pk and order.status == OrderStatus.PENDING_PAYMENT:
        # Paid or cancelled meanwhile: that change won, and it owns the stock.
        with contextlib.suppress(IllegalTransition):
            expire_order(order=order)
    return "expired"


def record_failed_payment(*, session: SessionInfo) -> str:
    """An asynchronous payment failed: the attempt fails and the order stays payable (pay again)."""
    payment = _payment_for_session(session)
    if payment is None:
        logger.warning("Failed payment for unknown session %s; ignored", session.id)
        return "unknown_session"
    _set_status(payment, to=PaymentStatus.FAILED, sources=[*UNFINISHED, PaymentStatus.PROCESSING])
    return "payment_failed"


def confirm_checkout_session(*, session_id: str) -> tuple[Payment | None, str]:
    """The success page: asks the gateway about the session (never trusting the URL) and fulfils accordingly.

    Returns (attempt or None when the id is not ours, outcome). Raises: PaymentGatewayError.
    """
    payment = payment_by_session(session_id=session_id)
    if payment is None:
        return None, "unknown_session"
    outcome = fulfil_checkout_session(session=gateway_named(payment.gateway).retrieve(session_id=session_id))
    payment.refresh_from_db()
    return payment, outcome


def confirm_returned_payment(*, payment: Payment) -> str:
    """The success page, for a visitor who may see the order: asks the gateway once about an attempt that is still
    open or processing and fulfils accordingly; a settled attempt is reported as stored, with no gateway call.

    Returns the outcome ("settled" when nothing was asked). Raises: PaymentGatewayError.
    """
    if payment.status not in (PaymentStatus.OPEN, PaymentStatus.PROCESSING):
        return "settled"
    outcome = fulfil_checkout_session(session=gateway_named(payment.gateway).retrieve(session_id=payment.session_id))
    payment.refresh_from_db()
    return outcome


@unit_of_work
def pay_demo_session(*, session_id: str) -> tuple[Payment, str]:
    """The demo page's Pay button: plays Stripe's part, then runs the same fulfilment as the webhook, in one unit.

    Only an open attempt of a payable order can be paid (a second click finds it paid and changes nothing).
    Raises: OrderNotPayable (not a demo session, not open, or the order no longer payable), PaymentGatewayError
    (demo gateway off).
    """
    ensure_demo_gateway_enabled()
    payment = payment_by_session(session_id=session_id)
    if payment is None or payment.gateway != Gateway.DEMO:
        raise OrderNotPayable("No such demo payment.")
    if payment.status == PaymentStatus.PAID:
        return payment, "already_paid"
    # Claims the open attempt first: a cancel or expiry that closes it at the same time conflicts with this write.
    claimed = Payment.objects.filter(pk=payment.pk, status=PaymentStatus.OPEN).update(updated_at=timezone.now())
    if not claimed or not is_payable(order=payment.order):
        raise OrderNotPayable(f"Order {payment.order.number} can no longer be paid with this link.")
    outcome = fulfil_checkout_session(session=DemoGateway().pay(payment=payment))
    payment.refresh_from_db()
    return payment, outcome


# -- webhooks ----------------------------------------------------------------------------------------------------


def handle_stripe_event(*, event: dict) -> str:
    """Processes one verified Stripe event at most once (a replay returns "duplicate"), and returns the outcome.

    The event's record and its effect are one unit of work: a crash or error in between leaves neither, so Stripe's
    retry processes the event; of two concurrent deliveries, the unique event id lets one commit.
    """
    try:
        return _record_and_dispatch(event=event)
    except IntegrityError:
        if PaymentEvent.objects.filter(event_id=event["id"]).exists():
            return "duplicate"
        raise


@unit_of_work
def _record_and_dispatch(*, event: dict) -> str:
    event_id, event_type = event["id"], event["type"]
    if PaymentEvent.objects.filter(event_id=event_id).exists():
        return "duplicate"
    record = PaymentEvent.objects.create(event_id=event_id, type=event_type, outcome="processing")
    checkpoint("stripe_event.recorded")
    outcome = _dispatch_event(event_type, event.get("data", {}).get("object", {}))
    PaymentEvent.objects.filter(pk=record.pk).update(outcome=outcome)
    return outcome


def _dispatch_event(event_type: str, obj: dict) -> str:
    if event_type in (
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.expired",
    ):
        return fulfil_checkout_session(session=SessionInfo.from_stripe(obj))
    if event_type == "checkout.session.async_payment_failed":
        return record_failed_payment(session=SessionInfo.from_stripe(obj))
    if event_type == "charge.refunded":
        return record_refund(
            payment_intent=obj.get("payment_intent") or "",
            amount_refunded=int(obj.get("amount_refunded") or 0),
            fully=bool(obj.get("refunded")),
        )
    return "ignored"


# -- refunds -----------------------------------------------------------------------------------------------------


def refund_order(*, order, restock: bool = False, actor=None) -> Payment:
    """Refunds what is left of a paid (shipped, delivered, partly refunded) order: every unit not refunded yet and
    the rest of the money, shipping included (`refund_payment`). With `restock` the units go back in stock.

    Raises what `refund_payment` raises.
    """
    if order.status == OrderStatus.REFUNDED and restock and order.restocked_at is None:
        # Refunded already (Stripe's charge.refunded webhook came first): what is left to do is the restock.
        restock_refunded_order(order=order)
        return paid_payment(order=order) or Payment.objects.filter(order_id=order.pk).first()
    refund = refund_payment(order=order, actor=actor, in_full=True, restock=restock)
    return _payment_of(refund)


def refund_payment(
    *,
    order,
    actor=None,
    lines: list | None = None,
    amount_minor: int | None = None,
    in_full: bool = False,
    restock: bool = False,
    note: str = "",
) -> Refund:
    """Gives back chosen lines and quantities, or an amount, of a paid order through the gateway that took the
    money: the refund is recorded first (its amount reserved on the order, so that two staff members clicking at
    once never refund more than was paid), then the gateway refunds exactly that amount under the refund's own
    idempotency key, then the refund is done (stock back when asked, the order refunded or partially refunded).

    A gateway that does not answer leaves the refund under way: the worker asks again with the same key (so the
    money goes back once) until it answers. A gateway that refuses fails the refund and gives its amount back.

    Raises: IllegalTransition (not paid), RefundRefused, RefundNotPossible (no payment), PaymentGatewayError.
    """
    if paid_payment(order=order) is None and order.status in REFUNDABLE:
        raise RefundNotPossible(f"Order {order.number} has no recorded payment to refund.")
    refund = reserve_refund(
        order=order, actor=actor, lines=lines, amount_minor=amount_minor, in_full=in_full, restock=restock, note=note
    )
    carry_out_refund(refund=refund)
    order.refresh_from_db()
    refund.refresh_from_db()
    return refund


def _payment_of(refund: Refund) -> Payment:
    return Payment.objects.filter(
        order_id=refund.order_id, status__in=[PaymentStatus.PAID, PaymentStatus.REFUNDED]
    ).first()


def carry_out_refund(*, refund: Refund) -> None:
    """Asks the gateway for a recorded refund, once per refund (its idempotency key), and records the outcome.
    Raises: PaymentGatewayError (retryable: the refund stays under way; else it failed and was given back)."""
    refund = Refund.objects.select_related("order").get(pk=refund.pk)
    if refund.status != RefundStatus.PENDING:
        return
    payment = _payment_of(refund)
    if payment is None:
        fail_refund(refund=refund, reason="the order has no recorded payment")
        raise RefundNotPossible(f"Order {refund.order.number} has no recorded payment to refund.")
    try:
        reference = gateway_named(payment.gateway).refund(
            payment=payment, amount_minor=refund.amount_minor, idempotency_key=f"refund-{refund.pk}"
        )
    except PaymentGatewayError as err:
        if not err.retryable:
            fail_refund(refund=refund, reason=err.detail or err.message)
        raise
    checkpoint("refund.gateway_refunded")
    _record_refund_done(refund=refund, payment=payment, reference=reference)


@unit_of_work
def _record_refund_done(*, refund: Refund, payment: Payment, reference: str) -> None:
    if not complete_refund(refund=refund, reference=reference):
        return
    # What went back: the order's refunds done, or more if the gateway reported more (its charge.refunded webhook may
    # have come first and recorded this very refund already).
    done = Refund.objects.filter(order_id=refund.order_id, status=RefundStatus.DONE).aggregate(
        total=Sum("amount_minor")
    )
    reported = Payment.objects.filter(pk=payment.pk).values_list("amount_refunded_minor", flat=True).first() or 0
    total = max(done["total"] or 0, reported)
    Payment.objects.filter(pk=payment.pk).update(amount_refunded_minor=total, updated_at=timezone.now())
    if total >= payment.amount_minor:
        _set_status(payment, to=PaymentStatus.REFUNDED, sources=[PaymentStatus.PAID], amount_refunded_minor=total)


FINISH_REFUND = "payments.finish_refund"
FINISH_REFUND_AFTER = 120  # seconds: longer than a gateway call with its retries takes


def check_refund_later(*, refund: Refund) -> None:
    """Inside the unit that recorded the refund: the worker makes sure it finishes even if this process dies before
    the gateway answers (the same idempotency key: the money goes back once)."""
    enqueue(FINISH_REFUND, after_seconds=FINISH_REFUND_AFTER, refund_id=str(refund.pk))


@handler(FINISH_REFUND)
def finish_refund(payload: dict) -> None:
    refund = Refund.objects.filter(pk=payload["refund_id"]).first()
    if refund is None:
        return
    try:
        carry_out_refund(refund=refund)
    except PaymentGatewayError as err:
        if err.retryable:
            raise  # the outbox asks again later
    except RefundNotPossible:
        pass  # failed and flagged for staff


@unit_of_work
def record_refund(*, payment_intent: str, amount_refunded: int, fully: bool) -> str:
    """A refund made at the gateway (by us or in Stripe's dashboard): a full one refunds the order; a partial one,
    or one the life cycle does not allow (e.g. a shipped order), is flagged for staff."""
    payment = Payment.objects.filter(payment_intent=payment_intent).select_related("order").first()
    if not payment_intent or payment is None:
        logger.warning("Refund for unknown payment intent %r; ignored", payment_intent)
        return "unknown_payment"
    order = payment.order
    if fully and (
        payment.status in (PaymentStatus.DUPLICATE, PaymentStatus.MISMATCH)
        or order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)
    ):
        # The refund of money that was never the order's (ours, or made in Stripe's dashboard): a payment that arrived
        # after the order closed, paid it a second time, or paid the wrong amount. The order stays as it is.
        _record_late_payment_refund(payment=payment, amount_minor=amount_refunded)
        return "late_payment_refunded"
    if not fully:
        Payment.objects.filter(pk=payment.pk, amount_refunded_minor__lt=amount_refunded).update(
            amount_refunded_minor=amount_refunded, updated_at=timezone.now()
        )
        if amount_refunded <= Order.objects.get(pk=order.pk).refunded_minor:
            return "partial_refund_recorded"  # ours: recorded before the gateway was asked
        flag_order(order=order, reason=f"A partial refund of {amount_refunded} was made at the gateway; review it.")
        return "partial_refund"
    _set_status(payment, to=PaymentStatus.REFUNDED, sources=[PaymentStatus.PAID], amount_refunded_minor=amount_refunded)
    if order.status == OrderStatus.REFUNDED:
        return "already_refunded"
    try:
        mark_refunded(order=order)
    except IllegalTransition:
        if order.status == OrderStatus.REFUNDED:
            return "already_refunded"
        flag_order(order=order, reason=f"Refunded in full at the gateway while {order.get_status_display().lower()}.")
        return "refund_flagged"
    return "refunded"


# -- payments follow the order ------------------------------------------------------------------------------------

EXPIRE_SESSION = "payments.expire_session"
REFUND_LATE_PAYMENT = "payments.refund_late_payment"


def close_open_payments(*, order) -> None:
    """The order was cancelled or expired: none of its attempts may be paid any more. Demo attempts close at once;
    a Stripe session is expired at Stripe after commit, through the outbox. Call it inside the order's unit of work."""
    for payment in Payment.objects.filter(order_id=order.pk, status__in=UNFINISHED):
        if payment.gateway == Gateway.DEMO:
            _set_status(payment, to=PaymentStatus.EXPIRED, sources=UNFINISHED)
        else:
            _expire_later(payment)


def _expire_later(payment: Payment) -> None:
    enqueue(EXPIRE_SESSION, payment_id=str(payment.pk))


@handler(EXPIRE_SESSION)
def expire_gateway_session(payload: dict) -> None:
    """Expires one attempt's session at the gateway; a session found paid meanwhile is fulfilled (which refunds a
    payment of a closed order). Raises PaymentGatewayError while the gateway cannot be reached (retried)."""
    payment = Payment.objects.filter(pk=payload["payment_id"]).first()
    if payment is None or payment.status not in UNFINISHED:
        return
    if payment.status == PaymentStatus.CREATING:
        # The session may never have been made; if it was, its response is still on its way to start_payment, which
        # checks the order again and comes back here with the session id.
        _set_status(payment, to=PaymentStatus.EXPIRED, sources=[PaymentStatus.CREATING])
        return
    fulfil_checkout_session(session=_expire_at_gateway(payment))


def _expire_at_gateway(payment: Payment) -> SessionInfo:
    """Expires the attempt's session at its gateway and returns what the gateway says of it then: expired, or
    completed (paid) meanwhile. Raises: PaymentGatewayError when the gateway cannot be reached."""
    gateway = gateway_named(payment.gateway)
    try:
        return gateway.expire(session_id=payment.session_id)
    except PaymentGatewayError as err:
        if err.retryable:
            raise
        return gateway.retrieve(session_id=payment.session_id)  # completed or expired meanwhile


@handler(REFUND_LATE_PAYMENT)
def refund_late_payment(payload: dict) -> None:
    """Gives back the money of a payment that arrived after its order was cancelled or expired, or paid it a second
    time. Raises PaymentGatewayError while the gateway cannot be reached (retried; the idempotency key makes it
    refund once)."""
    payment = Payment.objects.select_related("order").filter(pk=payload["payment_id"]).first()
    if payment is None or payment.status not in (PaymentStatus.PAID, PaymentStatus.DUPLICATE):
        return  # refunded already (a paid one of a closed order becomes REFUNDED), or not ours to refund
    if payment.status == PaymentStatus.DUPLICATE and payment.amount_refunded_minor:
        return  # refunded already (Stripe's charge.refunded for it came first)
    reference = gateway_named(payment.gateway).refund(
        payment=payment,
        amount_minor=payment.amount_minor,
        idempotency_key=f"order-{payment.order.number}-late-{payment.attempt}",
    )
    _record_late_payment_refund(payment=payment, amount_minor=payment.amount_minor, reference=reference)


@unit_of_work
def _record_late_payment_refund(*, payment: Payment, amount_minor: int, reference: str = "") -> bool:
    """The money of a payment that was never the order's went back (our refund, or Stripe's charge.refunded for it,
    whichever is recorded first): it arrived after the order closed (the attempt, PAID, becomes REFUNDED), paid the
    order a second time (DUPLICATE) or paid the wrong amount (MISMATCH; these two keep their status, which says why
    the money was not the order's, and record the amount refunded). By whoever records it, the refund goes on the
    order's timeline and into the buyer's email, once. Returns whether this call recorded it."""
    if payment.status == PaymentStatus.PAID:
        cause = "closed"
        recorded = _set_status(
            payment, to=PaymentStatus.REFUNDED, sources=[PaymentStatus.PAID], amount_refunded_minor=amount_minor
        )
    else:
        cause = "paid_twice" if payment.status == PaymentStatus.DUPLICATE else "wrong_amount"
        recorded = Payment.objects.filter(pk=payment.pk, status=payment.status, amount_refunded_minor=0).update(
            amount_refunded_minor=amount_minor, updated_at=timezone.now()
        )
    if not recorded:
        return False
    record_late_payment_refunded(
        order=payment.order, amount_minor=amount_minor, attempt=payment.attempt, reference=reference or "", cause=cause
    )
    return True


# -- expiry ------------------------------------------------------------------------------------------------------


@dataclass
class ExpiryReport:
    expired: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def expire_stale_orders(
    *, older_than: timedelta, now: datetime | None = None, progress: Callable[[str, str], None] | None = None
) -> ExpiryReport:
    """Expires unpaid orders placed more than `older_than` ago: first their open Stripe sessions (so nobody can pay
    them any more; a session found paid is fulfilled instead), then the order, which releases its stock once.

    An order whose session cannot be reached is left for the next run and reported in `failed`, and so is one whose
    expiry raised anything else (logged): one bad order never holds back the others.
    """
    report = ExpiryReport()
    notify = progress or (lambda number, outcome: None)
    for order in list(stale_pending_orders(older_than=older_than, now=now)):
        try:
            outcome = _expire_one(order)
        except Exception as error:  # its own units rolled back; the next run tries again
            logger.exception("Expiring order %s failed", order.number)
            outcome = f"failed: {type(error).__name__}: {error}"[:300]
        if outcome == "expired":
            report.expired.append(order.number)
        elif outcome.startswith("failed"):
            report.failed.append((order.number, outcome))
        else:
            report.skipped.append((order.number, outcome))
        notify(order.number, outcome)
    return report


def _expire_one(order) -> str:
    for payment in Payment.objects.filter(order_id=order.pk, status__in=[PaymentStatus.OPEN, PaymentStatus.PROCESSING]):
        if payment.status == PaymentStatus.PROCESSING:
            return "skipped: a payment is being processed"
        if payment.gateway != Gateway.STRIPE:
            _set_status(payment, to=PaymentStatus.EXPIRED, sources=UNFINISHED)
            continue
        try:
            session = _expire_at_gateway(payment)
        except PaymentGatewayError as err:
            return f"failed: payment provider error ({err.extra.get('gateway_error') or err.message})"
        fulfil_checkout_session(session=session)  # an expired session of the latest attempt expires the order
    order.refresh_from_db()
    if order.status == OrderStatus.EXPIRED:
        return "expired"
    if order.status != OrderStatus.PENDING_PAYMENT:
        return f"skipped: now {order.status}"
    try:
        expire_order(order=order)
    except IllegalTransition:
        order.refresh_from_db()
        return f"skipped: now {order.status}"
    return "expired"
