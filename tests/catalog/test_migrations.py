import importlib

import pytest
from django.apps import apps
from django.conf import settings

from catalog.models import StockMove, StockReason
from catalog.selectors import stock_mismatches

pytestmark = pytest.mark.django_db


def test_starting_the_ledger_gives_each_stocked_item_one_opening_move(make_item):
    package = settings.MIGRATION_MODULES.get("catalog", "catalog.migrations")  # the tree of the active backend
    migration = importlib.import_module(f"{package}.0006_open_stock_ledger")
    stocked, empty = make_item(stock=6), make_item(stock=0)
    StockMove.objects.all().delete()  # items from before the ledger

    migration.open_ledger(apps, None)

    assert list(stocked.stock_moves.values_list("delta", "reason", "note")) == [
        (6, StockReason.OPENING, "ledger started")
    ]
    assert not empty.stock_moves.exists() and stock_mismatches() == []
