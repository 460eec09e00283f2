"""One unit of work on either backend: a real transaction, retried as a whole when the database says it may be.

- SQLite: Django's `transaction.atomic()`. The connection begins IMMEDIATE transactions (settings), so writers queue
  on the busy timeout; a "database is locked" that still escapes is retried.
- MongoDB: django-mongodb-backend's own `transaction.atomic()`, a multi-document transaction on a replica set
  (Django's `atomic()` does nothing there). A transaction that loses a write conflict is aborted by the server with
  the label `TransientTransactionError` and must be run again from the start: `unit_of_work` does that.

Conditional updates stay the concurrency guard (`filter(stock__gte=n).update(...)`); the transaction makes the steps
of one write all-or-nothing. Side effects go through `on_commit` (or the outbox, `shop.outbox`), never inline: a
network call inside a transaction would hold it open, and would happen even when the transaction rolls back.
"""

import functools
import logging
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
from django.db.models import Model, QuerySet
from django_mongodb_backend import transaction as mongo_transaction

from shop.exceptions import ShopBusy

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
M = TypeVar("M", bound=Model)

# A unit that keeps losing write conflicts is run again for up to this long (pymongo's own with_transaction() allows
# 120 s; a web request cannot wait that long), sleeping between tries: 5 ms doubled per try up to 250 ms, jittered.
RETRY_SECONDS = 10.0
BACKOFF_SECONDS = 0.005
BACKOFF_CAP_SECONDS = 0.25


class TransientError(Exception):
    """Raised inside a unit of work to have it run again from the start (e.g. a drawn number was taken)."""


def _connection():
    return connections[DEFAULT_DB_ALIAS]


def _uses_mongodb() -> bool:
    return _connection().vendor == "mongodb"


def in_transaction() -> bool:
    """Whether a unit of work of ours (or any atomic block other than a test case's wrapper) is open."""
    connection = _connection()
    if _uses_mongodb():
        return connection.in_atomic_block_mongo
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def on_commit(func: Callable[[], object]) -> None:
    """Runs `func` once the current transaction commits (never if it rolls back), at once when none is open.

    A failing `func` is logged, never raised: the change is committed by then, and a caller that saw an error would
    take it for a failed write (a unit of work would even run again). So a side effect that must happen goes through
    the outbox (`shop.outbox`), whose push is all that runs here.

    Django's own `on_commit` would wait forever under a test case's wrapping transaction; `in_transaction()` tells
    the wrapper from a real unit of work, so tests see the same order of events as production.
    """
    if in_transaction():
        transaction.on_commit(func, robust=True)
    else:
        _run_hook(func, robust=True)


@contextmanager
def atomic() -> Iterator[None]:
    """One transaction on either backend; a nested block joins the outer one (no savepoints on MongoDB)."""
    if _uses_mongodb():
        with _mongo_atomic():
            yield
        return
    connection = _connection()
    outermost_in_test = not in_transaction() and bool(connection.atomic_blocks)
    first_hook = len(connection.run_on_commit)
    with transaction.atomic():
        yield
    if outermost_in_test:
        # Under a test case's wrapping transaction this block is the real commit point: run the hooks it registered.
        hooks = connection.run_on_commit[first_hook:]
        del connection.run_on_commit[first_hook:]
        for _, hook, robust in hooks:
            _run_hook(hook, robust=robust)


def _run_hook(hook: Callable[[], object], *, robust: bool) -> None:
    if not robust:
        hook()
        return
    try:
        hook()
    except Exception:
        logger.exception("Error in an on-commit hook %r", hook)


@contextmanager
def _mongo_atomic() -> Iterator[None]:
    connection = _connection()
    block = mongo_transaction.atomic()
    block.__enter__()
    try:
        yield
    except BaseException:
        block.__exit__(*sys.exc_info())
        raise
    # Django's own atomic() (the admin saves inside one) does nothing on MongoDB, but while it is open Django refuses
    # to run commit hooks, and the backend's commit runs them: our commit must not see that block.
    django_block, connection.in_atomic_block = connection.in_atomic_block, False
    try:
        block.__exit__(None, None, None)
    except BaseException:
        _end_abandoned_session(connection)
        raise
    finally:
        connection.in_atomic_block = django_block


