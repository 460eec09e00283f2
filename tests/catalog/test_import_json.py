"""Issue 14's cleanup: `catalog/imports.py` read JSON with a hand-written streaming decoder that accepted invalid
JSON (`[{..} {..}]`). The standard library now decodes it; JSON Lines and the per-row reports stay."""

import json

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Item
from tests.factories import CategoryFactory, SellerFactory

pytestmark = pytest.mark.django_db

ROW = {"sku": "J-1", "title": "Json", "description": "", "price": "1.00", "stock": 1, "category": "cookware"}
ONE, TWO = json.dumps(ROW), json.dumps({**ROW, "sku": "J-2"})


@pytest.fixture(autouse=True)
def setup(db):
    CategoryFactory(slug="cookware")
    SellerFactory(email="sam@example.com")


def run(tmp_path, text: str, name: str = "items.json") -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    call_command("import_items", str(path), "--seller", "sam@example.com", "--skip-invalid")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (f"[{ONE} {TWO}]", "line 1: bad JSON (expected ',' or ']' after a row)"),
        (f"[{ONE},\n,{TWO}]", "line 2: bad JSON (Expecting value)"),
        (f"[{ONE},]", "line 1: bad JSON (Expecting value)"),
        (f"[{ONE}]\n[{TWO}]", "line 2: bad JSON (text after the array)"),
        (f"[\n{ONE},\n{TWO}", "line 3: bad JSON (the array is not closed)"),
        (f"[{ONE}, {{'sku': 'x'}}]", "line 1: bad JSON (Expecting property name enclosed in double quotes)"),
    ],
)
def test_invalid_json_is_refused_whole_with_its_line_and_nothing_is_imported(tmp_path, text, error):
    with pytest.raises(CommandError) as refused:
        run(tmp_path, text)
    assert str(refused.value).startswith(error)
    assert not Item.objects.exists()


def test_a_valid_array_with_blank_lines_and_crlf_reports_rows_by_the_line_they_start_on(tmp_path, capsys):
    bad = json.dumps({**ROW, "sku": "J-3", "stock": -1}, indent=1)
    run(tmp_path, f"\r\n\r\n[ {ONE},\r\n\r\n{TWO} ,\r\n{bad}, [1]\r\n]\r\n")

    assert sorted(Item.objects.values_list("sku", flat=True)) == ["J-1", "J-2"]
    assert capsys.readouterr().err.splitlines() == [
        "line 6: negative stock -1",
        "line 13: the row is not a JSON object",
    ]


def test_an_empty_array_imports_nothing(tmp_path, capsys):
    run(tmp_path, " [ ] ")
    assert not Item.objects.exists() and "0 of 0 rows" in capsys.readouterr().out


def test_json_lines_report_a_broken_line_as_a_bad_row_and_import_the_others(tmp_path, capsys):
    run(tmp_path, f"{ONE}\n\n{{'sku': 'J-9'}}\n{TWO}\n" + "[" * 50_000 + "\n", name="items.jsonl")

    assert sorted(Item.objects.values_list("sku", flat=True)) == ["J-1", "J-2"]
    assert capsys.readouterr().err.splitlines() == [
        "line 3: the row is not valid JSON (Expecting property name enclosed in double quotes at column 2)",
        "line 5: the row is nested too deeply",
    ]
