"""`manage.py check_stock`: stock equals the ledger, units held match the orders; `--repair` fixes from the ledger."""

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Item, StockMove, StockReason
from catalog.selectors import stock_mismatches
from orders.models import Order, OrderStatus
from orders.selectors import held_mismatches
from tests.orders.helpers import place, stock_of

pytestmark = pytest.mark.django_db


def test_a_shop_whose_orders_went_through_the_services_is_clean(user, make_item, capsys):
    item = make_item(stock=6)
    place(user, (item, 2))

    call_command("check_stock")

    assert "agrees" in capsys.readouterr().out


def test_check_stock_lists_drifted_items_and_repairs_them_with_repair(make_item, capsys):
    fine, drifted = make_item(sku="FINE-1", stock=2), make_item(sku="DRIFT-1", title="Copper Wok", stock=4)
    Item.objects.filter(pk=drifted.pk).update(stock=7)  # a write that bypassed the services

    with pytest.raises(CommandError, match="1 difference"):
        call_command("check_stock")
    assert "DRIFT-1 (Copper Wok): stock 7, ledger 4" in capsys.readouterr().out

    call_command("check_stock", "--repair")

    assert "stock 7 set to its ledger 4" in capsys.readouterr().out
    assert stock_mismatches() == [] and stock_of(drifted) == 4
    assert drifted.stock_moves.get(reason=StockReason.REPAIR).note == "stock column was 7, ledger says 4"
    assert not fine.stock_moves.filter(reason=StockReason.REPAIR).exists()


def test_units_stranded_by_a_cancel_that_never_released_them_are_given_back(user, make_item, capsys):
    item = make_item(stock=5)
    order = place(user, (item, 3))
    # What a crash between the status change and the release left behind before cancelling was one transaction.
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.CANCELLED)

    with pytest.raises(CommandError):
        call_command("check_stock")
    assert f"order {order.number}, item {item.pk}: holds 0 units, ledger shows 3" in capsys.readouterr().out

    call_command("check_stock", "--repair")

    assert stock_of(item) == 5 and held_mismatches() == []
    repair = StockMove.objects.get(order_number=order.number, reason=StockReason.REPAIR)
    assert repair.delta == 3 and "holds 0" in repair.note
    call_command("check_stock")


def test_units_reserved_for_an_order_that_was_never_written_are_given_back(make_item):
    item = make_item(stock=5)
    # A reservation whose order row never came (a crash after reserving, before transactions).
    Item.objects.filter(pk=item.pk).update(stock=3)
    StockMove.objects.create(item=item, delta=-2, reason=StockReason.RESERVED, order_number="GHOST234")

    call_command("check_stock", "--repair")

    assert stock_of(item) == 5 and held_mismatches() == [] and stock_mismatches() == []


def test_an_order_holding_units_the_ledger_never_took_is_left_for_a_person(user, make_item, capsys):
    item = make_item(stock=5)
    order = place(user, (item, 2))
    StockMove.objects.filter(order_number=order.number).delete()
    Item.objects.filter(pk=item.pk).update(stock=5)

    with pytest.raises(CommandError, match="need a person"):
        call_command("check_stock", "--repair")
    assert "adjust the stock by hand" in capsys.readouterr().out
    assert stock_of(item) == 5
