import json

import pytest
from django.core.management import CommandError, call_command

import catalog.imports
from catalog.models import Item, StockReason
from catalog.selectors import ITEMS, catalog_version, stock_mismatches
from catalog.services import reserve_stock
from tests.factories import CategoryFactory, ItemFactory, SellerFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = "sku,title,description,price,stock,category,active\n"


@pytest.fixture
def setup(db):
    return {"category": CategoryFactory(slug="cookware"), "seller": SellerFactory(email="sam@example.com")}


def write(tmp_path, text: str, name: str = "items.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(path, *args):
    call_command("import_items", str(path), *args)


def test_import_creates_items_in_batches_with_prices_in_minor_units(setup, tmp_path, capsys):
    rows = "".join(f"P-{n},Pan {n},Good pan,12.50,{n},cookware,\n" for n in range(5))
    path = write(tmp_path, HEADER + rows.replace("P-4,Pan 4,Good pan,12.50,4,cookware,", "P-4,Pan 4,,3,4,cookware,no"))

    before = catalog_version(ITEMS)

    run(path, "--seller", "sam@example.com", "--batch-size", "2")

    assert catalog_version(ITEMS) != before  # cached catalog pages see the import
    items = {item.sku: item for item in Item.objects.all()}
    assert len(items) == 5
    assert items["P-1"].price_minor == 1250 and items["P-1"].stock == 1 and items["P-1"].is_active
    assert items["P-1"].seller == setup["seller"] and items["P-1"].category == setup["category"]
    assert items["P-1"].slug == "pan-1-p-1"
    assert items["P-4"].price_minor == 300 and not items["P-4"].is_active
    out = capsys.readouterr().out
    assert "Imported 5 of 5 rows: 5 new, 0 updated, 0 unchanged" in out and "rows/s" in out


def test_import_with_bad_rows_reports_each_line_and_reason_and_writes_nothing(setup, tmp_path, capsys):
    path = write(
        tmp_path,
        HEADER
        + "OK-1,Fine,,1.00,1,cookware,\n"
        + "B-1,Bad price,,12,5O,1,cookware,\n"
        + "B-2,Bad price,,twelve,1,cookware,\n"
        + "B-3,Negative,,1.00,-4,cookware,\n"
        + "B-4,Lost,,1.00,1,nowhere,\n"
        + "OK-1,Again,,1.00,1,cookware,\n"
        + ',"multi\nline title",,1.00,1,cookware,\n',
    )

    with pytest.raises(CommandError, match="6 of 7 rows are invalid; nothing was imported"):
        run(path, "--seller", "sam@example.com")

    assert not Item.objects.exists()
    assert capsys.readouterr().err.splitlines() == [
        "line 3: the row has 8 fields, the header has 7",
        "line 4: bad price 'twelve' (expected an amount like 12.50)",
        "line 5: negative stock -4",
        "line 6: unknown category 'nowhere'",
        "line 7: duplicate SKU 'OK-1' (first on line 2)",
        "line 8: sku is empty",
    ]


def test_import_with_skip_invalid_writes_the_good_rows_only(setup, tmp_path, capsys):
    path = write(tmp_path, HEADER + "OK-1,Fine,,1.00,1,cookware,\nB-1,Bad,,x,1,cookware,\nOK-2,Also,,2,0,cookware,\n")

    run(path, "--seller", "sam@example.com", "--skip-invalid")

    assert sorted(Item.objects.values_list("sku", flat=True)) == ["OK-1", "OK-2"]
    captured = capsys.readouterr()
    assert "line 3: bad price 'x'" in captured.err
    assert "Imported 2 of 3 rows: 2 new, 0 updated, 0 unchanged, 1 skipped as invalid." in captured.out


def test_import_upserts_by_sku_keeping_unsaid_flags_and_untouched_items(setup, tmp_path, capsys):
    seller, category = setup["seller"], setup["category"]
    hidden = ItemFactory(sku="OLD-1", seller=seller, category=category, is_active=False, slug="keep-me", stock=1)
    same = ItemFactory(sku="OLD-2", seller=seller, category=category, title="Same", price_minor=500, stock=2)
    same.refresh_from_db()  # the stored precision: MongoDB keeps milliseconds
    path = write(
        tmp_path,
        HEADER
        + f"OLD-1,Renamed,New text,20.00,9,cookware,\nOLD-2,Same,{same.description},5.00,2,cookware,true\n"
        + "NEW-1,Fresh,,1,1,cookware,\n",
    )

    run(path, "--seller", seller.email)

    hidden.refresh_from_db()
    assert (hidden.title, hidden.price_minor, hidden.stock, hidden.is_active) == ("Renamed", 2000, 9, False)
    assert hidden.slug == "keep-me"
    assert Item.objects.get(sku="OLD-2").updated_at == same.updated_at
    assert Item.objects.count() == 3
    assert "1 new, 1 updated, 1 unchanged" in capsys.readouterr().out


def test_import_refuses_another_sellers_sku_and_new_skus_without_a_seller(setup, tmp_path, capsys):
    ItemFactory(sku="THEIRS", category=setup["category"], stock=4)
    path = write(tmp_path, HEADER + "THEIRS,Taken,,1,0,cookware,\n")
    new = write(tmp_path, HEADER + "NEW-1,Fresh,,1,1,cookware,\n", name="new.csv")

    with pytest.raises(CommandError):
        run(path, "--seller", "sam@example.com")
    with pytest.raises(CommandError):
        run(new)

    assert Item.objects.get(sku="THEIRS").stock == 4 and Item.objects.count() == 1
    err = capsys.readouterr().err
    assert "line 2: SKU 'THEIRS' belongs to another seller" in err
    assert "line 2: SKU 'NEW-1' is new and no seller was given (--seller)" in err


def test_import_of_a_file_that_is_not_utf8_fails_clearly(setup, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "C-1,Café,,1,1,cookware,\n").encode("latin-1"))

    with pytest.raises(CommandError, match=r"latin1.csv is not UTF-8 text \(byte 0xe9"):
        run(path, "--seller", "sam@example.com")
    assert not Item.objects.exists()


