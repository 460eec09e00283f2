"""The worker's periodic jobs of the shop itself: deliver what the outbox holds, say it is alive."""

from huey import crontab

from shop.outbox import sweep
from shop.queue import HUEY, fresh_connections
from shop.selectors import WORKER
from shop.services import record_heartbeat


@HUEY.periodic_task(crontab(minute="*"))
@fresh_connections
def sweep_outbox() -> dict[str, int]:
    """Messages whose push was lost, whose worker died, or whose retry is due."""
    return sweep()


@HUEY.periodic_task(crontab(minute="*"))
@fresh_connections
def heartbeat() -> None:
    record_heartbeat(name=WORKER)
