"""A small stateful fake of the Stripe API for tests (standard library only).

Stripe's servers are unreachable from our machines, so tests run the real ``stripe`` library against
this server on 127.0.0.1. It implements only the calls the shop makes:

- ``POST /v1/checkout/sessions``, ``GET /v1/checkout/sessions/{id}``,
  ``POST /v1/checkout/sessions/{id}/expire``
- ``POST /v1/refunds``

and helpers that play Stripe's part in the story (completing a session, building events and
signing webhook payloads). See ``/work/shared/guides/stripe.md``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

import stripe

API_VERSION: str = stripe.api_version  # the version the installed library pins ("2026-10-28.endive" in 16.1.0)
SESSION_MIN_LIFETIME = 30 * 60
SESSION_MAX_LIFETIME = 24 * 60 * 60

_KEY_RE = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SESSION_RE = re.compile(r"^/v1/checkout/sessions/([^/]+)$")
_EXPIRE_RE = re.compile(r"^/v1/checkout/sessions/([^/]+)/expire$")


class StripeHTTPError(Exception):
    """An error the fake answers with, in Stripe's ``{"error": {...}}`` shape."""

    def __init__(self, status: int, message: str, error_type: str = "invalid_request_error", **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"error": {"type": error_type, "message": message, **extra}}


class _UnknownRoute(StripeHTTPError):
    """404 for a route the fake does not implement."""


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
    id: str
    charge_id: str
    amount: int
    currency: str
    session_id: str | None
    amount_refunded: int = 0
    refunds: list[str] = field(default_factory=list)


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


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