def test_import_with_missing_columns_fails_naming_them(setup, tmp_path):
    path = write(tmp_path, "sku,title,price\nA,B,1\n")

    with pytest.raises(CommandError, match="line 1: missing columns description, stock, category"):
        run(path, "--seller", "sam@example.com")


def test_import_refuses_an_unknown_seller_and_a_user_who_is_not_a_seller(setup, tmp_path):
    UserFactory(email="shopper@example.com")
    path = write(tmp_path, HEADER + "A,B,,1,1,cookware,\n")

    with pytest.raises(CommandError, match=r"No user with email nobody@example\.com"):
        run(path, "--seller", "nobody@example.com")
    with pytest.raises(CommandError, match=r"shopper@example\.com is not a seller"):
        run(path, "--seller", "shopper@example.com")
    assert not Item.objects.exists()


def test_import_reads_a_json_array_and_reports_bad_objects_by_line(setup, tmp_path, capsys):
    good = {"sku": "J-1", "title": "Json", "description": "", "price": 3.5, "stock": 2, "category": "cookware"}
    text = "[\n" + json.dumps(good) + ",\n" + json.dumps({**good, "sku": "J-2", "stock": -1}, indent=1) + ",\n 7\n]"
    path = write(tmp_path, text, name="items.json")

    run(path, "--seller", "sam@example.com", "--skip-invalid")

    item = Item.objects.get()
    assert (item.sku, item.price_minor, item.stock) == ("J-1", 350, 2)
    assert capsys.readouterr().err.splitlines() == [
        "line 3: negative stock -1",
        "line 11: the row is not a JSON object",
    ]


