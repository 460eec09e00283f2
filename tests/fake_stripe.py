"""A small stateful fake of the Stripe API for tests (standard library only).

Stripe's servers are unreachable from our machines, so tests run the real ``stripe`` library against
this server on 127.0.0.1. It implements only the calls the shop makes, with Stripe's shapes and errors:

- ``POST /v1/checkout/sessions`` (``line_items`` with ``price_data``, ``shipping_options`` with
  ``shipping_rate_data``, ``discounts`` with a ``coupon``), ``GET /v1/checkout/sessions/{id}``,
  ``GET /v1/checkout/sessions/{id}/line_items``, ``POST /v1/checkout/sessions/{id}/expire``
  (``expand[]=line_items`` on create and retrieve)
- ``POST /v1/coupons``, ``GET /v1/coupons/{id}``
- ``POST /v1/refunds`` (full, partial, several per payment), ``GET /v1/refunds/{id}``,
  ``GET /v1/refunds?payment_intent=...`` (newest first; ``limit``)

and helpers that play Stripe's part in the story (completing or expiring a session, the events
Stripe would send, signing webhook payloads) or let a test look at what the fake holds
(``sessions``, ``session_breakdown``, ``refunds_for``, ``charge_for``, ``events_of``).
See ``/work/shared/guides/stripe.md``.

Where Stripe documents no exact wording or rounding, the fake's choice is marked "fake's wording"
or explained in the docstring; tests should not assert on those details.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

import stripe

API_VERSION: str = stripe.api_version  # the version the installed library pins ("2026-10-28.endive" in 16.1.0)
SESSION_MIN_LIFETIME = 30 * 60
SESSION_MAX_LIFETIME = 24 * 60 * 60
MAX_SHIPPING_OPTIONS = 5  # "Up to a maximum of 5." (Session create params)
MAX_DISCOUNTS = 1  # "Currently, only up to one may be specified." (Session create params)
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
COUPON_DURATIONS = ("forever", "once", "repeating")
LIST_DEFAULT_LIMIT = 10

_KEY_RE = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_INT_RE = re.compile(r"-?[0-9]+")
_SESSION_RE = re.compile(r"^/v1/checkout/sessions/([^/]+)$")
_EXPIRE_RE = re.compile(r"^/v1/checkout/sessions/([^/]+)/expire$")
_LINE_ITEMS_RE = re.compile(r"^/v1/checkout/sessions/([^/]+)/line_items$")
_COUPON_RE = re.compile(r"^/v1/coupons/([^/]+)$")
_REFUND_RE = re.compile(r"^/v1/refunds/([^/]+)$")

# Stripe formats the amounts in its refund errors as money, e.g. "Refund amount (€30.00)".
_CURRENCY_SYMBOLS = {"eur": "€", "usd": "$", "gbp": "£", "jpy": "¥"}
_ZERO_DECIMAL_CURRENCIES = frozenset(
    ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]
)  # https://docs.stripe.com/currencies#zero-decimal


class StripeHTTPError(Exception):
    """An error the fake answers with, in Stripe's ``{"error": {...}}`` shape.

    ``stored=False`` marks a parameter-validation failure: Stripe saves no idempotent result for
    those ("no API endpoint began execution"), so a retry with the same key runs again.
    """

    def __init__(
        self,
        status: int,
        message: str,
        error_type: str = "invalid_request_error",
        *,
        stored: bool = True,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.stored = stored
        self.body: dict[str, Any] = {"error": {"type": error_type, "message": message, **extra}}


class _UnknownRoute(StripeHTTPError):
    """404 for a route the fake does not implement."""


def _param_error(message: str, param: str, **extra: Any) -> StripeHTTPError:
    """A 400 for a malformed parameter (nothing is stored for the idempotency key)."""
    return StripeHTTPError(400, message, stored=False, param=param, **extra)


def _unsupported(param: str, what: str) -> StripeHTTPError:
    """A 400 for something real Stripe accepts but the fake does not implement (fake's wording)."""
    return _param_error(f"The fake Stripe server does not support {what}.", param)


@dataclass
class RecordedRequest:
    """One request the fake received; ``status`` is filled in once it has been answered."""

    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]
    params: dict[str, Any]
    idempotency_key: str | None
    status: int | None = None
    replayed: bool = False


@dataclass
class _Stored:
    """A stored response for an idempotency key, with the request it answered."""

    method: str
    path: str
    pairs: list[tuple[str, str]]
    status: int
    body: dict[str, Any]


@dataclass
class _PaymentIntent:
    """A payment intent and its one charge; ``amount`` is what was captured once it succeeded."""

    id: str
    charge_id: str
    amount: int
    currency: str
    session_id: str | None
    status: str = "succeeded"  # "processing" while an async payment (session completed unpaid) is pending
    amount_refunded: int = 0
    refunds: list[str] = field(default_factory=list)
    created: int = field(default_factory=lambda: int(time.time()))


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _new_coupon_id() -> str:
    """Stripe generates 8 random letters and digits for a coupon without an ``id``."""
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(8))


def _copy(obj: Any) -> Any:
    """A deep copy through JSON, so callers never hold the fake's own state."""
    return json.loads(json.dumps(obj))


def format_amount(amount: int, currency: str) -> str:
    """Money as Stripe writes it in error messages: ``€25.00``, ``$0.50``, ``¥500``, ``12.00 CHF``."""
    currency = currency.lower()
    major = str(amount) if currency in _ZERO_DECIMAL_CURRENCIES else f"{Decimal(amount).scaleb(-2):.2f}"
    symbol = _CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{major}" if symbol else f"{major} {currency.upper()}"


