import pytest

from cart.selectors import cart_for_user
from tests.api.conftest import People
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db) -> People:
    return People()


@pytest.fixture
def item(db):
    return ItemFactory(stock=5, price_minor=1250)


def _lines(user) -> dict[str, int]:
    return {str(line.item.pk): line.quantity for line in cart_for_user(user=user).lines}


OWNER_TABLE = [("anonymous", 401), ("buyer", 200), ("other_buyer", 404), ("seller", 404), ("staff", 200)]


@pytest.mark.parametrize(("caller", "expected"), OWNER_TABLE)
def test_cart_is_shown_to_its_owner_and_staff_only(people, item, caller, expected):
    from cart.selectors import CartOwner
    from cart.services import add_to_cart

    add_to_cart(owner=CartOwner(user=people.buyer), item_id=item.pk, quantity=2)
    response = people.client(caller).get(f"/api/carts/{people.buyer.pk}")
    assert response.status_code == expected
    if expected == 200:
        body = response.json()
        assert body["user"] == str(people.buyer.pk) and body["total"] == 2500 and body["currency"] == "EUR"
        assert body["lines"] == [
            {"item": str(item.pk), "title": item.title, "quantity": 2, "unit_price": 1250, "line_total": 2500,
             "problem": None, "problem_message": ""}
        ]  # fmt: skip


@pytest.mark.parametrize(("caller", "expected"), OWNER_TABLE)
def test_adding_to_a_cart_is_for_its_owner_or_staff(people, item, caller, expected):
    response = people.client(caller).post(
        f"/api/carts/{people.buyer.pk}/add/", {"item": str(item.pk), "quantity": 2}, format="json"
    )
    assert response.status_code == expected
    assert _lines(people.buyer) == ({str(item.pk): 2} if expected == 200 else {})


@pytest.mark.parametrize(
    "body",
    [{"quantity": -1}, {"quantity": 0}, {"quantity": 1000}, {"quantity": 10**30}, {"quantity": "2"},
     {"quantity": 2.5}, {"quantity": True}, {"quantity": None}, {"item": "not-an-id"}, {"item": None},
     {"colour": "red"}],
)  # fmt: skip
def test_bad_cart_input_answers_400_and_changes_nothing(people, item, body):
    client = people.client("buyer")
    client.post(f"/api/carts/{people.buyer.pk}/add", {"item": str(item.pk), "quantity": 1}, format="json")
    response = client.post(f"/api/carts/{people.buyer.pk}/add", {"item": str(item.pk), **body}, format="json")
    assert response.status_code == 400
    put = client.put(f"/api/carts/{people.buyer.pk}/{item.pk}", {"quantity": 1, **body}, format="json")
    assert put.status_code == 400
    assert _lines(people.buyer) == {str(item.pk): 1}


def test_malformed_json_answers_400_and_changes_nothing(people, item):
    response = people.client("buyer").post(
        f"/api/carts/{people.buyer.pk}/add", data='{"item": ', content_type="application/json"
    )
    assert response.status_code == 400 and "detail" in response.json()
    assert _lines(people.buyer) == {}