def test_import_reads_json_lines_and_dry_run_writes_nothing(setup, tmp_path, capsys):
    row = {"sku": "L-1", "title": "Line", "description": "", "price": "1", "stock": 1, "category": "cookware"}
    path = write(tmp_path, json.dumps(row) + "\n" + json.dumps({**row, "sku": "L-2"}) + "\n", name="items.jsonl")

    run(path, "--seller", "sam@example.com", "--dry-run")

    assert not Item.objects.exists()
    assert "Would import 2 of 2 rows: 2 new" in capsys.readouterr().out


def test_import_records_its_stock_changes_so_stock_equals_the_ledger_even_when_orders_land_meanwhile(
    setup, tmp_path, monkeypatch
):
    run(
        write(tmp_path, HEADER + "P-1,Pan,,1,5,cookware,\nP-2,Pot,,1,0,cookware,\nP-3,Lid,,1,2,cookware,\n"),
        "--seller",
        "sam@example.com",
    )
    pan = Item.objects.get(sku="P-1")
    assert list(pan.stock_moves.values_list("delta", "reason", "note")) == [(5, StockReason.IMPORT, "opening")]
    assert not Item.objects.get(sku="P-2").stock_moves.exists()
    assert reserve_stock(item_id=pan.pk, quantity=1, order_number="ORDER001")

    checked = catalog.imports._check_against_database

    def orders_land_after_each_check(*args, **kwargs):  # after the import read the stock it compares with
        valid = checked(*args, **kwargs)
        assert reserve_stock(item_id=pan.pk, quantity=1, order_number="ORDER002")
        return valid

    monkeypatch.setattr(catalog.imports, "_check_against_database", orders_land_after_each_check)
    run(
        write(
            tmp_path, HEADER + "P-1,Pan,,1,10,cookware,\nP-2,Pot,,1,3,cookware,\nP-3,Lid,,1,2,cookware,\n", name="2.csv"
        )
    )

    assert dict(Item.objects.values_list("sku", "stock")) == {"P-1": 10, "P-2": 3, "P-3": 2}
    assert pan.stock_moves.order_by("-created_at", "-pk").values_list("delta", "reason")[0] == (8, StockReason.IMPORT)
    assert stock_mismatches() == []


def test_an_import_that_changes_only_the_price_of_an_item_keeps_its_sales(setup, tmp_path, monkeypatch):
    pan = ItemFactory(sku="P-1", category=setup["category"], seller=setup["seller"], stock=5, price_minor=100)
    ItemFactory(sku="P-2", category=setup["category"], seller=setup["seller"], stock=5, price_minor=100)
    checked = catalog.imports._check_against_database
    checks: list[int] = []

    def an_order_lands_after_the_check(*args, **kwargs):
        valid = checked(*args, **kwargs)
        checks.append(1)
        if len(checks) == 2:  # the writing pass has read the stock it compares with
            assert reserve_stock(item_id=pan.pk, quantity=2, order_number="ORDER001")
        return valid

    monkeypatch.setattr(catalog.imports, "_check_against_database", an_order_lands_after_the_check)
    # P-1: a new price and the stock the file was made with; P-2: a new stock count, so the batch writes stocks.
    run(write(tmp_path, HEADER + "P-1,Pan,,2,5,cookware,\nP-2,Pot,,1,9,cookware,\n"), "--seller", "sam@example.com")

    pan.refresh_from_db()
    assert (pan.price_minor, pan.stock) == (200, 3)  # the order's 2 units stay sold
    assert stock_mismatches() == [] and not pan.stock_moves.filter(reason=StockReason.IMPORT).exists()