def _end_abandoned_session(connection) -> None:
    # The backend's atomic() leaves the session behind when the commit itself raises a driver error; the next
    # atomic() would then silently run without a transaction.
    if connection.in_atomic_block_mongo or connection.session is None:
        return
    session, connection.session = connection.session, None
    connection.run_on_commit = []
    try:
        if session.in_transaction:
            session.abort_transaction()
    except Exception:  # the server already aborted it
        logger.debug("abort after a failed commit raised", exc_info=True)
    finally:
        session.end_session()


def is_transient(error: BaseException) -> bool:
    """Whether running the whole unit again may succeed: a write conflict, a busy SQLite file, our own signal."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TransientError):
            return True
        has_label = getattr(current, "has_error_label", None)
        if has_label is not None and has_label("TransientTransactionError"):
            return True
        if isinstance(current, OperationalError) and "locked" in str(current).lower():
            return True
        current = current.__cause__ or current.__context__
    return False


def unit_of_work(func: Callable[P, T]) -> Callable[P, T]:
    """Decorates a service so that it runs as one transaction, run again from the start (with a growing, jittered
    pause, for up to RETRY_SECONDS) when the database reports a transient conflict, then raises ShopBusy (nothing was
    changed). Called inside another unit it simply joins that one, and the outer unit does the retrying."""

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        if in_transaction():
            return func(*args, **kwargs)
        deadline = time.monotonic() + RETRY_SECONDS
        attempt = 0
        while True:
            attempt += 1
            committed: list[bool] = []
            try:
                with atomic():
                    # The first hook of the unit: anything raised after it ran was raised after the commit.
                    on_commit(functools.partial(committed.append, True))
                    return func(*args, **kwargs)
            except Exception as error:
                if committed or not is_transient(error):
                    raise
                if time.monotonic() >= deadline:
                    logger.warning("%s: still conflicting after %d attempts; answered busy", func.__qualname__, attempt)
                    raise ShopBusy() from error
                logger.info("%s: transient conflict, attempt %d (%s)", func.__qualname__, attempt, error)
                time.sleep(random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_SECONDS * 2**attempt)))

    return run


def requires_replica_set_message() -> str | None:
    """Why this MongoDB cannot run the shop (no transactions: a standalone server), or None when it can."""
    connection = _connection()
    if not _uses_mongodb() or getattr(settings, "MONGODB_SKIP_REPLICA_SET_CHECK", False):
        return None
    if connection.features._supports_transactions:
        return None
    return (
        "The MongoDB server does not support transactions: it is a standalone server. The shop needs a replica set "
        "(Atlas always is one; a single mongod runs as a one-member replica set with --replSet rs0 and "
        "rs.initiate())."
    )


# Named points between the steps of multi-step writes -> what to do there. Always empty in production; the fault
# tests put a callable that raises here, to prove that a process dying at that point loses and doubles nothing.
FAULTS: dict[str, Callable[[], None]] = {}


def checkpoint(name: str) -> None:
    """Marks a point between two steps of a multi-step write (see FAULTS)."""
    fault = FAULTS.get(name)
    if fault is not None:
        fault()


def keep_written(instance: Model, relation: str, rows: list[Model]) -> None:
    """Hands `instance` the rows of its reverse relation `relation` that the caller just created, *all* of them (a
    new parent's children), as `prefetch_related` would have read them: `instance.<relation>.all()` then answers
    from memory, and `prefetch_related_objects` skips it. The rows are kept in the relation's model ordering."""
    manager = getattr(instance, relation)
    ordering = manager.model._meta.ordering
    if any(not isinstance(field, str) or field.startswith("-") or "__" in field for field in ordering):
        raise ValueError(f"keep_written sorts by plain ascending fields only, not {ordering}")
    queryset = manager.all()  # builds the relation's queryset; runs no query
    queryset._result_cache = sorted(rows, key=lambda row: tuple(getattr(row, field) for field in ordering))
    queryset._prefetch_done = True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[manager.field.remote_field.cache_name] = queryset


def unique_row(queryset: QuerySet[M]) -> M | None:
    """The one row a lookup on a unique field (or the primary key) names, or None: `.first()` without the ordering
    it adds, which costs about a tenth of such a query's time in Django, on the hot paths of an order."""
    return next(iter(queryset.order_by()[:1]), None)