def _int_param(value: Any, param: str, minimum: int | None = None) -> int:
    """Parse an integer parameter the way Stripe validates it (400 with ``param`` set)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise StripeHTTPError(400, f"Invalid integer: {value}", param=param) from None
    if minimum is not None and number < minimum:
        raise StripeHTTPError(400, f"This value must be greater than or equal to {minimum}.", param=param)
    return number


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
    """A fake Stripe API on 127.0.0.1, serving from a daemon thread until ``stop()``."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.sessions: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.payment_intents: dict[str, _PaymentIntent] = {}
        self._idempotency: dict[tuple[str, str], _Stored] = {}
        self._failures: list[tuple[int, str, str]] = []
        self._hangs: list[float] = []
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
        """Forget all state (sessions, refunds, keys, records, pending failures and hangs)."""
        with self._lock:
            self.requests.clear()
            self.sessions.clear()
            self.refunds.clear()
            self.payment_intents.clear()
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

    def fail_next(
        self, status: int = 500, error_type: str = "api_error", message: str = "Injected failure", count: int = 1
    ) -> None:
        """Make the next ``count`` requests fail with ``{"error": {"type", "message"}}``.

        An injected failure happens before the request is handled: nothing changes and nothing is
        stored for its idempotency key, so a retry with the same key runs normally.
        """
        with self._lock:
            self._failures.extend([(status, error_type, message)] * count)

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
        payment_status: str = "paid",
        amount_total: int | None = None,
        currency: str | None = None,
    ) -> dict[str, Any]:
        """Mark a session ``complete`` as if the shopper paid; return a copy of the session.

        A ``complete`` session may be completed again, to move an async payment from ``unpaid``
        to ``paid``; an expired one cannot. ``amount_total``/``currency`` override what was paid
        (to test mismatches).
        """
        with self._lock:
            session = self._session_or_keyerror(session_id)
            if session["status"] == "expired":
                raise ValueError(f"Checkout Session {session_id} is expired and cannot be completed")
            if amount_total is not None:
                session["amount_total"] = amount_total
                session["amount_subtotal"] = amount_total
            if currency is not None:
                session["currency"] = currency.lower()
            session["status"] = "complete"
            session["payment_status"] = payment_status
            if session["payment_intent"] is None and payment_status != "no_payment_required":
                pi = _PaymentIntent(
                    id=_new_id("pi"),
                    charge_id=_new_id("ch"),
                    amount=session["amount_total"],
                    currency=session["currency"],
                    session_id=session_id,
                )
                self.payment_intents[pi.id] = pi
                session["payment_intent"] = pi.id
            elif session["payment_intent"] is not None:
                pi = self.payment_intents[session["payment_intent"]]
                pi.amount, pi.currency = session["amount_total"], session["currency"]
            session["url"] = None  # Stripe clears the URL once a session is no longer open
            return json.loads(json.dumps(session))

    def expire_session(self, session_id: str) -> dict[str, Any]:
        """Expire an open session as Stripe's timer would; return a copy of the session."""
        with self._lock:
            session = self._session_or_keyerror(session_id)
            if session["status"] != "open":
                raise ValueError(f"Checkout Session {session_id} is {session['status']}, not open")
            session["status"] = "expired"
            session["url"] = None
            return json.loads(json.dumps(session))

    def make_event(self, type: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Build a snapshot event around ``obj`` (a session or charge dict)."""
        return {
            "id": _new_id("evt"),
            "object": "event",
            "type": type,
            "data": {"object": obj},
            "created": int(time.time()),
            "api_version": API_VERSION,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
        }

    def charge_refunded_object(
        self, payment_intent: str, amount_refunded: int | None = None, refunded: bool | None = None
    ) -> dict[str, Any]:
        """Build the Charge a ``charge.refunded`` event carries for ``payment_intent``.

        ``amount_refunded`` defaults to what was refunded through the fake. ``refunded`` is, as at
        Stripe, true only for a full refund, unless given; for an unknown payment intent the
        charge amount is taken to be ``amount_refunded``.
        """
        with self._lock:
            pi = self.payment_intents.get(payment_intent)
            if amount_refunded is None:
                amount_refunded = pi.amount_refunded if pi else 0
            amount = pi.amount if pi else amount_refunded
            return {
                "id": pi.charge_id if pi else _new_id("ch"),
                "object": "charge",
                "amount": amount,
                "amount_captured": amount,
                "amount_refunded": amount_refunded,
                "currency": pi.currency if pi else "eur",
                "payment_intent": payment_intent,
                "paid": True,
                "captured": True,
                "refunded": amount_refunded >= amount if refunded is None else refunded,
                "status": "succeeded",
                "livemode": False,
                "created": int(time.time()),
                "metadata": {},
            }

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
            status, payload = self._dispatch(method, path, pairs, lower, idem_key, record, failure, extra)
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
            return stored.status, json.loads(json.dumps(stored.body))

        try:
            status, payload = 200, self._route(method, path, record.params)
        except _UnknownRoute as exc:
            return exc.status, exc.body  # never reached an endpoint, so nothing to store for the key
        except StripeHTTPError as exc:
            status, payload = exc.status, exc.body
        if store_key is not None:
            # Like Stripe, store what the endpoint answered (errors included) for replays.
            self._idempotency[store_key] = _Stored(method, path, sorted_pairs, status, json.loads(json.dumps(payload)))
            extra["Idempotency-Key"] = idem_key or ""
        return status, payload

    def _route(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        if path == "/v1/checkout/sessions" and method == "POST":
            return self._create_session(params)
        if (match := _SESSION_RE.match(path)) and method == "GET":
            return json.loads(json.dumps(self._session_or_404(match.group(1))))
        if (match := _EXPIRE_RE.match(path)) and method == "POST":
            return self._expire_via_api(match.group(1))
        if path == "/v1/refunds" and method == "POST":
            return self._create_refund(params)
        raise _UnknownRoute(404, f"Unrecognized request URL ({method}: {path}).")

    def _create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        line_items = params.get("line_items")
        if not isinstance(line_items, list) or not line_items:
            raise StripeHTTPError(400, "Missing required param: line_items.", param="line_items")
        amount_total = 0
        currencies: set[str] = set()
        for i, item in enumerate(line_items):
            price_data = item.get("price_data") if isinstance(item, dict) else None
            if not isinstance(price_data, dict):
                # Real Stripe also accepts `price` ids; the shop never uses them, so neither do we.
                raise StripeHTTPError(
                    400, "The fake supports line_items with price_data only.", param=f"line_items[{i}][price_data]"
                )
            if not price_data.get("currency"):
                raise StripeHTTPError(
                    400, "Missing required param: currency.", param=f"line_items[{i}][price_data][currency]"
                )
            unit = _int_param(price_data.get("unit_amount"), f"line_items[{i}][price_data][unit_amount]", 0)
            qty = _int_param(item.get("quantity"), f"line_items[{i}][quantity]", 1)
            amount_total += unit * qty
            currencies.add(price_data["currency"].lower())
        if len(currencies) > 1:
            raise StripeHTTPError(400, "All line items must use the same currency.", param="line_items")

        now = int(time.time())
        expires_at = now + SESSION_MAX_LIFETIME
        if "expires_at" in params:
            expires_at = _int_param(params["expires_at"], "expires_at")
            if not now + SESSION_MIN_LIFETIME <= expires_at <= now + SESSION_MAX_LIFETIME:
                raise StripeHTTPError(
                    400,
                    "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session "
                    "creation.",
                    param="expires_at",
                )
        metadata = params.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise StripeHTTPError(400, "Invalid object", param="metadata")
        session_id = _new_id("cs_test")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "status": "open",
            "payment_status": "unpaid",
            "amount_subtotal": amount_total,
            "amount_total": amount_total,
            "currency": currencies.pop(),
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
        }
        self.sessions[session_id] = session
        return json.loads(json.dumps(session))

    def _expire_via_api(self, session_id: str) -> dict[str, Any]:
        session = self._session_or_404(session_id)
        if session["status"] != "open":
            raise StripeHTTPError(
                400,
                f'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a '
                f'status of "{session["status"]}".',
            )
        session["status"] = "expired"
        session["url"] = None
        return json.loads(json.dumps(session))

    def _create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        pi_id = params.get("payment_intent")
        if not pi_id:
            raise StripeHTTPError(400, "Missing required param: payment_intent.", param="payment_intent")
        pi = self.payment_intents.get(pi_id)
        if pi is None:
            raise StripeHTTPError(
                400, f"No such payment_intent: '{pi_id}'", code="resource_missing", param="payment_intent"
            )
        remaining = pi.amount - pi.amount_refunded
        amount = _int_param(params["amount"], "amount", 1) if "amount" in params else remaining
        if amount > remaining or remaining <= 0:
            raise StripeHTTPError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining}).",
                code="amount_too_large",
                param="amount",
            )
        pi.amount_refunded += amount
        refund = {
            "id": _new_id("re"),
            "object": "refund",
            "amount": amount,
            "currency": pi.currency,
            "payment_intent": pi.id,
            "charge": pi.charge_id,
            "status": "succeeded",
            "reason": params.get("reason"),
            "metadata": params.get("metadata") or {},
            "created": int(time.time()),
        }
        pi.refunds.append(refund["id"])
        self.refunds[refund["id"]] = refund
        return json.loads(json.dumps(refund))

    def _session_or_404(self, session_id: str) -> dict[str, Any]:
        session = self.sessions.get(session_id)
        if session is None:
            raise StripeHTTPError(
                404, f"No such checkout.session: '{session_id}'", code="resource_missing", param="session"
            )
        return session

    def _session_or_keyerror(self, session_id: str) -> dict[str, Any]:
        if session_id not in self.sessions:
            raise KeyError(f"No such checkout.session: {session_id!r}")
        return self.sessions[session_id]


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
