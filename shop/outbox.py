"""The outbox: side effects recorded in the same transaction as the change that causes them, carried out after
commit by a worker, retried with backoff, never dropped.

    enqueue("mail.send", message={...})        # inside the unit of work that made the change

`enqueue` inserts an `OutboxMessage` and, once the transaction commits, puts its id on the queue (`shop.queue`). The
worker's `deliver` takes the message with a conditional update (a lease: two workers never run one message at once),
runs the topic's handler and marks it done. A failure is retried with exponential backoff and jitter; after
`OUTBOX_MAX_ATTEMPTS` the message is marked failed and logged as an error for staff (the admin lists failed
messages and can retry them). A crash between commit and the push, or a lost queue, only delays a message: the
periodic `sweep` delivers whatever is due.

Handlers are registered by topic with `@handler("topic")` in the module that owns the work. A handler may run more
than once for one message (a worker can die after the effect and before marking it done), so handlers are
idempotent where the outside world allows it (gateway calls carry idempotency keys; an email may, rarely, repeat).
"""

import logging
import random
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone

from shop.db import on_commit, unit_of_work
from shop.models import OutboxMessage, OutboxStatus
from shop.queue import HUEY, fresh_connections

logger = logging.getLogger(__name__)

HANDLERS: dict[str, Callable[[dict], None]] = {}
LEASE = timedelta(minutes=5)  # a worker that took a message and died: it is due again after this
FIRST_RETRY_SECONDS = 10
LONGEST_RETRY_SECONDS = 60 * 60


def handler(topic: str) -> Callable[[Callable[[dict], None]], Callable[[dict], None]]:
    """Registers the function that carries out messages of `topic` (it receives the payload)."""

    def register(func: Callable[[dict], None]) -> Callable[[dict], None]:
        HANDLERS[topic] = func
        return func

    return register


def enqueue(topic: str, *, dedupe_key: str = "", after_seconds: float = 0, **payload) -> OutboxMessage:
    """Records a side effect in the current transaction (or at once outside one); carried out after commit, or
    `after_seconds` later (a check that something else finished, say).

    The payload must be JSON: ids as strings, amounts as ints. With a `dedupe_key`, a message still pending under the
    same key stands for this one too (for effects that are the same however often they are asked for).
    """
    if topic not in HANDLERS:
        raise ValueError(f"no outbox handler for {topic!r}")
    if dedupe_key:
        pending = OutboxMessage.objects.filter(dedupe_key=dedupe_key, status=OutboxStatus.PENDING).first()
        if pending is not None:
            return pending
    available_at = timezone.now() + timedelta(seconds=after_seconds)
    message = OutboxMessage.objects.create(
        topic=topic, payload=payload, dedupe_key=dedupe_key, available_at=available_at
    )
    on_commit(lambda: push(message_id=str(message.pk), delay=after_seconds))
    return message


def push(*, message_id: str, delay: float = 0) -> None:
    """Hands a message to the queue; when the queue does not answer, the periodic sweep will deliver it."""
    try:
        if delay:
            deliver_task.schedule((message_id,), delay=delay)
        else:
            deliver_task(message_id)
    except Exception:
        logger.exception("Could not queue outbox message %s; the sweep will deliver it", message_id)


def retry_delay(attempts: int) -> float:
    """Seconds before the next try: exponential (10 s, 20 s, 40 s ... at most an hour), with full jitter."""
    ceiling = min(LONGEST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0))
    return random.uniform(ceiling / 2, ceiling)


def deliver(*, message_id: str) -> str:
    """Carries out one message if it is due and nobody else holds it. Returns done, retry, failed or skipped."""
    now = timezone.now()
    dedupe_key = OutboxMessage.objects.filter(pk=message_id).values_list("dedupe_key", flat=True).first()
    # Taking it also takes its dedupe key away while it runs: an effect asked for now must not count as done by a
    # run that may already be past the point where it would have seen the new change.
    taken = OutboxMessage.objects.filter(pk=message_id, status=OutboxStatus.PENDING, available_at__lte=now).update(
        available_at=now + LEASE, attempts=F("attempts") + 1, dedupe_key=""
    )
    if not taken:
        return "skipped"
    message = OutboxMessage.objects.get(pk=message_id)
    message.dedupe_key = dedupe_key or ""
    if message.attempts > settings.OUTBOX_MAX_ATTEMPTS:  # every earlier try ended with its process (no error came back)
        return _failed(message, RuntimeError("no try came back: the process running it ended each time"), run=False)
    try:
        HANDLERS[message.topic](message.payload)
    except Exception as error:
        return _failed(message, error)
    if not _ours(message).update(status=OutboxStatus.DONE, done_at=timezone.now(), last_error=""):
        logger.warning("Outbox message %s (%s) outlived its lease; another worker took it", message.pk, message.topic)
    return "done"


def _ours(message: OutboxMessage):
    """The message while this worker's lease on it holds: taken by no one since (each take counts an attempt)."""
    return OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.PENDING, attempts=message.attempts)


def _failed(message: OutboxMessage, error: Exception, *, run: bool = True) -> str:
    detail = f"{type(error).__name__}: {error}"[:2000]
    if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS or not run:
        if not _ours(message).update(status=OutboxStatus.FAILED, last_error=detail):
            return "skipped"  # another worker took it meanwhile (this run outlived its lease): its outcome stands
        logger.error(
            "Outbox message %s (%s) failed %d times and needs staff: %s",
            message.pk,
            message.topic,
            message.attempts,
            detail,
        )
        return "failed"
    delay = retry_delay(message.attempts)
    # Waiting for its retry, it stands for later asks of the same effect again: the retry comes after them.
    if not _ours(message).update(
        available_at=timezone.now() + timedelta(seconds=delay), last_error=detail, dedupe_key=message.dedupe_key
    ):
        return "skipped"
    logger.warning("Outbox message %s (%s) failed, retry in %.0f s: %s", message.pk, message.topic, delay, detail)
    push(message_id=str(message.pk), delay=delay)
    return "retry"


def sweep(*, limit: int = 500) -> dict[str, int]:
    """Delivers every message that is due (lost pushes, expired leases, retries whose push was lost)."""
    due = OutboxMessage.objects.filter(status=OutboxStatus.PENDING, available_at__lte=timezone.now())
    outcomes: dict[str, int] = {}
    for message_id in list(due.order_by("available_at").values_list("pk", flat=True)[:limit]):
        outcome = deliver(message_id=str(message_id))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


# Sent inside a staff retry's transaction with `retried=[(message id, topic, attempts before)]`: the audit trail
# records who put the messages back (audit sits above shop, so it listens rather than being called).
messages_retried = Signal()


@unit_of_work
def retry_failed(*, message_ids: list) -> int:
    """Staff put failed messages back in the queue (after fixing what made them fail). Returns how many."""
    failed = list(
        OutboxMessage.objects.filter(pk__in=list(message_ids), status=OutboxStatus.FAILED).values_list(
            "pk", "topic", "attempts"
        )
    )
    if not failed:
        return 0
    count = OutboxMessage.objects.filter(pk__in=[pk for pk, _, _ in failed], status=OutboxStatus.FAILED).update(
        status=OutboxStatus.PENDING, attempts=0, available_at=timezone.now()
    )
    messages_retried.send(sender=OutboxMessage, retried=failed)
    for pk, _, _ in failed:
        on_commit(lambda pk=pk: push(message_id=str(pk)))
    return count


@HUEY.task()
@fresh_connections
def deliver_task(message_id: str) -> str:
    return deliver(message_id=message_id)
