import pytest

import catalog.api.views
from catalog.models import Item, StockReason
from catalog.selectors import ledger_totals
from catalog.services import reserve_stock
from tests.api.conftest import People, client_for
from tests.factories import CategoryFactory, ItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db) -> People:
    return People()


@pytest.fixture
def item(people):
    return ItemFactory(seller=people.seller, title="Blue kettle", price_minor=2500, stock=3)


def _titles(response) -> list[str]:
    return [row["title"] for row in response.json()["results"]]


def test_item_list_applies_the_storefront_filters_and_hides_inactive_items(people):
    kitchen = CategoryFactory(slug="kitchen")
    pans = CategoryFactory(slug="pans", parent=kitchen)
    ItemFactory(title="Red pan", category=pans, price_minor=1000, stock=0, seller=people.seller)
    ItemFactory(title="Blue pan", category=pans, price_minor=3000, seller=people.seller)
    ItemFactory(title="Blue mug", price_minor=500, seller=people.seller)
    ItemFactory(title="Blue ghost", is_active=False, seller=people.seller)
    anon = client_for(None)

    everything = anon.get("/api/items/")
    assert everything.json()["count"] == 3
    row = everything.json()["results"][0]
    assert isinstance(row["id"], str) and isinstance(row["seller"], str) and row["currency"] == "EUR"
    assert _titles(anon.get("/api/items", {"q": "blue", "sort": "price"})) == ["Blue mug", "Blue pan"]
    assert _titles(anon.get("/api/items", {"category": "kitchen", "sort": "-price"})) == ["Blue pan", "Red pan"]
    assert _titles(anon.get("/api/items", {"min_price": 1000, "max_price": 2000})) == ["Red pan"]
    assert _titles(anon.get("/api/items", {"category": "kitchen", "in_stock": "true"})) == ["Blue pan"]
    page = anon.get("/api/items", {"sort": "title", "page_size": 2, "page": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 1 and page["previous"]


@pytest.mark.parametrize(
    "query",
    [{"min_price": "-1"}, {"min_price": "12.50"}, {"sort": "bogus"}, {"page_size": "1000"},
     {"min_price": "50", "max_price": "10"}, {"colour": "red"}],
)  # fmt: skip
def test_item_list_with_bad_filters_answers_400(query):
    assert client_for(None).get("/api/items", query).status_code == 400


def test_item_list_page_past_the_end_answers_404():
    assert client_for(None).get("/api/items", {"page": 9}).status_code == 404


NEW_ITEM = {"title": "Green teapot", "price": 1999, "stock": 4, "description": "Cast iron."}


@pytest.mark.parametrize(
    ("caller", "expected"),
    [("anonymous", 401), ("buyer", 403), ("seller", 201), ("other_seller", 201), ("staff", 201)],
)
def test_item_create_is_for_sellers_and_staff_and_the_seller_is_the_caller(people, caller, expected):
    category = CategoryFactory()
    response = people.client(caller).post("/api/items", {**NEW_ITEM, "category": category.slug}, format="json")
    assert response.status_code == expected
    if expected == 201:
        item = Item.objects.get()
        assert response.json()["seller"] == str(getattr(people, caller).pk) == str(item.seller_id)
        assert (item.slug, item.price_minor, item.category_id) == ("green-teapot", 1999, category.pk)
    else:
        assert not Item.objects.exists()


@pytest.mark.parametrize(
    "change",
    [{"price": -1}, {"price": 0}, {"price": "19.99"}, {"price": 10**12}, {"stock": -3}, {"stock": True},
     {"category": "no-such-shelf"}, {"seller": "1"}, {"title": ""}],
)  # fmt: skip
def test_item_create_with_bad_values_is_refused(people, change):
    category = CategoryFactory()
    body = {**NEW_ITEM, "category": category.slug, **change}
    response = people.client("seller").post("/api/items", body, format="json")
    assert response.status_code == 400
    assert not Item.objects.exists()


WRITE_TABLE = [
    ("anonymous", 401),
    ("buyer", 403),
    ("other_seller", 403),
    ("seller", 200),
    ("staff", 200),
]


@pytest.mark.parametrize(("caller", "expected"), WRITE_TABLE)
def test_item_update_is_for_its_seller_or_staff(people, item, caller, expected):
    change = {"price": 2600, "stock": 7, "expected_stock": 3}
    response = people.client(caller).patch(f"/api/items/{item.pk}", change, format="json")
    assert response.status_code == expected
    item.refresh_from_db()
    assert (item.price_minor, item.stock) == ((2600, 7) if expected == 200 else (2500, 3))


def test_item_put_needs_title_price_and_category(people, item):
    response = people.client("seller").put(f"/api/items/{item.pk}", {"stock": 1}, format="json")
    assert response.status_code == 400
    assert {"title", "price", "category"} <= response.json().keys()
    item.refresh_from_db()
    assert item.stock == 3


@pytest.mark.parametrize(("caller", "expected"), [(c, 204 if e == 200 else e) for c, e in WRITE_TABLE])
def test_item_delete_is_for_its_seller_or_staff(people, item, caller, expected):
    response = people.client(caller).delete(f"/api/items/{item.pk}")
    assert response.status_code == expected
    assert Item.objects.filter(pk=item.pk).exists() is (expected != 204)


def test_deleting_an_ordered_item_deactivates_it_and_says_so(people, item):
    from tests.orders.helpers import place

    order = place(people.buyer, (item, 1))
    response = people.client("seller").delete(f"/api/items/{item.pk}/")
    assert response.status_code == 200
    assert response.json()["deactivated"] is True and "deactivated" in response.json()["detail"]
    item.refresh_from_db()
    assert item.is_active is False
    assert order.lines.get().item_id == item.pk


def test_an_inactive_item_is_visible_to_its_seller_and_staff_only(people):
    item = ItemFactory(seller=people.seller, is_active=False)
    statuses = {caller: people.client(caller).get(f"/api/items/{item.pk}").status_code for caller, _ in WRITE_TABLE}
    assert statuses == {"anonymous": 404, "buyer": 404, "other_seller": 404, "seller": 200, "staff": 200}


def test_item_stock_set_through_the_api_is_a_recorded_adjustment_by_the_caller(people, item):
    response = people.client("seller").patch(f"/api/items/{item.pk}", {"stock": 7, "expected_stock": 3}, format="json")

    assert response.status_code == 200 and response.json()["stock"] == 7
    adjustment = item.stock_moves.get(reason=StockReason.ADJUSTMENT)
    assert (adjustment.delta, adjustment.actor) == (4, people.seller)
    assert ledger_totals(item_ids=[item.pk]) == {item.pk: 7}


def test_a_stale_api_edit_cannot_sell_a_one_unit_item_twice(people, monkeypatch):
    item = ItemFactory(seller=people.seller, title="Last kettle", stock=1)
    real_update_item = catalog.api.views.update_item

    def order_lands_first(**kwargs):  # between the view's read of the item and its write
        assert reserve_stock(item_id=item.pk, quantity=1, order_number="ORDER001")
        return real_update_item(**kwargs)

    monkeypatch.setattr(catalog.api.views, "update_item", order_lands_first)
    response = people.client("seller").patch(f"/api/items/{item.pk}", {"title": "Dented kettle"}, format="json")

    assert response.status_code == 200 and response.json()["stock"] == 0
    assert reserve_stock(item_id=item.pk, quantity=1, order_number="ORDER002") is False


def test_a_stale_put_that_sends_back_the_stock_it_read_is_refused_and_sells_nothing_twice(people):
    item = ItemFactory(seller=people.seller, title="Last kettle", stock=1)
    client = people.client("seller")
    read = client.get(f"/api/items/{item.pk}").json()
    assert reserve_stock(item_id=item.pk, quantity=1, order_number="ORDER001")  # a buyer takes the last one

    body = {"title": "Dented kettle", "price": read["price"], "category": read["category"], "stock": read["stock"]}
    response = client.put(f"/api/items/{item.pk}", body, format="json")

    assert response.status_code == 409 and response.json()["code"] == "stock_changed"
    assert response.json()["extra"]["stock"] == 0
    item.refresh_from_db()
    assert item.stock == 0 and not reserve_stock(item_id=item.pk, quantity=1, order_number="ORDER002")


def test_a_stock_change_applies_the_difference_from_what_the_caller_read(people, item):
    reserve_stock(item_id=item.pk, quantity=1, order_number="ORDER001")  # 3 -> 2 after the caller read 3

    response = people.client("seller").patch(f"/api/items/{item.pk}", {"stock": 10, "expected_stock": 3}, format="json")

    assert response.status_code == 200 and response.json()["stock"] == 9  # 2 + (10 - 3): the sale still counts


def test_sending_the_current_stock_back_changes_nothing(people, item):
    response = people.client("seller").patch(f"/api/items/{item.pk}", {"stock": 3, "title": "Renamed"}, format="json")
    assert response.status_code == 200 and response.json()["stock"] == 3
    assert not item.stock_moves.filter(reason=StockReason.ADJUSTMENT).exists()