def test_asking_for_more_than_the_stock_answers_409_and_changes_nothing(people, item):
    client = people.client("buyer")
    client.post(f"/api/carts/{people.buyer.pk}/add", {"item": str(item.pk), "quantity": 4}, format="json")
    response = client.post(f"/api/carts/{people.buyer.pk}/add", {"item": str(item.pk), "quantity": 2}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "not_enough_stock"
    assert client.put(f"/api/carts/{people.buyer.pk}/{item.pk}", {"quantity": 6}, format="json").status_code == 409
    assert _lines(people.buyer) == {str(item.pk): 4}


def test_an_unknown_or_inactive_item_answers_404(people, item):
    gone = ItemFactory(is_active=False)
    client = people.client("buyer")
    response = client.post(f"/api/carts/{people.buyer.pk}/add", {"item": str(gone.pk)}, format="json")
    assert response.status_code == 404
    assert client.put(f"/api/carts/{people.buyer.pk}/{item.pk}", {"quantity": 1}, format="json").status_code == 404
    assert client.delete(f"/api/carts/{people.buyer.pk}/{item.pk}").status_code == 404


@pytest.mark.parametrize(("caller", "expected"), OWNER_TABLE)
def test_changing_and_removing_a_line_is_for_the_owner_or_staff(people, item, caller, expected):
    from cart.selectors import CartOwner
    from cart.services import add_to_cart

    add_to_cart(owner=CartOwner(user=people.buyer), item_id=item.pk, quantity=1)
    client = people.client(caller)
    response = client.put(f"/api/carts/{people.buyer.pk}/{item.pk}/", {"quantity": 3}, format="json")
    assert response.status_code == expected
    assert _lines(people.buyer) == {str(item.pk): 3 if expected == 200 else 1}
    response = client.delete(f"/api/carts/{people.buyer.pk}/{item.pk}")
    assert response.status_code == expected
    assert _lines(people.buyer) == ({} if expected == 200 else {str(item.pk): 1})


def test_an_item_added_over_the_api_is_in_the_web_cart(people, item, client):
    api = people.client("buyer")
    api.post(f"/api/carts/{people.buyer.pk}/add", {"item": str(item.pk), "quantity": 3}, format="json")
    client.force_login(people.buyer)
    page = client.get("/cart/")
    assert page.status_code == 200
    assert item.title in page.content.decode()
    assert [(line.item.pk, line.quantity) for line in page.context["cart"].lines] == [(item.pk, 3)]


def test_an_add_or_a_change_answers_with_the_cart_a_fresh_read_shows(people, item):
    """The add and the change answer from the rows their unit of work read and wrote: the same JSON as a GET after."""
    from pricing.models import DiscountCode

    DiscountCode.objects.create(code="TEN", kind="percent", value=10)
    api, cart = people.client("buyer"), f"/api/carts/{people.buyer.pk}"
    other = ItemFactory(stock=9, price_minor=300)
    answers = [api.post(f"{cart}/add", {"item": str(other.pk), "quantity": 2}, format="json")]
    assert api.post(f"{cart}/discount", {"code": "TEN"}, format="json").status_code == 200
    answers.append(api.post(f"{cart}/add", {"item": str(item.pk), "quantity": 1}, format="json"))  # a new line
    answers.append(api.post(f"{cart}/add", {"item": str(item.pk), "quantity": 2}, format="json"))  # the same line
    answers.append(api.put(f"{cart}/{other.pk}", {"quantity": 4}, format="json"))
    for answer in answers:
        assert answer.status_code == 200, answer.content
    final = api.get(cart).json()
    assert answers[-1].json() == final
    assert [(line["item"], line["quantity"]) for line in final["lines"]] == [(str(other.pk), 4), (str(item.pk), 3)]
    assert final["discount"] == {"code": "TEN", "amount": 120 + 375}
    assert [line["quantity"] for line in answers[2].json()["lines"]] == [2, 3]


def test_an_add_reads_the_cart_once(people, item, django_assert_max_num_queries):
    """The JWT's user, the cart with its items, the item (a new line only), the write: the answer reads no line again.
    (Plus the transaction's own statements, and on MongoDB the prices' rates and shipping methods.)"""
    api, cart = people.client("buyer"), f"/api/carts/{people.buyer.pk}"
    api.post(f"{cart}/add", {"item": str(ItemFactory(stock=9).pk), "quantity": 1}, format="json")
    with django_assert_max_num_queries(8) as queries:
        answer = api.post(f"{cart}/add", {"item": str(item.pk), "quantity": 1}, format="json")
    assert answer.status_code == 200 and len(answer.json()["lines"]) == 2
    line_reads = [sql for query in queries if "cart_cartline" in (sql := query["sql"]) and "SERT" not in sql.upper()]
    assert len(line_reads) == 1, line_reads