def test_an_absurd_stock_a_nul_and_deeply_nested_json_are_reported_not_crashes(setup, tmp_path, capsys):
    """Finding 11 of the probe (issue 14): a 5,000-digit stock (beyond Python's int limit) and deeply nested JSON
    crashed the command; NUL bytes were imported."""
    rows = [
        {"sku": "BIG", "title": "Big", "price": "1.00", "stock": "9" * 5000, "category": "cookware"},
        {"sku": "NEG", "title": "Neg", "price": "1.00", "stock": "-" + "9" * 5000, "category": "cookware"},
        {"sku": "NUL", "title": "Pan\u0000Lid", "price": "1.00", "stock": "1", "category": "cookware"},
        {"sku": "OK", "title": "Fine", "price": "1.00", "stock": "1", "category": "cookware"},
    ]
    path = write(tmp_path, json.dumps([{"description": "", **row} for row in rows]), name="items.json")

    with pytest.raises(CommandError, match="3 of 4 rows are invalid; nothing was imported"):
        run(path, "--seller", "sam@example.com")

    errors = capsys.readouterr().err.splitlines()
    assert errors[0] == "line 1: stock 999999999999999999999999... (5000 characters) is too large (at most 1,000,000)"
    assert errors[1] == "line 1: negative stock -99999999999999999999999... (5001 characters)"
    assert errors[2] == "line 1: title holds a NUL character"
    assert not Item.objects.exists()

    nested = write(tmp_path, "[" * 50_000, name="nested.json")
    with pytest.raises(CommandError, match="nested too deeply"):
        run(nested, "--seller", "sam@example.com")


def test_an_import_goes_on_the_audit_trail_with_each_created_and_changed_item(setup, tmp_path):
    from audit.models import AuditEntry

    run(write(tmp_path, HEADER + "P-1,Pan 1,Good pan,12.50,4,cookware,\n"), "--seller", "sam@example.com")
    pan = Item.objects.get(sku="P-1")
    [created] = AuditEntry.objects.filter(model="catalog.item", object_id=str(pan.pk), action="create")
    assert created.source == "command" and "import_items" in created.origin
    assert created.changes["title"] == [None, "Pan 1"]

    run(write(tmp_path, HEADER + "P-1,Pan 1,Good pan,14.00,4,cookware,\n"), "--seller", "sam@example.com")
    [changed] = AuditEntry.objects.filter(model="catalog.item", object_id=str(pan.pk), action="update")
    assert changed.changes == {"price_minor": [1250, 1400]}


def test_a_row_that_becomes_invalid_while_importing_is_reported_not_dropped(setup, tmp_path, capsys):
    """Rows are checked, then written batch by batch: another seller takes a SKU in between. The first batch is
    written; the taken row is not, and the command says so and fails."""
    other = SellerFactory()
    path = write(tmp_path, HEADER + "P-1,Pan one,,5,1,cookware,\nP-2,Pan two,,5,1,cookware,\n")

    def progress(message):
        if message.startswith("Checked 2 rows"):  # between the check and the writes
            ItemFactory(seller=other, category=setup["category"], sku="P-2", title="Theirs")

    with pytest.raises(catalog.imports.InvalidRows, match="1 of 2 rows became invalid while importing") as refused:
        catalog.imports.import_items(path=path, seller=setup["seller"], batch_size=1, progress=progress)
    report = refused.value.extra["report"]
    assert (report.created, report.invalid) == (1, 1)
    assert "changed while importing; not imported" in str(report.errors[0]) and report.errors[0].line == 3
    assert Item.objects.get(sku="P-2").title == "Theirs"


def test_json_lists_and_objects_are_refused_and_a_too_large_price_is_named(setup, tmp_path, capsys):
    rows = [
        {"sku": ["A", "B"], "title": {"en": "Pan"}, "price": "5", "stock": "1", "category": "cookware"},
        {"sku": "BIG", "title": "Big", "price": "30000000", "stock": "1", "category": "cookware"},
    ]
    path = write(tmp_path, json.dumps([{"description": "", **row} for row in rows]), name="items.json")
    with pytest.raises(CommandError, match="2 of 2 rows are invalid; nothing was imported"):
        run(path, "--seller", "sam@example.com")
    errors = capsys.readouterr().err.splitlines()
    assert errors[0] == "line 1: sku, title must be text or a number"
    assert errors[1] == "line 1: price 30000000 is too large"  # one JSON line holds both
    assert not Item.objects.exists()
