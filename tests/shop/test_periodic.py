"""The worker's periodic jobs, called as the worker calls them."""

from datetime import timedelta

from django.utils import timezone

from catalog.models import Item
from orders.models import Order, OrderStatus
from orders.tasks import check_stock_hourly
from payments.tasks import expire_unpaid_orders
from shop.models import Heartbeat
from shop.selectors import WORKER
from shop.tasks import heartbeat, sweep_outbox
from tests.factories import ItemFactory
from tests.orders.helpers import place, stock_of


def test_unpaid_orders_expire_without_cron(user):
    item = ItemFactory(stock=4)
    stale, fresh = place(user, (item, 1)), place(user, (item, 1))
    Order.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(minutes=61))

    expire_unpaid_orders.call_local()

    assert Order.objects.get(pk=stale.pk).status == OrderStatus.EXPIRED
    assert Order.objects.get(pk=fresh.pk).status == OrderStatus.PENDING_PAYMENT
    assert stock_of(item) == 3


def test_the_hourly_stock_check_logs_a_difference_for_staff(db, caplog):
    item = ItemFactory(stock=4)
    check_stock_hourly.call_local()
    assert not [record for record in caplog.records if record.levelname == "ERROR"]

    Item.objects.filter(pk=item.pk).update(stock=9)
    check_stock_hourly.call_local()
    assert any(record.levelname == "ERROR" and "check_stock" in record.message for record in caplog.records)


def test_the_heartbeat_and_the_sweep_run(db):
    heartbeat.call_local()
    assert Heartbeat.objects.get(name=WORKER).beat_at > timezone.now() - timedelta(seconds=5)
    assert sweep_outbox.call_local() == {}
