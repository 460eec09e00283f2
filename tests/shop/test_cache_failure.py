"""A cache is an optimisation: when it fails, pages are rendered from the database and writes still commit; a disk
cache deleted while the shop runs is reopened, so every process keeps sharing one."""

import shutil

import pytest
from django.core.cache import caches

from catalog.selectors import ITEMS, catalog_version
from orders.models import Order
from shop.cache import HostDiskCache
from shop.models import OutboxMessage, OutboxStatus
from tests.factories import ItemFactory
from tests.orders.helpers import place, stock_of


class BrokenCache(HostDiskCache):
    """The disk cache with its files damaged: every operation of diskcache raises."""

    def __init__(self, directory, params):
        super().__init__(directory, params)
        self.broken = True

    def _check_files(self) -> None:
        if self.broken:
            raise OSError("file is not a database")


@pytest.fixture
def broken_cache(settings, tmp_path):
    # Django's setting_changed receiver drops the open caches: the next use builds this one.
    settings.CACHES = {"default": {"BACKEND": f"{__name__}.BrokenCache", "LOCATION": str(tmp_path / "cache")}}
    settings.CACHE_IS_SHARED = True  # versions kept as tokens in this cache (as on one SQLite host, or with Redis)
    return caches["default"]


def test_pages_and_orders_work_with_a_broken_cache(client, user, broken_cache, caplog):
    item = ItemFactory(stock=5, title="Sturdy Kettle")

    assert client.get("/items/").status_code == 200
    assert "Sturdy Kettle" in client.get(item.get_absolute_url()).content.decode()
    order = place(user, (item, 2))

    assert Order.objects.get(pk=order.pk).lines.count() == 1 and stock_of(item) == 3
    assert catalog_version(ITEMS) is None  # no version to cache pages under: rendered from the database
    assert any("Cache" in record.message for record in caplog.records)
    # The version tokens that could not be replaced are retried by the worker until the cache answers.
    retries = OutboxMessage.objects.filter(topic="cache.replace_token")
    # One pending retry per version token, however many changes happened meanwhile.
    keys = list(retries.values_list("dedupe_key", flat=True))
    assert len(keys) == len(set(keys))
    assert retries.exists() and {message.status for message in retries} == {OutboxStatus.PENDING}

    broken_cache.broken = False
    from shop.outbox import sweep

    OutboxMessage.objects.update(available_at=OutboxMessage.objects.order_by("created_at").first().created_at)
    sweep()
    assert set(retries.values_list("status", flat=True)) == {OutboxStatus.DONE}


def test_a_disk_cache_deleted_while_the_shop_runs_is_reopened(tmp_path):
    params = {"OPTIONS": {}}
    first = HostDiskCache(str(tmp_path / "cache"), params)
    second = HostDiskCache(str(tmp_path / "cache"), params)  # another worker of the same host
    first.CHECK_EVERY = second.CHECK_EVERY = 0
    first.set("catalog:version", "old", timeout=None)
    assert second.get("catalog:version") == "old"

    shutil.rmtree(tmp_path / "cache")  # an operator clears the cache
    third = HostDiskCache(str(tmp_path / "cache"), params)  # a process started afterwards: a new, empty cache
    third.set("catalog:version", "new", timeout=None)

    assert first.get("catalog:version") == "new" and second.get("catalog:version") == "new"


def test_a_disk_cache_whose_files_are_damaged_serves_misses_until_they_are_deleted(tmp_path):
    params = {"OPTIONS": {}}
    cache = HostDiskCache(str(tmp_path / "cache"), params)
    cache.CHECK_EVERY = 0
    cache.set("key", "value")
    for path in (tmp_path / "cache").rglob("cache.db*"):
        path.write_bytes(b"\x00garbage" * 400)

    opened_later = HostDiskCache(str(tmp_path / "cache"), params)  # a worker restarted meanwhile
    opened_later.CHECK_EVERY = 0

    assert opened_later.get("key") is None and opened_later.set("key", "x") is False
    assert cache.get("key", "fallback") in ("fallback", "value")  # never an exception
    shutil.rmtree(tmp_path / "cache")  # what the README tells an operator to do
    assert opened_later.set("key", "fresh") is not False and cache.get("key") == "fresh"
