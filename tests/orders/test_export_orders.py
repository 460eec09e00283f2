import csv
import io
from datetime import datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import Order
from orders.services import mark_order_paid
from tests.factories import ItemFactory, UserFactory
from tests.orders.helpers import place


def export(*args: str) -> tuple[list[dict], str]:
    """Runs the command to stdout; returns the CSV rows and what went to stderr."""
    out, err = io.StringIO(), io.StringIO()
    call_command("export_orders", *args, stdout=out, stderr=err)
    return list(csv.DictReader(io.StringIO(out.getvalue()))), err.getvalue()


@pytest.fixture
def orders(db):
    """A paid order of two lines placed on 10 March 2026 and a pending one placed on 20 March."""
    mug = ItemFactory(title="=HYPERLINK(evil)", sku="MUG", price_minor=1250)
    pot = ItemFactory(title="Teapot", sku="POT", price_minor=4000)
    buyer = UserFactory(email="ann@example.com")
    paid = mark_order_paid(order=place(buyer, (mug, 2), (pot, 1)))
    pending = place(buyer, (pot, 1))
    for order, day in ((paid, 10), (pending, 20)):
        Order.objects.filter(pk=order.pk).update(created_at=timezone.make_aware(datetime(2026, 3, day, 12)))
    return {"paid": paid, "pending": pending}


def test_export_writes_one_row_per_line_with_major_units_and_reports_to_stderr(orders):
    rows, err = export()

    paid = orders["paid"]
    assert [(row["order_number"], row["sku"]) for row in rows] == [
        (paid.number, "MUG"),
        (paid.number, "POT"),
        (orders["pending"].number, "POT"),
    ]
    mug = rows[0]
    assert mug["title"] == "'=HYPERLINK(evil)"  # a spreadsheet must not run it
    amounts = (mug["quantity"], mug["unit_price"], mug["line_total"], mug["order_total"])
    assert amounts == ("2", "12.50", "25.00", "65.00")
    assert (mug["status"], mug["email"], mug["currency"]) == ("paid", "ann@example.com", "EUR")
    assert mug["created_at"] == "2026-03-10T12:00:00+00:00" and mug["paid_at"].startswith(str(paid.paid_at.year))
    assert rows[2]["paid_at"] == ""
    assert err.strip() == "Exported 2 order(s), 3 line(s), to stdout."


def test_export_filters_by_days_inclusive_and_by_statuses(orders):
    assert {row["order_number"] for row in export("--since", "2026-03-11")[0]} == {orders["pending"].number}
    assert {row["order_number"] for row in export("--until", "2026-03-10")[0]} == {orders["paid"].number}
    assert export("--since", "2026-03-11", "--until", "2026-03-19")[0] == []
    assert {row["status"] for row in export("--status", "pending_payment")[0]} == {"pending_payment"}
    assert len(export("--status", "paid,shipped", "--status", "pending_payment")[0]) == 3


def test_export_to_a_file_replaces_it_only_when_done(orders, tmp_path):
    target = tmp_path / "orders.csv"
    target.write_text("old")

    call_command("export_orders", "--status", "paid", "--output", str(target), stderr=io.StringIO())

    rows = list(csv.DictReader(target.open(newline="", encoding="utf-8")))
    assert [row["sku"] for row in rows] == ["MUG", "POT"]
    assert [path.name for path in tmp_path.iterdir()] == ["orders.csv"]  # no partial file left behind


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2026-02-30"], "--since must be a date like 2026-01-31, not '2026-02-30'."),
        (["--until", "yesterday"], "--until must be a date like 2026-01-31, not 'yesterday'."),
        (["--since", "2026-03-02", "--until", "2026-03-01"], "--since 2026-03-02 is after --until 2026-03-01."),
        (["--status", "paid,sent"], "Unknown status sent; choose from pending_payment, paid, shipped, delivered"),
        (["--output", "/nonexistent-dir/orders.csv"], "Cannot write /nonexistent-dir/orders.csv: No such file"),
    ],
)
def test_export_refuses_bad_input_with_a_clear_message_before_reading_orders(args, message):
    with pytest.raises(CommandError, match="^" + message.replace(".", r"\.")) as err:
        call_command("export_orders", *args, stdout=io.StringIO(), stderr=io.StringIO())
    assert err.value.returncode == 1


def test_export_that_fails_to_write_leaves_no_partial_file(db, tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(CommandError, match=r"^Cannot write .*taken: Is a directory"):
        call_command("export_orders", "--output", str(tmp_path / "taken"), stdout=io.StringIO(), stderr=io.StringIO())
    assert [path.name for path in tmp_path.iterdir()] == ["taken"]


def test_export_shows_progress_on_long_runs(orders, monkeypatch):
    monkeypatch.setattr("orders.management.commands.export_orders.PROGRESS_EVERY", 1)
    assert export()[1].splitlines()[:2] == ["  1 orders...", "  2 orders..."]


def test_export_reads_the_lines_chunk_by_chunk(orders, monkeypatch):
    monkeypatch.setattr("orders.management.commands.export_orders.CHUNK_SIZE", 1)
    with CaptureQueriesContext(connection) as queries:
        assert len(export()[0]) == 3
    assert sum("orderline" in query["sql"] for query in queries.captured_queries) == 2  # one per chunk of orders
