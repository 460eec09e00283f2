"""Reads of the shop's own: what the health check reports."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

from shop.models import Heartbeat, OutboxMessage, OutboxStatus

WORKER = "worker"
# The worker beats every minute (shop/tasks.py); three missed beats and it is reported stale.
WORKER_STALE_AFTER = timedelta(minutes=3)


@dataclass
class Health:
    database: str = "ok"
    cache: str = "ok"
    worker: str = "ok"
    outbox: dict[str, int] = field(default_factory=dict)

    @property
    def serving(self) -> bool:
        """Whether this app server can serve: only the database is vital; the cache and the worker can lag."""
        return self.database == "ok"

    def as_dict(self) -> dict:
        return {
            "status": "ok" if self.serving and self.cache == self.worker == "ok" else "degraded",
            "database": self.database,
            "cache": self.cache,
            "worker": self.worker,
            "outbox": self.outbox,
        }


def health() -> Health:
    """The state of the database, the cache and the worker (its last heartbeat, its backlog, failed messages)."""
    report = Health()
    try:
        beat = Heartbeat.objects.filter(name=WORKER).values_list("beat_at", flat=True).first()
        counts = dict(
            OutboxMessage.objects.exclude(status=OutboxStatus.DONE)
            .values_list("status")
            .annotate(count=Count("pk"))
            .values_list("status", "count")
        )
    except Exception as error:
        report.database = f"error: {type(error).__name__}"
        report.worker = "unknown"
        return _check_cache(report)
    report.outbox = {"pending": counts.get(OutboxStatus.PENDING, 0), "failed": counts.get(OutboxStatus.FAILED, 0)}
    if beat is None:
        report.worker = "never seen"
    elif timezone.now() - beat > WORKER_STALE_AFTER:
        report.worker = f"stale: last heartbeat {int((timezone.now() - beat).total_seconds())} s ago"
    if report.outbox["failed"]:  # added to what the heartbeat says: a stale worker must still show
        failed = f"{report.outbox['failed']} failed outbox messages need staff"
        report.worker = failed if report.worker == "ok" else f"{report.worker}; {failed}"
    return _check_cache(report)


def _check_cache(report: Health) -> Health:
    probe = f"health:{timezone.now().timestamp()}"
    # The fail-safe backends answer a failed write with False and a failed read with the default.
    if cache.set(probe, "1", timeout=5) is False or cache.get(probe) != "1":
        report.cache = "error: not answering"
    else:
        cache.delete(probe)
    return report
