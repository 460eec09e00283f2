"""The worker's periodic job of payments: unpaid orders expire on time, with no cron to set up."""

import logging

from huey import crontab

from orders.selectors import payment_window
from payments.services import expire_stale_orders
from shop.queue import HUEY, fresh_connections

logger = logging.getLogger(__name__)


@HUEY.periodic_task(crontab(minute="*"))
@fresh_connections
def expire_unpaid_orders() -> None:
    report = expire_stale_orders(older_than=payment_window())
    if report.expired or report.failed:
        logger.info("Expired %d unpaid orders; %d to retry", len(report.expired), len(report.failed))
