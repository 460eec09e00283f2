"""Issue 14, "Also seen": `POST /api/items` carrying the item's own `currency` (the shape a client just read) was
refused with "Unknown field". Read-only fields whose value equals the stored or the shop's value are now accepted
and ignored; another value is refused with a message naming the field."""

import pytest

from catalog.models import Item
from tests.api.conftest import People
from tests.factories import CategoryFactory, ItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db) -> People:
    return People()


def new_item(**fields) -> dict:
    return {"title": "Green teapot", "price": 1999, "stock": 4, "category": CategoryFactory().slug, **fields}


def test_creating_an_item_with_the_shops_currency_is_accepted(people, settings):
    response = people.client("seller").post("/api/items", new_item(currency=settings.SHOP_CURRENCY), format="json")

    assert response.status_code == 201
    assert response.json()["currency"] == settings.SHOP_CURRENCY and Item.objects.count() == 1


def test_creating_an_item_with_another_currency_or_an_id_is_refused_naming_the_field(people, settings):
    client = people.client("seller")

    response = client.post("/api/items", new_item(currency="XYZ"), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "currency": [
            f'currency is read-only: it is "{settings.SHOP_CURRENCY}" here, so leave it out or send that value.'
        ]
    }

    response = client.post("/api/items", new_item(id="12", created_at=None, colour="red"), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "id": ["id is read-only and set by the shop: leave it out."],
        "colour": ["Unknown field."],
    }
    assert not Item.objects.exists()


def test_an_item_read_and_sent_back_whole_is_accepted_and_its_read_only_fields_ignored(people):
    item = ItemFactory(seller=people.seller, title="Blue kettle", stock=3)
    client = people.client("seller")
    read = client.get(f"/api/items/{item.pk}").json()

    response = client.put(f"/api/items/{item.pk}", {**read, "title": "Blue kettle, large"}, format="json")

    assert response.status_code == 200, response.json()
    item.refresh_from_db()
    assert item.title == "Blue kettle, large" and item.stock == 3 and item.seller == people.seller


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("currency", "XYZ"),
        ("seller", "999999"),
        ("created_at", "2020-01-01T00:00:00Z"),
        ("id", "999999"),
        ("image", "x"),
    ],
)
def test_changing_a_read_only_field_is_refused_naming_it_and_nothing_changes(people, field, value):
    item = ItemFactory(seller=people.seller, title="Blue kettle")
    client = people.client("seller")
    read = client.get(f"/api/items/{item.pk}").json()
    assert read[field] != value

    response = client.patch(f"/api/items/{item.pk}", {"title": "Renamed", field: value}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field] and response.json()[field][0].startswith(f"{field} is read-only")
    item.refresh_from_db()
    assert item.title == "Blue kettle"
