import re

import pytest

from cart.selectors import cart_for_user
from orders.models import Order, OrderStatus
from orders.services import mark_order_paid
from tests.api.conftest import People
from tests.orders.helpers import fill_cart, place, stock_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db) -> People:
    return People()


@pytest.fixture
def order(people, item):
    return place(people.buyer, (item, 2))


ADDRESS = {"name": "Ann Buyer", "line1": "1 Main Street", "postal_code": "10115", "city": "Berlin", "country": "DE"}


def test_placing_an_order_uses_the_cart_reserves_stock_and_shows_in_the_web_history_and_admin(
    people, item, client, admin_user
):
    fill_cart(people.buyer, (item, 3))
    response = people.client("buyer").post("/api/orders", {"shipping_address": ADDRESS}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending_payment" and body["total"] == 3750 and body["buyer"] == str(people.buyer.pk)
    assert body["lines"][0]["item"] == str(item.pk) and "Berlin" in body["shipping_address"]
    assert stock_of(item) == 7 and cart_for_user(user=people.buyer).is_empty
    client.force_login(people.buyer)
    assert body["number"] in client.get("/orders/").content.decode()
    client.force_login(admin_user)
    assert body["number"] in client.get("/admin/orders/order/").content.decode()


def test_a_placed_order_answers_with_what_a_fresh_read_shows_without_reading_its_lines_or_timeline(
    people, item, django_assert_max_num_queries
):
    """The unit that placed the order keeps its lines and its first event: the answer is built from them."""
    from tests.factories import ItemFactory

    fill_cart(people.buyer, (ItemFactory(title="Zither", stock=5, price_minor=900), 1), (item, 2))
    fill_cart(people.buyer, (ItemFactory(title="Accordion", stock=5, price_minor=300), 3))
    api = people.client("buyer")
    with django_assert_max_num_queries(60) as queries:
        placed = api.post("/api/orders", {"shipping_address": ADDRESS}, format="json")
    assert placed.status_code == 201
    for table in ("orders_orderline", "orders_orderevent"):  # written (INSERT, insert_many), never read back
        reads = [sql for query in queries if table in (sql := query["sql"]) and not re.search("INSERT|insert_", sql)]
        assert not reads, reads
    shown = api.get(f"/api/orders/{placed.json()['id']}").json()
    assert placed.json() == shown  # to the millisecond, as MongoDB keeps times too
    assert [line["title"] for line in shown["lines"]] == ["Accordion", item.title, "Zither"]
    assert [event["kind"] for event in shown["timeline"]] == ["placed"]


def reads_of(table: str, queries) -> list[str]:
    """The statements (SQL) or commands (MQL) that read `table` as their main table: `FROM "t"` or `db.t.aggregate`."""
    pattern = re.compile(rf'FROM "{table}"|db\.{table}\.(aggregate|find)')
    return [sql for query in queries if pattern.search(sql := query["sql"]) and not sql.startswith("DELETE")]


def test_placing_an_order_reads_the_cart_once_and_never_reads_stock_back(people, item, django_assert_max_num_queries):
    """The cart is read once, with its items; the lines ordered are removed by the ids read, and the conditional
    updates that take the stock say whether a stock label changed: no second read of either."""
    from tests.factories import ItemFactory

    plenty = ItemFactory(stock=50, price_minor=900)
    fill_cart(people.buyer, (plenty, 1), (item, 2))  # 50 -> 49, 10 -> 8: both still "In stock"
    with django_assert_max_num_queries(60) as queries:
        placed = people.client("buyer").post("/api/orders", {"shipping_address": ADDRESS}, format="json")
    assert placed.status_code == 201
    assert len(reads_of("cart_cartline", queries)) == 1
    assert reads_of("catalog_item", queries) == []
    assert stock_of(plenty) == 49 and stock_of(item) == 8 and cart_for_user(user=people.buyer).is_empty


def test_placing_an_order_with_an_empty_cart_answers_409(people):
    response = people.client("buyer").post("/api/orders/", {}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "cart_empty"
    assert not Order.objects.exists()


def test_a_bad_address_answers_400_and_orders_nothing(people, item):
    fill_cart(people.buyer, (item, 1))
    response = people.client("buyer").post("/api/orders", {"shipping_address": {"country": "XX"}}, format="json")
    assert response.status_code == 400
    assert not Order.objects.exists() and stock_of(item) == 10


def test_a_repeated_idempotency_key_returns_the_first_order(people, item):
    fill_cart(people.buyer, (item, 1))
    client = people.client("buyer")
    first = client.post("/api/orders", {}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = client.post("/api/orders", {}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.json()["id"] == second.json()["id"] and Order.objects.count() == 1


def test_an_idempotency_key_sent_again_with_another_request_is_refused(people, item):
    """As Stripe answers: the key names one request; another body under it is an error, not the first order."""
    fill_cart(people.buyer, (item, 1))
    client = people.client("buyer")
    first = client.post("/api/orders", {}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    fill_cart(people.buyer, (item, 2))
    other = {"shipping_address": {"country": "FR"}}
    again = client.post("/api/orders", other, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 409 and again.json()["code"] == "idempotency_key_reused"
    assert again.json()["extra"]["order_id"] == first.json()["id"]
    assert Order.objects.count() == 1 and stock_of(item) == 9  # the cart waits for a new key
    assert client.post("/api/orders", {}, format="json", HTTP_IDEMPOTENCY_KEY="k-1").status_code == 201  # the same


def test_idempotency_keys_are_scoped_to_the_buyer(people, item):
    fill_cart(people.buyer, (item, 1))
    fill_cart(people.other_buyer, (item, 2))
    mine = people.client("buyer").post("/api/orders", {}, format="json", HTTP_IDEMPOTENCY_KEY="1")
    theirs = people.client("other_buyer").post("/api/orders", {}, format="json", HTTP_IDEMPOTENCY_KEY="1")

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"] and theirs.json()["buyer"] == str(people.other_buyer.pk)
    assert stock_of(item) == 7


READ_TABLE = [("anonymous", 401), ("buyer", 200), ("other_buyer", 404), ("seller", 404), ("staff", 200)]


@pytest.mark.parametrize(("caller", "expected"), READ_TABLE)
def test_orders_are_shown_to_their_buyer_and_staff_only(people, order, caller, expected):
    client = people.client(caller)
    listing = client.get(f"/api/orders/user/{people.buyer.pk}")
    detail = client.get(f"/api/orders/{order.pk}/")
    assert (listing.status_code, detail.status_code) == (expected, expected)
    if expected == 200:
        assert [row["number"] for row in listing.json()["results"]] == [order.number]
        assert detail.json()["id"] == str(order.pk)


@pytest.mark.parametrize(
    ("caller", "status", "paid", "expected"),
    [
        ("anonymous", "cancelled", False, 401),
        ("other_buyer", "cancelled", False, 404),
        ("seller", "cancelled", False, 404),  # a seller's admin flag is not staff
        ("buyer", "shipped", True, 409),
        ("buyer", "paid", False, 409),
        ("buyer", "cancelled", True, 409),
        ("staff", "shipped", False, 409),
        ("staff", "delivered", True, 409),
        ("staff", "bogus", False, 400),
        ("buyer", "cancelled", False, 200),
        ("staff", "cancelled", False, 200),
        ("staff", "shipped", True, 200),
    ],
)
def test_order_status_changes_follow_the_life_cycle(people, order, item, caller, status, paid, expected):
    if paid:
        mark_order_paid(order=order)
    before = Order.objects.get(pk=order.pk).status
    parcel = {"carrier": "DHL", "tracking_number": "T1"} if status == "shipped" else {}
    response = people.client(caller).patch(f"/api/orders/{order.pk}", {"status": status, **parcel}, format="json")
    assert response.status_code == expected
    order.refresh_from_db()
    assert order.status == (status if expected == 200 else before)
    assert stock_of(item) == (10 if order.status == OrderStatus.CANCELLED else 8)


@pytest.mark.parametrize(("caller", "expected"), [("other_buyer", 404), ("buyer", 200), ("staff", 200)])
def test_deleting_an_order_cancels_it_while_pending(people, order, item, caller, expected):
    client = people.client(caller)
    assert client.delete(f"/api/orders/{order.pk}").status_code == expected
    order.refresh_from_db()
    assert (order.status == OrderStatus.CANCELLED) is (expected == 200)
    if expected == 200:
        assert stock_of(item) == 10
        assert client.delete(f"/api/orders/{order.pk}").status_code == 409


def test_pay_gives_the_demo_checkout_url_and_paying_there_marks_the_order_paid(people, order, client):
    api = people.client("buyer")
    assert people.client("other_buyer").post(f"/api/orders/{order.pk}/pay").status_code == 404
    response = api.post(f"/api/orders/{order.pk}/pay/")
    assert response.status_code == 200
    url = response.json()["checkout_url"]
    assert url.startswith("http://testserver/payments/demo/")
    assert client.post(url).status_code == 302
    assert api.get(f"/api/orders/{order.pk}").json()["status"] == "paid"
    assert api.post(f"/api/orders/{order.pk}/pay").status_code == 409


def test_a_buyers_order_list_reads_lines_and_timelines_once_for_the_page(people, item, django_assert_max_num_queries):
    """However many orders the page holds: the caller, the count, the orders, their lines, their events."""
    for _ in range(4):
        place(people.buyer, (item, 1))
    api = people.client("buyer")
    with django_assert_max_num_queries(5) as queries:
        listed = api.get(f"/api/orders/user/{people.buyer.pk}")
    assert listed.status_code == 200 and len(listed.json()["results"]) == 4, listed.content
    assert all([event["kind"] for event in order["timeline"]] == ["placed"] for order in listed.json()["results"])
    assert sum("orders_orderevent" in query["sql"] for query in queries) == 1