def parse_nested(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Rebuild Stripe's bracketed form keys (``a[0][b]=1``) into nested dicts and lists.

    Values stay strings, as on the wire. Raises ``ValueError`` on malformed or conflicting keys.
    """
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY_RE.match(key)
        if not match:
            raise ValueError(f"Malformed parameter name: {key!r}")
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for i, part in enumerate(parts):
            if part == "":  # `a[]=x` appends, like Rails/Stripe
                part = str(len(node))
            last = i == len(parts) - 1
            if last:
                if part in node:
                    raise ValueError(f"Conflicting parameter: {key!r}")
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise ValueError(f"Conflicting parameter: {key!r}")
                node = child
    return _lists_from_indexes(root)


def _lists_from_indexes(node: Any) -> Any:
    """Turn dicts keyed only by integers ("0", "1", ...) into lists, recursively."""
    if not isinstance(node, dict):
        return node
    converted = {k: _lists_from_indexes(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def _required(container: dict[str, Any], key: str, param: str) -> Any:
    """``container[key]``, or Stripe's "Missing required param" 400 naming the full ``param`` path."""
    value = container.get(key)
    if value is None or value == "":
        raise _param_error(f"Missing required param: {param}.", param)
    return value


def _int_param(value: Any, param: str, minimum: int | None = None) -> int:
    """Parse an integer parameter the way Stripe validates it (400 with ``param`` set).

    Only plain decimal digits count (Python's ``int()`` would also take ``" 1_0"``).
    """
    if not isinstance(value, str) or not _INT_RE.fullmatch(value):
        raise _param_error(f"Invalid integer: {value}", param, code="parameter_invalid_integer")
    number = int(value)
    if minimum is not None and number < minimum:
        raise _param_error(f"This value must be greater than or equal to {minimum}.", param)
    return number


def _amount_param(value: Any, param: str, *, positive: bool = False) -> int:
    """An amount in minor units: an integer, at least 0 (or 1 with ``positive``), as Stripe checks it."""
    number = _int_param(value, param)
    if positive and number <= 0:
        raise _param_error("Invalid positive integer", param)
    if number < 0:
        raise _param_error("Invalid non-negative integer", param)
    return number


def _dict_param(value: Any, param: str) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise _param_error("Invalid object", param)
    return value


def _list_param(value: Any, param: str) -> list[Any]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise _param_error("Invalid array", param)
    return value


def _enum_param(value: Any, param: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        options = ", ".join(choices[:-1]) + f", or {choices[-1]}" if len(choices) > 1 else choices[0]
        raise _param_error(f"Invalid {param}: must be one of {options}", param)
    return value


def _expand_param(params: dict[str, Any], allowed: tuple[str, ...]) -> set[str]:
    """The ``expand[]`` paths asked for; the fake expands only ``allowed`` ones."""
    expand = params.get("expand")
    if expand in (None, ""):
        return set()
    names = expand if isinstance(expand, list) else [expand]
    for name in names:
        if name not in allowed:
            raise _unsupported("expand", f"expanding {name!r} here (it expands {', '.join(allowed) or 'nothing'})")
    return set(names)


def _allocate(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` over ``weights`` in proportion, in whole units (largest remainder, earlier wins ties).

    Stripe spreads a session's discount over its line items this way in spirit; it does not document
    its exact rounding, so only the session total is to be relied on.
    """
    whole = sum(weights)
    if whole == 0 or total == 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in remainders[: total - sum(shares)]:
        shares[i] += 1
    return shares


def sign_payload(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """Return the ``Stripe-Signature`` header value for ``payload`` (``t=...,v1=...``).

    Uses ``stripe.WebhookSignature.generate_signature_header`` when the library has it; it
    interpolates ``payload`` into an f-string, so bytes must be decoded first (else it signs
    ``"b'...'"``). Pass an old ``timestamp`` to test stale-signature rejection.
    """
    text = payload.decode("utf-8") if isinstance(payload, (bytes, bytearray)) else payload
    if timestamp is None:
        timestamp = int(time.time())
    generate = getattr(stripe.WebhookSignature, "generate_signature_header", None)
    if generate is not None:
        return generate(text, secret, timestamp=timestamp)
    digest = hmac.new(secret.encode(), f"{timestamp}.{text}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class FakeStripe:
    """A fake Stripe API on 127.0.0.1, serving from a daemon thread until ``stop()``.

    What a test may read (plain dicts in Stripe's shapes; read them, never change them):

    - ``sessions[id]``: the Checkout Session as the API returns it, plus its ``line_items`` list
      (the shape Stripe returns when asked to expand it; the API sends it only when expanded).
    - ``coupons[id]``, ``shipping_rates[id]``, ``refunds[id]``: the objects as the API returns them.
    - ``events``: every event Stripe would have sent, oldest first (see ``events_of``).
    - ``session_breakdown(id)``, ``refunds_for(payment_intent)``, ``charge_for(payment_intent)``.
    """

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.sessions: dict[str, dict[str, Any]] = {}
        self.coupons: dict[str, dict[str, Any]] = {}
        self.shipping_rates: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.payment_intents: dict[str, _PaymentIntent] = {}
        self.events: list[dict[str, Any]] = []
        self._idempotency: dict[tuple[str, str], _Stored] = {}
        self._failures: list[tuple[int, str, str]] = []
        self._hangs: list[float] = []
        # The request being answered, for the `request` field of the events it causes.
        self._request_context: tuple[str | None, str | None] = (None, None)
        # One lock for all state: handlers are quick, and serialising them makes concurrent
        # requests with the same idempotency key replay instead of racing.
        self._lock = threading.RLock()
        self._stopping = threading.Event()  # wakes hung responses on stop()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        # A short poll interval keeps stop() (and so each test's teardown) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-stripe", daemon=True
        )
        self._thread.start()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, for ``StripeClient(base_addresses={"api": ...})``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop serving and free the port; safe to call twice."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget all state (sessions, coupons, refunds, events, keys, records, failures and hangs)."""
        with self._lock:
            self.requests.clear()
            self.sessions.clear()
            self.coupons.clear()
            self.shipping_rates.clear()
            self.refunds.clear()
            self.payment_intents.clear()
            self.events.clear()
            self._idempotency.clear()
            self._failures.clear()
            self._hangs.clear()

    # -- assertions and failure injection ----------------------------------------------------

    def requests_to(self, path_prefix: str, method: str | None = None) -> list[RecordedRequest]:
        """Recorded requests whose path starts with ``path_prefix`` (optionally one method)."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.path.startswith(path_prefix) and (method is None or r.method == method.upper())
            ]

    def session_breakdown(self, session_id: str) -> dict[str, Any]:
        """What the shopper is asked to pay in a session, flattened for assertions::

            {"currency": "eur",
             "line_items": [{"name", "unit_amount", "quantity",
                             "amount_subtotal", "amount_discount", "amount_total"}, ...],
             "amount_subtotal", "amount_discount", "amount_shipping", "amount_tax", "amount_total",
             "coupon": "<coupon id>" | None,
             "shipping": {"display_name", "amount", "shipping_rate"} | None}

        Per-line ``amount_discount`` is the fake's proportional split (see ``_allocate``).
        Raises ``KeyError`` for an unknown session.
        """
        with self._lock:
            session = self._session_or_keyerror(session_id)
            details, cost, discounts = session["total_details"], session["shipping_cost"], session["discounts"]
            shipping = None
            if cost is not None:
                rate = self.shipping_rates[cost["shipping_rate"]]
                shipping = {
                    "display_name": rate["display_name"],
                    "amount": cost["amount_total"],
                    "shipping_rate": rate["id"],
                }
            return {
                "currency": session["currency"],
                "line_items": [
                    {
                        "name": item["description"],
                        "unit_amount": item["price"]["unit_amount"],
                        "quantity": item["quantity"],
                        "amount_subtotal": item["amount_subtotal"],
                        "amount_discount": item["amount_discount"],
                        "amount_total": item["amount_total"],
                    }
                    for item in session["line_items"]["data"]
                ],
                "amount_subtotal": session["amount_subtotal"],
                "amount_discount": details["amount_discount"],
                "amount_shipping": details["amount_shipping"],
                "amount_tax": details["amount_tax"],
                "amount_total": session["amount_total"],
                "coupon": discounts[0]["coupon"] if discounts else None,
                "shipping": shipping,
            }

    def refunds_for(self, payment_intent: str) -> list[dict[str, Any]]:
        """The refunds made for ``payment_intent``, oldest first, as Stripe Refund objects
        (``id``, ``amount``, ``currency``, ``status``, ``reason``, ``metadata``, ``charge``, ...).
        Empty for an unknown payment intent."""
        with self._lock:
            pi = self.payment_intents.get(payment_intent)
            return [_copy(self.refunds[refund_id]) for refund_id in pi.refunds] if pi else []

    def charge_for(self, payment_intent: str) -> dict[str, Any]:
        """The payment intent's Charge as Stripe shows it now (``amount``, ``amount_captured``,
        ``amount_refunded``, ``refunded`` true only once fully refunded). ``KeyError`` if unknown."""
        with self._lock:
            if payment_intent not in self.payment_intents:
                raise KeyError(f"No such payment_intent: {payment_intent!r}")
            return self._charge_object(self.payment_intents[payment_intent])

    def events_of(self, type: str) -> list[dict[str, Any]]:
        """Copies of the events of one ``type`` that Stripe would have sent, oldest first."""
        with self._lock:
            return [_copy(event) for event in self.events if event["type"] == type]

    def fail_next(
        self, status: int = 500, error_type: str = "api_error", message: str = "Injected failure", count: int = 1
    ) -> None:
        """Make the next ``count`` requests fail with ``{"error": {"type", "message"}}``.

        An injected failure happens before the request is handled: nothing changes and nothing is
        stored for its idempotency key, so a retry with the same key runs normally.
        """
        with self._lock:
            self._failures.extend([(status, error_type, message)] * count)

    def forget_idempotency_keys(self) -> None:
        """Forget every stored idempotency key, as Stripe does after 24 hours: a retry with an old key then runs
        as a new request."""
        with self._lock:
            self._idempotency.clear()

    def hang_next(self, seconds: float) -> None:
        """Delay the next response by ``seconds`` (to make the client time out).

        The request is still handled (and its idempotency key stored) before the delay, like a
        response lost on the way back: a retry with the same key replays the same result.
        """
        with self._lock:
            self._hangs.append(seconds)

    # -- playing Stripe's part ---------------------------------------------------------------

    def complete_session(
        self,
        session_id: str,
        payment_status: str | None = None,
        amount_total: int | None = None,
        currency: str | None = None,
    ) -> dict[str, Any]:
        """Mark a session ``complete`` as if the shopper paid; return a copy of the session.

        ``payment_status`` defaults to ``paid`` (``no_payment_required`` for a session totalling 0).
        A ``complete`` session may be completed again, to move an async payment from ``unpaid``
        to ``paid``; an expired one cannot. ``amount_total``/``currency`` override what was paid
        (to test mismatches). Records the event Stripe sends: ``checkout.session.completed``, or
        ``checkout.session.async_payment_succeeded`` when an unpaid completed session gets paid.
        """
        with self._lock:
            session = self._session_or_keyerror(session_id)
            if session["status"] == "expired":
                raise ValueError(f"Checkout Session {session_id} is expired and cannot be completed")
            was_open, was_paid = session["status"] == "open", session["payment_status"] == "paid"
            if amount_total is not None:
                session["amount_total"] = amount_total
                session["amount_subtotal"] = amount_total
            if currency is not None:
                session["currency"] = currency.lower()
            if payment_status is None:
                payment_status = "paid" if session["amount_total"] else "no_payment_required"
            session["status"] = "complete"
            session["payment_status"] = payment_status
            pi_status = "succeeded" if payment_status == "paid" else "processing"
            if session["payment_intent"] is None and payment_status != "no_payment_required":
                pi = _PaymentIntent(
                    id=_new_id("pi"),
                    charge_id=_new_id("ch"),
                    amount=session["amount_total"],
                    currency=session["currency"],
                    session_id=session_id,
                    status=pi_status,
                )
                self.payment_intents[pi.id] = pi
                session["payment_intent"] = pi.id
            elif session["payment_intent"] is not None:
                pi = self.payment_intents[session["payment_intent"]]
                pi.amount, pi.currency, pi.status = session["amount_total"], session["currency"], pi_status
            session["url"] = None  # Stripe clears the URL once a session is no longer open
            if was_open:
                for discount in session["discounts"]:
                    if discount["coupon"] in self.coupons:
                        self.coupons[discount["coupon"]]["times_redeemed"] += 1
                self._emit("checkout.session.completed", self._session_view(session))
            elif payment_status == "paid" and not was_paid:
                self._emit("checkout.session.async_payment_succeeded", self._session_view(session))
            return self._session_view(session)

    def expire_session(self, session_id: str) -> dict[str, Any]:
        """Expire an open session as Stripe's timer would; return a copy of the session.

        Records a ``checkout.session.expired`` event."""
        with self._lock:
            session = self._session_or_keyerror(session_id)
            if session["status"] != "open":
                raise ValueError(f"Checkout Session {session_id} is {session['status']}, not open")
            return self._expire(session)

    def make_event(
        self, type: str, obj: dict[str, Any], request_id: str | None = None, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Build a snapshot event around ``obj`` (a session or charge dict); it is not recorded."""
        return {
            "id": _new_id("evt"),
            "object": "event",
            "type": type,
            "data": {"object": obj},
            "created": int(time.time()),
            "api_version": API_VERSION,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": request_id, "idempotency_key": idempotency_key},
        }

    def charge_refunded_object(
        self, payment_intent: str, amount_refunded: int | None = None, refunded: bool | None = None
    ) -> dict[str, Any]:
        """Build the Charge a ``charge.refunded`` event carries for ``payment_intent``.

        ``amount_refunded`` defaults to what was refunded through the fake. ``refunded`` is, as at
        Stripe, true only for a full refund, unless given; for an unknown payment intent the
        charge amount is taken to be ``amount_refunded``. (Refunds made through the API record
        their own ``charge.refunded`` events: see ``events_of``.)
        """
        with self._lock:
            pi = self.payment_intents.get(payment_intent)
            if pi is not None:
                charge = self._charge_object(pi)
                if amount_refunded is not None:
                    charge["amount_refunded"] = amount_refunded
            else:
                amount_refunded = amount_refunded or 0
                charge = {
                    "id": _new_id("ch"),
                    "object": "charge",
                    "amount": amount_refunded,
                    "amount_captured": amount_refunded,
                    "amount_refunded": amount_refunded,
                    "currency": "eur",
                    "payment_intent": payment_intent,
                    "paid": True,
                    "captured": True,
                    "status": "succeeded",
                    "livemode": False,
                    "created": int(time.time()),
                    "metadata": {},
                }
            charge["refunded"] = charge["amount_refunded"] >= charge["amount"] if refunded is None else refunded
            return charge

    def _emit(self, type: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Record the event Stripe would send now about ``obj``, tied to the request being answered."""
        request_id, idempotency_key = self._request_context
        event = self.make_event(type, _copy(obj), request_id=request_id, idempotency_key=idempotency_key)
        self.events.append(event)
        return event

    def _charge_object(self, pi: _PaymentIntent) -> dict[str, Any]:
        succeeded = pi.status == "succeeded"
        return {
            "id": pi.charge_id,
            "object": "charge",
            "amount": pi.amount,
            "amount_captured": pi.amount if succeeded else 0,
            "amount_refunded": pi.amount_refunded,
            "currency": pi.currency,
            "payment_intent": pi.id,
            "paid": succeeded,
            "captured": succeeded,
            "refunded": succeeded and pi.amount_refunded >= pi.amount,
            "status": "succeeded" if succeeded else "pending",
            "livemode": False,
            "created": pi.created,
            "metadata": {},
        }

    def _session_view(self, session: dict[str, Any], expand: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
        """The session as the API (or an event) shows it: ``line_items`` only when expanded."""
        view = _copy({key: value for key, value in session.items() if key != "line_items"})
        if "line_items" in expand:
            view["line_items"] = self._line_items_page(session, {})
        return view

    def _expire(self, session: dict[str, Any]) -> dict[str, Any]:
        session["status"] = "expired"
        session["url"] = None
        view = self._session_view(session)
        self._emit("checkout.session.expired", view)
        return view

    # -- request handling (called from the server threads) -----------------------------------

    def _handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str], float]:
        """Answer one request: (status, JSON body, extra headers, seconds to delay the answer)."""
        split = urlsplit(raw_path)
        path = split.path
        form_text = body.decode("utf-8", "replace") if method == "POST" else split.query
        pairs = parse_qsl(form_text, keep_blank_values=True)
        lower = {k.lower(): v for k, v in headers.items()}
        idem_key = lower.get("idempotency-key")
        record = RecordedRequest(
            method=method, path=path, headers=dict(headers), form=dict(pairs), params={}, idempotency_key=idem_key
        )
        extra: dict[str, str] = {"Request-Id": _new_id("req")}
        with self._lock:
            self.requests.append(record)
            delay = self._hangs.pop(0) if self._hangs else 0.0
            failure = self._failures.pop(0) if self._failures else None
            self._request_context = (extra["Request-Id"], idem_key if method == "POST" else None)
            try:
                status, payload = self._dispatch(method, path, pairs, lower, idem_key, record, failure, extra)
            finally:
                self._request_context = (None, None)
            record.status = status
        return status, payload, extra, delay

    def _dispatch(
        self,
        method: str,
        path: str,
        pairs: list[tuple[str, str]],
        headers: dict[str, str],
        idem_key: str | None,
        record: RecordedRequest,
        failure: tuple[int, str, str] | None,
        extra: dict[str, str],
    ) -> tuple[int, dict[str, Any]]:
        if failure is not None:
            status, error_type, message = failure
            return status, {"error": {"type": error_type, "message": message}}
        try:
            record.params = parse_nested(pairs)
        except ValueError as exc:
            return 400, StripeHTTPError(400, str(exc)).body
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth[len("Bearer ") :].strip():
            return 401, StripeHTTPError(401, "You did not provide an API key.", "invalid_request_error").body

        # Stripe honours idempotency keys on POST only, scoped to the API key.
        store_key = (auth, idem_key) if method == "POST" and idem_key else None
        sorted_pairs = sorted(pairs)
        if store_key is not None and store_key in self._idempotency:
            stored = self._idempotency[store_key]
            if (stored.method, stored.path, stored.pairs) != (method, path, sorted_pairs):
                return 400, StripeHTTPError(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters they were first "
                    f"used with. Try using a key other than '{idem_key}' if you meant to execute a different "
                    "request.",
                    "idempotency_error",
                ).body
            record.replayed = True
            extra["Idempotent-Replayed"] = "true"
            extra["Idempotency-Key"] = idem_key or ""
            return stored.status, _copy(stored.body)

        store = True
        try:
            status, payload = 200, self._route(method, path, record.params)
        except _UnknownRoute as exc:
            return exc.status, exc.body  # never reached an endpoint, so nothing to store for the key
        except StripeHTTPError as exc:
            status, payload, store = exc.status, exc.body, exc.stored
        if store_key is not None and store:
            # Like Stripe, store what the endpoint answered (errors included) for replays; a request
            # whose parameters failed validation never began executing, so nothing is stored for it.
            self._idempotency[store_key] = _Stored(method, path, sorted_pairs, status, _copy(payload))
            extra["Idempotency-Key"] = idem_key or ""
        return status, payload

    def _route(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "POST":
            if path == "/v1/checkout/sessions":
                return self._create_session(params)
            if match := _EXPIRE_RE.match(path):
                return self._expire_via_api(match.group(1), params)
            if path == "/v1/coupons":
                return self._create_coupon(params)
            if path == "/v1/refunds":
                return self._create_refund(params)
        if method == "GET":
            if match := _SESSION_RE.match(path):
                expand = _expand_param(params, ("line_items",))
                return self._session_view(self._session_or_404(match.group(1)), expand)
            if match := _LINE_ITEMS_RE.match(path):
                _expand_param(params, ())
                return self._line_items_page(self._session_or_404(match.group(1)), params)
            if match := _COUPON_RE.match(path):
                _expand_param(params, ())
                return _copy(self._object_or_404(self.coupons, "coupon", match.group(1)))
            if match := _REFUND_RE.match(path):
                _expand_param(params, ())
                return _copy(self._object_or_404(self.refunds, "refund", match.group(1)))
            if path == "/v1/refunds":
                return self._list_refunds(params)
        raise _UnknownRoute(404, f"Unrecognized request URL ({method}: {path}).")

    # -- checkout sessions -------------------------------------------------------------------

    def _create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        expand = _expand_param(params, ("line_items",))
        lines, currency = self._parse_line_items(params.get("line_items"))
        rates = self._parse_shipping_options(params.get("shipping_options"), currency)
        coupon = self._parse_discounts(params.get("discounts"), currency)

        now = int(time.time())
        expires_at = now + SESSION_MAX_LIFETIME
        if "expires_at" in params:
            expires_at = _int_param(params["expires_at"], "expires_at")
            if not now + SESSION_MIN_LIFETIME <= expires_at <= now + SESSION_MAX_LIFETIME:
                raise _param_error(
                    "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session "
                    "creation.",
                    "expires_at",
                )
        metadata = _dict_param(params.get("metadata"), "metadata")

        # Stripe's arithmetic: the discount comes off the items only (never shipping), and
        # amount_total = amount_subtotal - amount_discount + amount_shipping + amount_tax.
        subtotals = [line["unit_amount"] * line["quantity"] for line in lines]
        amount_subtotal = sum(subtotals)
        amount_discount = _discount_amount(coupon, amount_subtotal) if coupon else 0
        amount_shipping = rates[0]["fixed_amount"]["amount"] if rates else 0  # the first option is preselected
        amount_total = amount_subtotal - amount_discount + amount_shipping

        session_id = _new_id("cs_test")
        line_items = [
            _line_item(line, currency, subtotal, discount, now)
            for line, subtotal, discount in zip(lines, subtotals, _allocate(amount_discount, subtotals), strict=True)
        ]
        for rate in rates:
            rate["created"] = now
            self.shipping_rates[rate["id"]] = rate
        session = {
            "id": session_id,
            "object": "checkout.session",
            "status": "open",
            "payment_status": "unpaid",
            "amount_subtotal": amount_subtotal,
            "amount_total": amount_total,
            "total_details": {
                "amount_discount": amount_discount,
                "amount_shipping": amount_shipping,
                "amount_tax": 0,
            },
            "currency": currency,
            "discounts": [{"coupon": coupon["id"], "promotion_code": None}] if coupon else [],
            "shipping_options": [
                {"shipping_amount": rate["fixed_amount"]["amount"], "shipping_rate": rate["id"]} for rate in rates
            ],
            "shipping_cost": (
                {
                    "amount_subtotal": amount_shipping,
                    "amount_tax": 0,
                    "amount_total": amount_shipping,
                    "shipping_rate": rates[0]["id"],
                }
                if rates
                else None
            ),
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"),
            "metadata": metadata,
            "payment_intent": None,
            "url": f"https://checkout.stripe.test/c/pay/{session_id}",
            "created": now,
            "expires_at": expires_at,
            "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"),
            "mode": params.get("mode", "payment"),
            "livemode": False,
            "line_items": {
                "object": "list",
                "data": line_items,
                "has_more": False,
                "url": f"/v1/checkout/sessions/{session_id}/line_items",
            },
        }
        self.sessions[session_id] = session
        return self._session_view(session, expand)

    def _parse_line_items(self, raw: Any) -> tuple[list[dict[str, Any]], str]:
        """Validate ``line_items[n][price_data][...]`` and ``[quantity]``; return them and their one currency."""
        if not isinstance(raw, list) or not raw:
            raise _param_error("Missing required param: line_items.", "line_items")
        lines: list[dict[str, Any]] = []
        currencies: set[str] = set()
        for i, item in enumerate(raw):
            at = f"line_items[{i}]"
            price_data = item.get("price_data") if isinstance(item, dict) else None
            if not isinstance(price_data, dict):
                # Real Stripe also accepts `price` ids; the shop never uses them, so neither do we.
                raise _param_error("The fake supports line_items with price_data only.", f"{at}[price_data]")
            if "product" in price_data:
                raise _unsupported(f"{at}[price_data][product]", "product ids in price_data; use product_data")
            currency = str(_required(price_data, "currency", f"{at}[price_data][currency]")).lower()
            unit = _amount_param(
                _required(price_data, "unit_amount", f"{at}[price_data][unit_amount]"), f"{at}[price_data][unit_amount]"
            )
            product_data = _required(price_data, "product_data", f"{at}[price_data][product_data]")
            if not isinstance(product_data, dict):
                raise _param_error("Invalid object", f"{at}[price_data][product_data]")
            name = _required(product_data, "name", f"{at}[price_data][product_data][name]")
            quantity = _int_param(_required(item, "quantity", f"{at}[quantity]"), f"{at}[quantity]", 1)
            currencies.add(currency)
            lines.append({"name": name, "unit_amount": unit, "quantity": quantity})
        if len(currencies) > 1:
            raise _param_error("All line items must use the same currency.", "line_items")  # fake's wording
        return lines, currencies.pop()

    def _parse_shipping_options(self, raw: Any, currency: str) -> list[dict[str, Any]]:
        """Validate ``shipping_options[n][shipping_rate_data][...]``; return the Shipping Rates Stripe creates."""
        options = _list_param(raw, "shipping_options")
        if len(options) > MAX_SHIPPING_OPTIONS:
            raise _param_error(
                f"You can only pass up to {MAX_SHIPPING_OPTIONS} shipping_options.", "shipping_options"
            )  # fake's wording
        rates = []
        for i, option in enumerate(options):
            at = f"shipping_options[{i}]"
            option = _dict_param(option, at)
            if "shipping_rate" in option:
                raise _unsupported(f"{at}[shipping_rate]", "shipping rate ids; use shipping_rate_data")
            at = f"{at}[shipping_rate_data]"
            data = _dict_param(_required(option, "shipping_rate_data", at), at)
            rate_type = _enum_param(data.get("type", "fixed_amount"), f"{at}[type]", ("fixed_amount",))
            display_name = _required(data, "display_name", f"{at}[display_name]")
            fixed = _dict_param(_required(data, "fixed_amount", f"{at}[fixed_amount]"), f"{at}[fixed_amount]")
            amount = _amount_param(
                _required(fixed, "amount", f"{at}[fixed_amount][amount]"), f"{at}[fixed_amount][amount]"
            )
            rate_currency = str(_required(fixed, "currency", f"{at}[fixed_amount][currency]")).lower()
            if rate_currency != currency:
                raise _param_error(
                    f"The shipping rate's currency ({rate_currency}) must match the Checkout Session's "
                    f"currency ({currency}).",  # fake's wording
                    f"{at}[fixed_amount][currency]",
                )
            rates.append(
                {
                    "id": _new_id("shr"),
                    "object": "shipping_rate",
                    "active": True,
                    "created": None,
                    "delivery_estimate": None,
                    "display_name": display_name,
                    "fixed_amount": {"amount": amount, "currency": rate_currency},
                    "livemode": False,
                    "metadata": _dict_param(data.get("metadata"), f"{at}[metadata]"),
                    "tax_behavior": data.get("tax_behavior", "unspecified"),
                    "tax_code": data.get("tax_code"),
                    "type": rate_type,
                }
            )
        return rates

    def _parse_discounts(self, raw: Any, currency: str) -> dict[str, Any] | None:
        """Validate ``discounts[0][coupon]``; return the coupon (or None)."""
        discounts = _list_param(raw, "discounts")
        if not discounts:
            return None
        if len(discounts) > MAX_DISCOUNTS:
            raise _param_error("You may only specify one discount.", "discounts")  # fake's wording
        entry = _dict_param(discounts[0], "discounts[0]")
        if "promotion_code" in entry:
            raise _unsupported("discounts[0][promotion_code]", "promotion codes")
        coupon_id = _required(entry, "coupon", "discounts[0][coupon]")
        coupon = self.coupons.get(coupon_id)
        if coupon is None:
            raise StripeHTTPError(
                400, f"No such coupon: '{coupon_id}'", code="resource_missing", param="discounts[0][coupon]"
            )
        if coupon["amount_off"] is not None and coupon["currency"] != currency:
            raise StripeHTTPError(
                400,
                f"The coupon's currency ({coupon['currency']}) must match the Checkout Session's currency "
                f"({currency}).",  # fake's wording
                param="discounts[0][coupon]",
            )
        return coupon

    def _list_refunds(self, params: dict[str, Any]) -> dict[str, Any]:
        """``GET /v1/refunds``: the refunds of one ``payment_intent`` (every refund without it), newest first, at
        most ``limit`` (no cursors: the shop never needs a second page)."""
        limit = LIST_DEFAULT_LIMIT
        if "limit" in params:
            limit = _int_param(params["limit"], "limit")
            if not 1 <= limit <= 100:
                raise _param_error("Invalid limit: must be between 1 and 100.", "limit")
        wanted = params.get("payment_intent")
        refunds = [r for r in reversed(self.refunds.values()) if wanted in (None, r["payment_intent"])]
        return {
            "object": "list",
            "data": _copy(refunds[:limit]),
            "has_more": len(refunds) > limit,
            "url": "/v1/refunds",
        }

    def _line_items_page(self, session: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """One page of a session's line items, as ``GET .../line_items`` (``limit``, ``starting_after``,
        ``ending_before``) and ``expand[]=line_items`` (the first page) answer."""
        items = session["line_items"]["data"]
        limit = LIST_DEFAULT_LIMIT
        if "limit" in params:
            limit = _int_param(params["limit"], "limit")
            if not 1 <= limit <= 100:
                raise _param_error("Invalid limit: must be between 1 and 100.", "limit")
        ids = [item["id"] for item in items]
        if params.get("starting_after"):
            start = self._cursor_index(ids, params["starting_after"], "starting_after") + 1
            page, has_more = items[start : start + limit], start + limit < len(items)
        elif params.get("ending_before"):
            end = self._cursor_index(ids, params["ending_before"], "ending_before")
            page, has_more = items[max(0, end - limit) : end], end - limit > 0
        else:
            page, has_more = items[:limit], limit < len(items)
        return {"object": "list", "data": _copy(page), "has_more": has_more, "url": session["line_items"]["url"]}

    @staticmethod
    def _cursor_index(ids: list[str], cursor: str, param: str) -> int:
        if cursor not in ids:
            raise StripeHTTPError(400, f"No such line item: '{cursor}'", code="resource_missing", param=param)
        return ids.index(cursor)

    def _expire_via_api(self, session_id: str, params: dict[str, Any]) -> dict[str, Any]:
        _expand_param(params, ())
        session = self._session_or_404(session_id)
        if session["status"] != "open":
            raise StripeHTTPError(
                400,
                f'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a '
                f'status of "{session["status"]}".',
            )
        return self._expire(session)

    # -- coupons -----------------------------------------------------------------------------

    def _create_coupon(self, params: dict[str, Any]) -> dict[str, Any]:
        _expand_param(params, ())
        for name in ("applies_to", "currency_options", "max_redemptions", "redeem_by"):
            if name in params:
                raise _unsupported(name, f"coupons with {name}")
        if "amount_off" in params and "percent_off" in params:
            raise _param_error("You may only specify one of these parameters: amount_off, percent_off.", "amount_off")
        amount_off = currency = percent_off = None
        if "amount_off" in params:
            amount_off = _amount_param(params["amount_off"], "amount_off", positive=True)
            currency = str(_required(params, "currency", "currency")).lower()
        elif "percent_off" in params:
            percent_off = _percent_param(params["percent_off"], "percent_off")
        else:
            raise _param_error("You must specify either amount_off or percent_off.", "percent_off")  # fake's wording
        duration = _enum_param(params.get("duration", "once"), "duration", COUPON_DURATIONS)
        months = None
        if duration == "repeating":
            months = _amount_param(
                _required(params, "duration_in_months", "duration_in_months"), "duration_in_months", positive=True
            )
        elif "duration_in_months" in params:
            raise _param_error(
                "duration_in_months can only be set when duration is repeating.", "duration_in_months"
            )  # fake's wording
        coupon_id = params.get("id") or _new_coupon_id()
        if coupon_id in self.coupons:
            raise StripeHTTPError(400, "Coupon already exists.", code="resource_already_exists", param="id")
        coupon = {
            "id": coupon_id,
            "object": "coupon",
            "amount_off": amount_off,
            "created": int(time.time()),
            "currency": currency,
            "duration": duration,
            "duration_in_months": months,
            "livemode": False,
            "max_redemptions": None,
            "metadata": _dict_param(params.get("metadata"), "metadata"),
            "name": params.get("name") or None,
            "percent_off": percent_off,
            "redeem_by": None,
            "times_redeemed": 0,
            "valid": True,
        }
        self.coupons[coupon_id] = coupon
        return _copy(coupon)

    # -- refunds -----------------------------------------------------------------------------

    def _create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        _expand_param(params, ())
        pi_id, charge_id = params.get("payment_intent"), params.get("charge")
        if not pi_id and not charge_id:
            raise _param_error(
                "One of the following params should be provided for this request: payment_intent or charge.",
                "payment_intent",
            )
        amount = _amount_param(params["amount"], "amount", positive=True) if "amount" in params else None
        reason = params.get("reason") or None
        if reason is not None:
            _enum_param(reason, "reason", REFUND_REASONS)
        metadata = _dict_param(params.get("metadata"), "metadata")

        if pi_id:
            pi = self.payment_intents.get(pi_id)
            if pi is None:
                raise StripeHTTPError(
                    400, f"No such payment_intent: '{pi_id}'", code="resource_missing", param="payment_intent"
                )
            if charge_id and charge_id != pi.charge_id:
                raise StripeHTTPError(
                    400, f"Charge {charge_id} does not belong to PaymentIntent {pi_id}.", param="charge"
                )  # fake's wording
        else:
            pi = next((p for p in self.payment_intents.values() if p.charge_id == charge_id), None)
            if pi is None:
                raise StripeHTTPError(400, f"No such charge: '{charge_id}'", code="resource_missing", param="charge")
        if pi.status != "succeeded":
            raise StripeHTTPError(400, "This PaymentIntent does not have a successful charge to refund.")
        remaining = pi.amount - pi.amount_refunded
        if remaining <= 0:
            raise StripeHTTPError(
                400, f"Charge {pi.charge_id} has already been refunded.", code="charge_already_refunded"
            )
        if amount is None:
            amount = remaining
        if amount > remaining:
            # Stripe sends no `code` here: tell this apart from the one above by `param` ("amount").
            raise StripeHTTPError(
                400,
                f"Refund amount ({format_amount(amount, pi.currency)}) is greater than unrefunded amount on "
                f"charge ({format_amount(remaining, pi.currency)})",
                param="amount",
            )
        pi.amount_refunded += amount
        refund = {
            "id": _new_id("re"),
            "object": "refund",
            "amount": amount,
            "balance_transaction": _new_id("txn"),
            "charge": pi.charge_id,
            "created": int(time.time()),
            "currency": pi.currency,
            "metadata": metadata,
            "payment_intent": pi.id,
            "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
        pi.refunds.append(refund["id"])
        self.refunds[refund["id"]] = refund
        # The events Stripe sends for a refund; charge.refunded also comes for partial refunds.
        self._emit("refund.created", refund)
        self._emit("charge.refunded", self._charge_object(pi))
        return _copy(refund)

    # -- lookups -----------------------------------------------------------------------------

    def _session_or_404(self, session_id: str) -> dict[str, Any]:
        session = self.sessions.get(session_id)
        if session is None:
            raise StripeHTTPError(
                404, f"No such checkout.session: '{session_id}'", code="resource_missing", param="session"
            )
        return session

    @staticmethod
    def _object_or_404(store: dict[str, dict[str, Any]], name: str, object_id: str) -> dict[str, Any]:
        if object_id not in store:
            raise StripeHTTPError(404, f"No such {name}: '{object_id}'", code="resource_missing", param="id")
        return store[object_id]

    def _session_or_keyerror(self, session_id: str) -> dict[str, Any]:
        if session_id not in self.sessions:
            raise KeyError(f"No such checkout.session: {session_id!r}")
        return self.sessions[session_id]


def _percent_param(value: Any, param: str) -> float:
    """``percent_off``: a number above 0 and at most 100, with at most two decimals."""
    try:
        percent = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise _param_error(f"Invalid decimal: {value}", param) from None
    if not percent.is_finite():
        raise _param_error(f"Invalid decimal: {value}", param)
    if not 0 < percent <= 100 or percent != percent.quantize(Decimal("0.01")):
        raise _param_error(
            "percent_off must be greater than 0 and at most 100, with at most two decimal places.", param
        )  # fake's wording
    return float(percent)


def _discount_amount(coupon: dict[str, Any], subtotal: int) -> int:
    """What a coupon takes off ``subtotal``: ``amount_off`` capped at the subtotal, or ``percent_off``
    of it rounded half up to a whole minor unit (Stripe does not document its rounding)."""
    if coupon["amount_off"] is not None:
        return min(coupon["amount_off"], subtotal)
    off = (Decimal(subtotal) * Decimal(str(coupon["percent_off"])) / 100).quantize(Decimal(1), ROUND_HALF_UP)
    return min(int(off), subtotal)


def _line_item(line: dict[str, Any], currency: str, subtotal: int, discount: int, now: int) -> dict[str, Any]:
    """A Checkout line item (``object: "item"``) with the inline Price Stripe makes from ``price_data``."""
    return {
        "id": _new_id("li"),
        "object": "item",
        "amount_discount": discount,
        "amount_subtotal": subtotal,
        "amount_tax": 0,
        "amount_total": subtotal - discount,
        "currency": currency,
        "description": line["name"],
        "metadata": {},
        "price": {
            "id": _new_id("price"),
            "object": "price",
            "active": False,  # prices made from price_data are archived at once
            "billing_scheme": "per_unit",
            "created": now,
            "currency": currency,
            "custom_unit_amount": None,
            "livemode": False,
            "lookup_key": None,
            "metadata": {},
            "nickname": None,
            "product": _new_id("prod"),
            "recurring": None,
            "tax_behavior": "unspecified",
            "tiers_mode": None,
            "transform_quantity": None,
            "type": "one_time",
            "unit_amount": line["unit_amount"],
            "unit_amount_decimal": str(line["unit_amount"]),
        },
        "quantity": line["quantity"],
    }


class _Handler(BaseHTTPRequestHandler):
    """Reads a request, lets ``FakeStripe`` answer it, and writes JSON back."""

    server_version = "FakeStripe/1.0"

    def _serve(self) -> None:
        fake: FakeStripe = self.server.fake  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, payload, extra, delay = fake._handle(self.command, self.path, dict(self.headers.items()), body)
        if delay:
            # Wait outside the lock so other requests still proceed; stop() cuts the wait short.
            fake._stopping.wait(delay)
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Stripe-Version", API_VERSION)
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. timed out during hang_next); nothing to answer

    do_GET = do_POST = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet; ``FakeStripe.requests`` is the log."""
