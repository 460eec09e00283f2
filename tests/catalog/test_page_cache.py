"""Anonymous catalog pages come whole from the cache, before the session, auth and message middleware and the view,
finished like the view's own (CSRF field and cookie, security headers), and never stale."""

import pytest

from catalog.services import update_item
from catalog.views import ItemDetailView

pytestmark = pytest.mark.usefixtures("each_cache")  # on the tests' memory cache, the disk cache and Redis


@pytest.fixture
def pot(make_item):
    return make_item(title="Cast Iron Pot", slug="cast-iron-pot", price_minor=4500)


def test_an_anonymous_page_is_served_from_the_cache_without_the_view_or_the_database(
    client, pot, monkeypatch, settings, django_assert_num_queries
):
    first = client.get(pot.get_absolute_url())
    assert first.status_code == 200 and "Cast Iron Pot" in first.content.decode()
    client.cookies.clear()  # a new visitor: no CSRF cookie yet

    def view_must_not_run(*args, **kwargs):
        raise AssertionError("the view ran")

    monkeypatch.setattr(ItemDetailView, "get", view_must_not_run)
    # No query at all with a shared cache; else the one read of the catalog's revision row.
    with django_assert_num_queries(0 if settings.CACHE_IS_SHARED else 1):
        second = client.get(pot.get_absolute_url())

    html = second.content.decode()
    assert second.status_code == 200 and "Cast Iron Pot" in html
    assert second["X-Frame-Options"] == "DENY" and "default-src 'self'" in second["Content-Security-Policy"]
    # Its add-to-cart form carries this visitor's own token, and the cookie that goes with it.
    assert 'name="csrfmiddlewaretoken"' in html and "csrftoken" in second.cookies
    assert second.cookies["csrftoken"].value != first.cookies["csrftoken"].value


def test_a_change_shows_on_the_next_anonymous_request(client, pot, seller):
    assert "45.00" in client.get(pot.get_absolute_url()).content.decode()

    update_item(item=pot, actor=pot.seller, price_minor=3900)

    html = client.get(pot.get_absolute_url()).content.decode()
    assert "39.00" in html and "45.00" not in html


def test_a_visitor_with_a_session_gets_their_own_page(client, pot, user):
    client.get("/items/")  # cached for anonymous visitors
    client.force_login(user)
    assert user.email in client.get("/items/").content.decode()


def test_pages_outside_the_catalog_are_not_looked_up(client, db, monkeypatch):
    from catalog import page_cache

    looked_up = []
    monkeypatch.setattr(page_cache, "cached_value", lambda **kwargs: looked_up.append(kwargs))
    assert client.get("/cart/").status_code == 200
    assert client.get("/health/live/").status_code == 200
    assert looked_up == []


def test_a_price_change_renders_its_own_category_again_and_keeps_the_others(
    client, pot, shelf, make_item, settings, monkeypatch, django_assert_num_queries
):
    from tests.factories import CategoryFactory

    books = CategoryFactory(name="Books", slug="books")
    atlas = make_item(title="Atlas", slug="atlas", category=books, price_minor=1200)
    pages = ["/items/", shelf["child"].get_absolute_url(), books.get_absolute_url(), atlas.get_absolute_url()]
    for page in [*pages, pot.get_absolute_url()]:
        assert client.get(page).status_code == 200
        client.cookies.clear()

    update_item(item=pot, actor=pot.seller, price_minor=3900)

    # The pages that show the pot: rendered again, with the new price.
    for page in ["/items/", shelf["child"].get_absolute_url(), shelf["parent"].get_absolute_url()]:
        html = client.get(page).content.decode()
        assert "39.00" in html and "45.00" not in html
        client.cookies.clear()
    # The Books page and the atlas's page show nothing of it: still served from the cache.
    monkeypatch.setattr(ItemDetailView, "get", lambda *args, **kwargs: pytest.fail("the view ran"))
    for page in pages[2:]:
        with django_assert_num_queries(0 if settings.CACHE_IS_SHARED else 1):
            assert client.get(page).status_code == 200
        client.cookies.clear()


@pytest.mark.django_db
def test_the_demo_loaders_committed_batches_show_when_a_later_one_fails(client, monkeypatch):
    """The demo loader commits its items batch by batch: a run that stops halfway leaves none unseen by cached pages
    (the categories already there, so that no category save moves the versions on its own)."""
    from catalog import demo
    from catalog.models import Item

    demo.ensure_demo_users()
    demo.ensure_demo_categories()
    client.get("/items/")  # cached
    batches = []
    store = demo._create_items

    def second_batch_fails(items):
        batches.append(items)
        if len(batches) == 2:
            raise RuntimeError("the disk is full")
        return store(items)

    monkeypatch.setattr(demo, "_create_items", second_batch_fails)
    with pytest.raises(RuntimeError):
        demo.load_demo(items=4, batch_size=2)
    stored = list(Item.objects.filter(is_active=True).values_list("title", flat=True))
    assert len(stored) == 2
    page = client.get("/items/").content.decode()
    assert all(title in page for title in stored)
