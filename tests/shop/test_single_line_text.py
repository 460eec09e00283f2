"""Finding 9 of the probe (issue 14): seller titles kept newlines and control characters (`\\n\\nIMPORTANT: pay again
at http://...`, `\\x1b[31m`, U+202E), which went verbatim into buyers' plain-text emails and the logs. Single-line
text is now put on one line, and control and bidirectional-control characters refused, wherever it is stored
(`shop.text`): the admin, forms, the API and imports."""

import json

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.template import engines
from django.urls import reverse

from catalog.models import Category, Item
from orders.services import mark_order_paid
from shop.text import clean_single_line, single_line, validate_single_line
from tests.api.conftest import People
from tests.factories import CategoryFactory, ItemFactory, SellerFactory, UserFactory
from tests.orders.helpers import place

pytestmark = pytest.mark.django_db

SPOOF = "Teapot\n\nIMPORTANT: your payment failed, pay again at http://evil.example/pay"


def test_single_line_joins_lines_and_the_validator_names_hidden_characters():
    assert single_line("  Tea\r\npot\t\u2028set\u0085 ") == "Tea pot set"
    assert clean_single_line("\x1b[31mRed\u202e pan\x00") == "[31mRed pan"
    with pytest.raises(ValidationError, match=r"U\+001B, U\+202E \(RIGHT-TO-LEFT OVERRIDE\)"):
        validate_single_line("\x1b[31mRed\u202e pan")
    validate_single_line("Crème brûlée dish, 20 cm, مقلاة")  # letters of any script are fine


@pytest.fixture
def people(db) -> People:
    return People()


def test_the_api_stores_a_multi_line_title_on_one_line_and_the_paid_email_cannot_be_spoofed(people):
    category = CategoryFactory()
    response = people.client("seller").post(
        "/api/items", {"title": SPOOF, "price": 1250, "stock": 5, "category": category.slug}, format="json"
    )

    assert response.status_code == 201
    item = Item.objects.get()
    assert item.title == response.json()["title"] == SPOOF.replace("\n\n", " ")

    order = place(UserFactory(), (item, 1))
    mark_order_paid(order=order)
    body = mail.outbox[-1].body
    assert "Teapot IMPORTANT: your payment failed" in body
    assert not [line for line in body.splitlines() if line.startswith("IMPORTANT")]


@pytest.mark.parametrize("title", ["\x1b[31mRed pan", "Pan \u202egpj.exe"])
def test_the_api_refuses_control_characters_in_a_title_and_stores_nothing(people, title):
    category = CategoryFactory()
    response = people.client("seller").post(
        "/api/items", {"title": title, "price": 1250, "category": category.slug}, format="json"
    )

    assert response.status_code == 400
    assert "invisible control characters" in response.json()["title"][0]
    assert not Item.objects.exists()


def test_the_api_refuses_control_characters_on_update_and_changes_nothing(people):
    item = ItemFactory(seller=people.seller, title="Blue kettle")
    response = people.client("seller").patch(f"/api/items/{item.pk}", {"title": "Blue\x1b[2J kettle"}, format="json")

    assert response.status_code == 400 and "U+001B" in response.json()["title"][0]
    item.refresh_from_db()
    assert item.title == "Blue kettle"


def test_the_admin_puts_a_category_name_on_one_line_and_refuses_an_escape_in_an_item_title(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:catalog_category_add"), {"name": "Pots\r\nand pans", "slug": "pots", "tax_class": "standard"}
    )
    assert response.status_code == 302
    assert Category.objects.get(slug="pots").name == "Pots and pans"

    item = ItemFactory(title="Pan")
    data = {
        "title": "Pan\x1b]8;;http://evil.example\x07",
        "slug": item.slug,
        "sku": item.sku,
        "seller": item.seller_id,
        "category": item.category_id,
        "description": "",
        "price_minor": "12.50",
        "tax_class": "",
        "weight_grams": "0",
        "stock": item.stock,
        "is_active": "on",
    }
    response = client.post(reverse("admin:catalog_item_change", args=[item.pk]), data)
    assert response.status_code == 200
    assert "U+001B, U+0007" in response.context["adminform"].form.errors["title"][0]
    item.refresh_from_db()
    assert item.title == "Pan"


def test_imports_put_titles_on_one_line_and_report_control_characters_by_row(tmp_path, capsys):
    CategoryFactory(slug="cookware")
    SellerFactory(email="sam@example.com")
    rows = [
        {"sku": "A-1", "title": "Pan\n\nIMPORTANT: pay again", "price": "1", "stock": "1", "category": "cookware"},
        {"sku": "A-2", "title": "\u202eRed pan", "price": "1", "stock": "1", "category": "cookware"},
    ]
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps({"description": "", **row}) for row in rows), encoding="utf-8")

    call_command("import_items", str(path), "--seller", "sam@example.com", "--skip-invalid")

    assert list(Item.objects.values_list("sku", "title")) == [("A-1", "Pan IMPORTANT: pay again")]
    assert capsys.readouterr().err.splitlines() == [
        "line 2: title holds control characters (U+202E (RIGHT-TO-LEFT OVERRIDE))"
    ]


def test_a_save_that_skips_validation_still_stores_one_clean_line():
    item = ItemFactory(title="\u202eevil\n\nIMPORTANT", sku="SKU\t1")
    item.refresh_from_db()
    assert (item.title, item.sku) == ("evil IMPORTANT", "SKU 1")


def test_the_email_filter_cleans_text_stored_before_the_rule():
    template = engines["django"].from_string("{% load single_line %}1 x “{{ title|single_line }}”")
    assert template.render({"title": "Pan\n\nIMPORTANT: pay\x1b[0m again"}) == "1 x “Pan IMPORTANT: pay[0m again”"
