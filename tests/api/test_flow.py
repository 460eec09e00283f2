"""The issue's "done when": a client that knows only the API's routes shops from signup to a paid order, and a seller
manages their items but not another's."""

import pytest
from rest_framework.test import APIClient

from tests.factories import PASSWORD, CategoryFactory, ItemFactory, SellerFactory

pytestmark = pytest.mark.django_db


def test_a_client_signs_up_shops_orders_and_pays_over_the_api_alone(client):
    ItemFactory(title="Copper kettle", price_minor=4000, stock=2)
    api = APIClient()
    assert (
        api.post("/api/auth/signup", {"email": "eve@example.com", "password": PASSWORD}, format="json").status_code
        == 201
    )
    tokens = api.post("/api/auth/login", {"email": "eve@example.com", "password": PASSWORD}, format="json").json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    me = tokens["user"]["id"]

    found = api.get("/api/items", {"q": "kettle"}).json()["results"]
    kettle = found[0]["id"]
    assert api.post(f"/api/carts/{me}/add", {"item": kettle, "quantity": 1}, format="json").status_code == 200
    assert api.put(f"/api/carts/{me}/{kettle}", {"quantity": 2}, format="json").json()["total"] == 8000
    order = api.post("/api/orders", {}, format="json").json()
    checkout_url = api.post(f"/api/orders/{order['id']}/pay").json()["checkout_url"]
    assert client.post(checkout_url).status_code == 302  # the demo gateway's Pay button
    assert api.get(f"/api/orders/{order['id']}").json()["status"] == "paid"


def test_a_seller_creates_changes_and_deletes_their_items_but_not_anothers():
    category = CategoryFactory(slug="tea")
    other = ItemFactory(seller=SellerFactory())
    api = APIClient()
    seller = SellerFactory()
    tokens = api.post("/api/auth/login", {"email": seller.email, "password": PASSWORD}, format="json").json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    created = api.post("/api/items", {"title": "Teapot", "price": 900, "category": "tea"}, format="json").json()
    assert created["category"] == category.slug
    change = {"stock": 5, "expected_stock": created["stock"]}
    assert api.patch(f"/api/items/{created['id']}", change, format="json").json()["stock"] == 5
    assert api.delete(f"/api/items/{created['id']}").status_code == 204
    assert api.patch(f"/api/items/{other.pk}", {"stock": 0}, format="json").status_code == 403
    assert api.delete(f"/api/items/{other.pk}").status_code == 403
