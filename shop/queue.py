"""The task queue that carries the outbox's work and the periodic jobs: Huey.

Huey because it is one small pure-Python package that runs on Redis in production and on a SQLite file with zero
services (the embedded default, `make run`), with retries, delays and periodic (crontab) tasks built in. Celery needs
a broker even on one machine and much more configuration; RQ has no embedded storage and needs a separate scheduler.

`settings.QUEUE_URL`:
- empty: a SQLite file on this host (`var/queue.sqlite3`): web processes and the worker of this host share it;
- `redis://host:port/db`: Redis, for workers on several machines;
- `immediate`: run each task at once in the calling process (the test suite).

The queue only ever carries ids: what must happen is in the database (`shop.models.OutboxMessage`), so losing the
queue's contents loses nothing (the periodic sweep finds what is still due).
"""

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections
from huey import Huey
from huey.storage import RedisStorage, SqliteStorage
from redis import ConnectionPool

QUEUE_NAME = "shop"


def build_huey(url: str) -> Huey:
    """A Huey for the given QUEUE_URL (see the module docstring). Raises ImproperlyConfigured for a URL of another
    scheme (a typo such as `redis:/host` must not quietly become a SQLite file that other processes do not share)."""
    url = url.strip()
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", url)
    if scheme and (scheme.group(1) not in ("redis", "rediss", "unix", "sqlite") or "://" not in url):
        raise ImproperlyConfigured(
            f"QUEUE_URL={url!r} is none of: empty (a SQLite file in var/), a file path, sqlite://PATH, redis://..., "
            "rediss://..., unix://..., immediate."
        )
    if url == "immediate":
        return Huey(QUEUE_NAME, immediate=True, results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        # Bounded waits: a Redis that stops answering must not hold a request's commit hook (the push is then left
        # to the sweep); above the worker's 1 s blocking read.
        pool = ConnectionPool.from_url(url, socket_connect_timeout=1, socket_timeout=2)
        return Huey(QUEUE_NAME, storage_class=RedisStorage, connection_pool=pool, results=False)
    path = Path(url.removeprefix("sqlite://") if url else settings.BASE_DIR / "var" / "queue.sqlite3")
    path.parent.mkdir(parents=True, exist_ok=True)
    return Huey(QUEUE_NAME, storage_class=SqliteStorage, filename=str(path), results=False)


HUEY = build_huey(settings.QUEUE_URL)

P = ParamSpec("P")
T = TypeVar("T")


def fresh_connections(func: Callable[P, T]) -> Callable[P, T]:
    """For a task: drops broken or outlived database connections around it, as Django does around each request (a
    worker thread keeps its connection between tasks). In immediate mode the task runs inside the caller: untouched."""

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        if HUEY.immediate:
            return func(*args, **kwargs)
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return run
