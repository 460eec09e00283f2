"""The worker's periodic job of orders: the stock ledger is checked every hour; a difference is logged as an error
for staff (repairing is a person's decision: `manage.py check_stock --repair`)."""

import logging

from huey import crontab

from orders.services import check_stock
from shop.queue import HUEY, fresh_connections

logger = logging.getLogger(__name__)


@HUEY.periodic_task(crontab(minute="17"))
@fresh_connections
def check_stock_hourly() -> None:
    report = check_stock()
    if not report.clean:
        logger.error(
            "check_stock: %d item(s) differ from the ledger and %d order holding(s) from the orders; "
            "run manage.py check_stock",
            len(report.stock_mismatches),
            len(report.held_mismatches),
        )
