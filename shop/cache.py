"""The shop's cache backends: diskcache's (the default, shared through this host's disk by every worker and command)
and Django's Redis one, both made fail-safe.

A cache is an optimisation: when it fails (Redis down, the disk cache's files damaged or deleted) a page is rendered
from the database and a write still commits. Every operation that raises is logged and answered as a miss.
"""

import logging
import os
import threading
import time
from pathlib import Path

from diskcache import DjangoCache, FanoutCache
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

# Seconds between two logged cache failures of one process: a dead cache must not flood the log on every request.
LOG_EVERY = 10.0


class FailSafeCacheMixin:
    """Turns every failing cache operation into a logged miss (reads) or a no-op (writes)."""

    _last_logged = 0.0

    def _failed(self, operation: str, error: Exception, default):
        now = time.monotonic()
        if now - self._last_logged >= LOG_EVERY:
            type(self)._last_logged = now
            logger.error("Cache %s failed; serving without the cache: %r", operation, error)
        return default

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version=version)
        except Exception as error:
            return self._failed("get", error, default)

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version=version)
        except Exception as error:
            return self._failed("get_many", error, {})

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version=version)
        except Exception as error:
            return self._failed("has_key", error, False)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None, **kwargs):
        try:
            return super().set(key, value, timeout, version=version, **kwargs)
        except Exception as error:
            return self._failed("set", error, False)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None, **kwargs):
        try:
            return super().add(key, value, timeout, version=version, **kwargs)
        except Exception as error:
            return self._failed("add", error, False)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version=version)
        except Exception as error:
            return self._failed("set_many", error, list(data))

    def delete(self, key, version=None, **kwargs):
        try:
            return super().delete(key, version=version, **kwargs)
        except Exception as error:
            return self._failed("delete", error, False)

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version=version)
        except Exception as error:
            return self._failed("delete_many", error, None)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None, **kwargs):
        try:
            return super().touch(key, timeout, version=version, **kwargs)
        except Exception as error:
            return self._failed("touch", error, False)

    def clear(self):
        try:
            return super().clear()
        except Exception as error:
            return self._failed("clear", error, None)


class HostDiskCache(FailSafeCacheMixin, DjangoCache):
    """diskcache's backend, fail-safe, with its SQLite connections kept open between requests, and reopened when
    its directory was deleted or replaced while the shop runs.

    Django closes every cache at the end of each request (`close_caches` on `request_finished`): right for a socket
    pool, but here it meant reopening the cache's database files on every request, which cost more than the page read
    itself. Kept open, though, a process would go on using files that an operator deleted (every later process then
    uses a new, different cache: workers and commands would no longer see each other's version tokens). So at most
    once a second each process compares the directory's identity with the one it opened, and reopens when it changed.
    Files that cannot be opened at all (damaged) leave the process without a cache, retrying once a second, until an
    operator deletes them.
    """

    CHECK_EVERY = 1.0

    def __init__(self, directory, params):
        BaseCache.__init__(self, params)  # not DjangoCache's: it opens the files, which may fail
        self._open_args = (
            directory,
            params.get("SHARDS", 8),
            params.get("DATABASE_TIMEOUT", 0.010),
            params.get("OPTIONS", {}),
        )
        self._reopen_lock = threading.Lock()
        self._cache = None
        self._identity = None
        self._open()

    @property
    def directory(self) -> str:
        return self._open_args[0]

    def _open(self) -> None:
        self._checked_at = time.monotonic()
        directory, shards, timeout, options = self._open_args
        try:
            self._cache = FanoutCache(directory, shards, timeout, **options)
        except Exception as error:
            self._cache = None
            self._failed("open", error, None)
        self._identity = self._current_identity()

    def _current_identity(self) -> tuple[int, int] | None:
        try:
            stat = os.stat(Path(self._open_args[0]) / "000" / "cache.db")
        except OSError:
            return None
        return stat.st_dev, stat.st_ino

    def _check_files(self) -> None:
        now = time.monotonic()
        if now - self._checked_at < self.CHECK_EVERY:
            if self._cache is None:
                raise ConnectionError("the disk cache could not be opened")
            return
        self._checked_at = now
        identity = self._current_identity()
        if self._cache is not None and identity is not None and identity == self._identity:
            return
        with self._reopen_lock:
            old = self._cache
            if old is not None:
                logger.warning("The disk cache in %s was deleted or replaced; reopening it", self.directory)
            self._open()
            if old is not None:
                try:
                    old.close()
                except Exception:  # files already gone
                    logger.debug("closing the replaced disk cache failed", exc_info=True)
        if self._cache is None:
            raise ConnectionError("the disk cache could not be opened")

    def get(self, key, default=None, version=None):
        try:
            self._check_files()
        except Exception as error:
            return self._failed("open", error, default)
        return super().get(key, default, version=version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None, **kwargs):
        try:
            self._check_files()
        except Exception as error:
            return self._failed("open", error, False)
        return super().set(key, value, timeout, version=version, **kwargs)

    def close(self, **kwargs) -> None:
        pass


class FailSafeRedisCache(FailSafeCacheMixin, RedisCache):
    """Django's Redis cache; a Redis that is down or slow is a miss, never a 500."""
