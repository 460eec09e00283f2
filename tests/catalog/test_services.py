import threading

import pytest
from django.db import connection

from catalog.exceptions import NotEnoughStock
from catalog.models import Item, StockMove, StockReason
from catalog.selectors import ITEMS, catalog_version, held_by_orders, ledger_totals, stock_mismatches
from catalog.services import (
    adjust_stock,
    create_item,
    release_stock,
    repair_stock,
    reserve_stock,
    set_stock,
    update_items,
)
from shop import db as shop_db
from tests.factories import ItemFactory, UserFactory

pytestmark = pytest.mark.django_db


def stock_of(item) -> int:
    return Item.objects.values_list("stock", flat=True).get(pk=item.pk)


def moves_of(item) -> list[tuple[int, str]]:
    return list(item.stock_moves.order_by("created_at", "pk").values_list("delta", "reason"))


def test_saving_a_stale_item_never_writes_its_stock_back(make_item):
    make_item(stock=5)
    stale = Item.objects.get()  # e.g. an admin or API form read before the order

    assert reserve_stock(item_id=stale.pk, quantity=2, order_number="ORDER001")
    stale.title = "Renamed Pan"
    stale.save()

    fresh = Item.objects.get()
    assert (fresh.title, fresh.stock) == ("Renamed Pan", 3)
    assert ledger_totals() == {fresh.pk: 3}


def test_ledger_sums_equal_stock_after_reserve_release_adjust_and_set(make_item, seller):
    item = make_item(stock=10)

    reserve_stock(item_id=item.pk, quantity=3, order_number="ORDER001")
    reserve_stock(item_id=item.pk, quantity=2, order_number="ORDER002")
    release_stock(item_id=item.pk, quantity=1, order_number="ORDER001")
    release_stock(item_id=item.pk, quantity=2, order_number="ORDER002", reason=StockReason.RETURNED)
    assert adjust_stock(item_id=item.pk, delta=5, actor=seller) == 13
    assert adjust_stock(item_id=item.pk, delta=-4, actor=seller) == 9
    assert set_stock(item_id=item.pk, stock=20, actor=seller) == 20

    assert stock_of(item) == 20 and ledger_totals(item_ids=[item.pk]) == {item.pk: 20}
    assert moves_of(item) == [
        (10, StockReason.OPENING),
        (-3, StockReason.RESERVED),
        (-2, StockReason.RESERVED),
        (1, StockReason.RELEASED),
        (2, StockReason.RETURNED),
        (5, StockReason.ADJUSTMENT),
        (-4, StockReason.ADJUSTMENT),
        (11, StockReason.ADJUSTMENT),
    ]
    assert set(item.stock_moves.filter(reason=StockReason.ADJUSTMENT).values_list("actor", flat=True)) == {seller.pk}
    assert held_by_orders(item_ids=[item.pk]) == {(item.pk, "ORDER001"): 2}  # ORDER002 gave everything back
    assert stock_mismatches() == []


def test_a_refused_reservation_takes_nothing_and_records_nothing(make_item):
    item = make_item(stock=1)

    assert reserve_stock(item_id=item.pk, quantity=2, order_number="ORDER001") is False

    assert stock_of(item) == 1 and moves_of(item) == [(1, StockReason.OPENING)]


def test_adjusting_below_zero_is_refused_with_stock_unchanged(make_item, seller):
    item = make_item(title="Copper Wok", stock=2)

    with pytest.raises(NotEnoughStock) as refused:
        adjust_stock(item_id=item.pk, delta=-3, actor=seller)

    assert refused.value.code == "stock_below_zero"
    assert "Copper Wok has 2 in stock" in str(refused.value) and refused.value.extra["stock"] == 2
    assert stock_of(item) == 2 and moves_of(item) == [(2, StockReason.OPENING)]


def test_a_zero_adjustment_or_an_unchanged_set_records_nothing(make_item):
    item = make_item(stock=4)

    assert adjust_stock(item_id=item.pk, delta=0) == 4
    assert set_stock(item_id=item.pk, stock=4) == 4

    assert moves_of(item) == [(4, StockReason.OPENING)]


