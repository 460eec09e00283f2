import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from shop.converters import PkConverter
from tests.api.conftest import People
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db

BAD_IDS = [
    bad for bad in ["abc", "0", "1" * 30, "5f0c" + "0" * 20, "42", "-1"] if not re.fullmatch(PkConverter.regex, bad)
]


@pytest.fixture
def people(db) -> People:
    return People()


def test_every_route_answers_with_and_without_a_trailing_slash_without_redirect(people):
    item = ItemFactory()
    buyer, staff = people.buyer, people.client("staff")
    routes = ["items", f"items/{item.pk}", f"carts/{buyer.pk}", f"users/{buyer.pk}", "users", f"orders/user/{buyer.pk}"]
    for route in routes:
        for url in (f"/api/{route}", f"/api/{route}/"):
            assert staff.get(url).status_code == 200, url


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_an_id_in_another_form_is_a_404_before_any_query(people, bad_id, django_assert_max_num_queries):
    client = people.client("staff")
    people.staff  # noqa: B018 - made before counting queries
    with django_assert_max_num_queries(1):  # the caller's own row, read by the JWT authentication
        for url in (f"/api/items/{bad_id}", f"/api/users/{bad_id}", f"/api/carts/{bad_id}", f"/api/orders/{bad_id}"):
            response = client.get(url)
            assert response.status_code == 404, url
            assert response["content-type"].startswith(("application/json", "text/html"))


def test_a_non_json_body_is_refused(people):
    response = people.client("seller").post(
        "/api/items", data="title=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415


def test_the_session_of_the_web_shop_also_authenticates(people, client):
    client.force_login(people.buyer)
    assert client.get(f"/api/carts/{people.buyer.pk}").status_code == 200


def test_the_schema_describes_every_route(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {
        "/api/auth/signup", "/api/auth/login", "/api/auth/refresh", "/api/auth/logout", "/api/items",
        "/api/items/{item_id}", "/api/carts/{user_id}", "/api/carts/{user_id}/add", "/api/carts/{user_id}/{item_id}",
        "/api/users",
        "/api/users/{user_id}", "/api/orders", "/api/orders/user/{user_id}", "/api/orders/{order_id}",
        "/api/orders/{order_id}/pay", "/api/orders/{order_id}/refunds", "/api/carts/{user_id}/discount",
        "/api/shipping-methods", "/api/discount-codes", "/api/discount-codes/{code_id}",
        "/api/users/me/export", "/api/users/{user_id}/export",
    } == set(paths)  # fmt: skip
    assert "collides" in paths["/api/orders/user/{user_id}"]["get"]["description"]


def test_the_docs_page_loads_swagger_ui_from_our_own_static_files(client):
    html = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "<script>" not in html


MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def test_every_time_in_an_answer_is_utc_to_the_millisecond_as_javascript_writes_it(people, settings):
    """`Date.toISOString()`, as the MERN backend's clients read times; and what MongoDB keeps, so that the answer to a
    write and every later read of the row show the same time on both backends."""
    from datetime import UTC, datetime, timedelta, timezone

    from catalog.models import Item

    settings.TIME_ZONE = "Europe/Berlin"  # the shop's own zone never leaks into the API
    item = ItemFactory(seller=people.seller)
    moment = datetime(2026, 7, 1, 10, 20, 30, 123456, tzinfo=timezone(timedelta(hours=2)))
    Item.objects.filter(pk=item.pk).update(created_at=moment)
    body = people.client("staff").get(f"/api/items/{item.pk}").json()
    assert body["created_at"] == "2026-07-01T08:20:30.123Z"
    assert MOMENT.fullmatch(body["updated_at"])
    created = people.client("seller").post(
        "/api/items", {"title": "Kettle", "price": 1999, "category": item.category.slug}, format="json"
    )
    assert created.status_code == 201, created.content
    answer = created.json()
    assert MOMENT.fullmatch(answer["created_at"]) and MOMENT.fullmatch(answer["updated_at"])
    assert people.client("seller").get(f"/api/items/{answer['id']}").json() == answer
    assert datetime.fromisoformat(answer["created_at"]) <= datetime.now(UTC)


def test_the_schema_documents_paging_on_every_paginated_list_and_busy_answers_on_every_write():
    """A client made from the schema can page every list, and knows that a write may answer 503 `busy` (with
    Retry-After) when the database stays locked past the shop's retries."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    lists = ["/api/items", "/api/users", "/api/orders/user/{user_id}", "/api/discount-codes"]
    for path in lists:
        names = {parameter["name"] for parameter in schema["paths"][path]["get"].get("parameters", [])}
        assert {"page", "page_size"} <= names, path
    writes = [(path, method) for path, operations in schema["paths"].items() for method in operations
              if method in ("post", "put", "patch", "delete")]  # fmt: skip
    assert writes and all("503" in schema["paths"][path][method]["responses"] for path, method in writes)
