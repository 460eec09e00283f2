"""The findings of the outside probe (issue 14), each replayed as the probe sent it: every one must get the safe
answer."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/signup", "/api/items", "/api/orders"])
def test_deeply_nested_json_is_a_400_not_a_500(path):
    """Finding 7: `[` x 50,000 on any API route, unauthenticated."""
    client = Client(raise_request_exception=False)
    response = client.post(path, data="[" * 50_000, content_type="application/json")

    assert response.status_code in (400, 401, 403)
    assert response["Content-Type"].startswith("application/json")
    if response.status_code == 400:
        assert "nested too deeply" in response.json()["detail"]


def test_hardening_headers_and_private_answers(client, user, make_item):
    """Finding 12 (in part): a Permissions-Policy, CSP `base-uri`, and `Cache-Control: private, no-store` on personal
    pages and API answers; shared catalog pages stay cacheable."""
    item = make_item(stock=3)
    anonymous = Client().get(item.get_absolute_url())
    assert "base-uri 'none'" in anonymous["Content-Security-Policy"]
    assert "camera=()" in anonymous["Permissions-Policy"]
    assert "no-store" not in anonymous.get("Cache-Control", "")

    client.force_login(user)
    for path in ("/orders/", "/cart/", item.get_absolute_url(), "/api/items"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}, path
        assert "camera=()" in response["Permissions-Policy"]


def test_api_docs_can_be_kept_for_staff_and_the_admin_moved(client, settings, user, staff):
    """Finding 12 (in part): `/api/docs/` and `/api/schema/` were public in production with no setting; the admin
    was only at `/admin/`."""
    import importlib

    from django.urls import clear_url_caches, reverse

    settings.API_DOCS_PUBLIC = False
    assert client.get("/api/schema/").status_code in (401, 403)
    client.force_login(user)
    assert client.get("/api/docs/").status_code == 403
    client.force_login(staff)
    assert client.get("/api/schema/").status_code == 200

    import shop.urls

    settings.ADMIN_PATH = "back-office-7f3a/"
    try:
        importlib.reload(shop.urls)
        clear_url_caches()
        assert reverse("admin:index") == "/back-office-7f3a/"
        assert client.get("/back-office-7f3a/").status_code == 200
    finally:
        settings.ADMIN_PATH = "admin/"
        importlib.reload(shop.urls)
        clear_url_caches()
    assert reverse("admin:index") == "/admin/"


def test_an_answer_that_sets_a_cookie_is_never_for_a_shared_cache(client, make_item):
    """A first visit's page carries a CSRF token whose cookie it sets: a CDN storing it would give every later visitor
    the same token. The guest order link's answer starts a session: personal."""
    from django.contrib.sessions.backends.cache import SessionStore

    from cart.selectors import CartOwner
    from cart.services import add_to_cart
    from orders.services import guest_order_link, place_order
    from tests.orders.helpers import ADDRESS

    item = make_item(stock=3)
    for _ in range(2):  # rendered, then from the page cache
        page = Client().get(item.get_absolute_url())
        assert "csrftoken" in page.cookies and page["Cache-Control"] == "private", page.get("Cache-Control")

    session = SessionStore()
    add_to_cart(owner=CartOwner(session=session), item_id=str(item.pk), quantity=1)
    order = place_order(guest=CartOwner(session=session), guest_email="guest@example.com", address=ADDRESS)
    answer = Client().get(guest_order_link(order=order))
    assert "sessionid" in answer.cookies
    assert {"private", "no-store"} <= {part.strip() for part in answer["Cache-Control"].split(",")}