def test_releasing_stock_of_a_deleted_item_does_nothing(make_item):
    item = make_item(stock=4)
    item_id = item.pk
    item.delete()

    release_stock(item_id=item_id, quantity=2, order_number="ORDER001")

    assert not StockMove.objects.exists()


def test_repair_stock_sets_a_drifted_column_to_the_ledger_with_a_repair_move(make_item, staff):
    item = make_item(stock=5)
    Item.objects.filter(pk=item.pk).update(stock=9)  # a write that bypassed the services
    assert [(m.sku, m.stock, m.ledger) for m in stock_mismatches()] == [(item.sku, 9, 5)]

    assert repair_stock(item_id=item.pk, actor=staff) == 5

    assert stock_of(item) == 5 and stock_mismatches() == []
    repair = item.stock_moves.get(reason=StockReason.REPAIR)
    assert (repair.delta, repair.note, repair.actor) == (0, "stock column was 9, ledger says 5", staff)
    assert repair_stock(item_id=item.pk) is None


def test_create_item_records_one_opening_move_naming_its_creator(shelf):
    seller = shelf["seller"]

    item = create_item(actor=seller, category=shelf["child"], title="Copper Wok", price_minor=2500, stock=4)
    empty = create_item(actor=seller, category=shelf["child"], title="Iron Pan", price_minor=900)

    assert list(item.stock_moves.values_list("delta", "reason", "actor")) == [(4, StockReason.OPENING, seller.pk)]
    assert not empty.stock_moves.exists()


def test_bulk_stock_changes_are_recorded_adjustments_by_the_actor(make_item, staff):
    one, two = make_item(stock=3), make_item(stock=8)

    assert update_items(item_ids=[one.pk, two.pk], stock=5, actor=staff) == 2

    assert (stock_of(one), stock_of(two)) == (5, 5)
    assert moves_of(one)[-1] == (2, StockReason.ADJUSTMENT) and moves_of(two)[-1] == (-3, StockReason.ADJUSTMENT)
    assert stock_mismatches() == []


def test_a_failure_between_the_stock_update_and_its_move_undoes_both(make_item, monkeypatch):
    item = make_item(stock=3)

    def crash() -> None:
        raise RuntimeError("the process died here")

    monkeypatch.setitem(shop_db.FAULTS, "catalog.stock_updated", crash)
    with pytest.raises(RuntimeError):
        reserve_stock(item_id=item.pk, quantity=2, order_number="ORDER001")

    assert stock_of(item) == 3 and moves_of(item) == [(3, StockReason.OPENING)]


@pytest.mark.usefixtures("each_cache")
def test_the_cached_catalog_moves_on_only_when_a_stock_change_commits(make_item, settings):
    settings.CACHE_IS_SHARED = True
    item = make_item(stock=3)
    before = catalog_version(ITEMS)

    with pytest.raises(RuntimeError), shop_db.atomic():
        reserve_stock(item_id=item.pk, quantity=1, order_number="ORDER001")
        raise RuntimeError("the order failed later")

    assert catalog_version(ITEMS) == before and stock_of(item) == 3
    reserve_stock(item_id=item.pk, quantity=1, order_number="ORDER001")
    assert catalog_version(ITEMS) != before


@pytest.mark.django_db(transaction=True)
def test_racing_reservations_and_adjustments_all_land_and_the_ledger_keeps_up(concurrent_db):
    item = ItemFactory(stock=10)
    staff = UserFactory(is_staff=True)
    work = [lambda n=n: reserve_stock(item_id=item.pk, quantity=1, order_number=f"ORDER{n:03d}") for n in range(6)]
    work += [lambda: adjust_stock(item_id=item.pk, delta=2, actor=staff) for _ in range(4)]
    start = threading.Barrier(len(work))
    failures = []

    def run(job) -> None:
        try:
            start.wait()
            job()
        except Exception as exc:  # recorded so the assertion shows it
            failures.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert stock_of(item) == 10 - 6 + 4 * 2 == ledger_totals()[item.pk]
    assert item.stock_moves.count() == 1 + len(work)
