import pytest
from django.test import Client
from django.urls import reverse

from catalog.services import reserve_stock, update_items
from tests.factories import CategoryFactory, ItemFactory

pytestmark = pytest.mark.django_db

LIST = reverse("catalog:item_list")


def _html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_list_filters_sorts_and_keeps_filters_in_page_links(client, make_item):
    for n in range(30):
        make_item(title=f"Copper Pot {n:02d}", price_minor=1000 + n)
    make_item(title="Garden Hose", price_minor=1500)

    html = _html(client.get(LIST, {"q": "copper", "sort": "-price", "max_price": "10.25"}))
    assert "26 items" in html and "page 1 of 2" in html
    assert html.index("Copper Pot 25") < html.index("Copper Pot 24")
    assert "Copper Pot 26" not in html and "Garden Hose" not in html
    assert 'href="?q=copper&amp;max_price=10.25&amp;sort=-price&amp;page=2"' in html

    page2 = _html(client.get(LIST, {"q": "copper", "sort": "-price", "max_price": "10.25", "page": "2"}))
    assert page2.count('class="card h-100 item-card') == 2 and "Copper Pot 00" in page2

    assert "page 1 of 2" in _html(client.get(LIST, {"page": "abc"}))
    assert "page 2 of 2" in _html(client.get(LIST, {"page": "99999"}))
    long_search = _html(client.get(LIST, {"q": "copper" * 2000}))
    assert "No items match" in long_search and "copper" * 16 + "copp" in long_search


def test_bad_filters_are_reported_and_ignored_and_empty_results_offer_a_way_back(client, make_item):
    make_item(title="Copper Pot", price_minor=1000)
    html = _html(client.get(LIST, {"q": "pot", "min_price": "cheap", "sort": "sideways"}))
    assert "Min price: Enter an amount such as 12.50." in html and "Unknown sort order" in html
    assert "1 item" in html and "Copper Pot" in html

    empty = _html(client.get(LIST, {"q": "unicorn"}))
    assert "No items match &ldquo;unicorn&rdquo;" in empty
    assert f'href="{LIST}">Clear all filters' in empty


def test_category_page_includes_children_and_unknown_category_is_404(client, shelf, make_item):
    make_item(title="Copper Wok")
    make_item(title="Bread Board", category=shelf["parent"])
    make_item(title="Atlas", category=CategoryFactory(name="Books"))

    parent = _html(client.get(reverse("catalog:category", kwargs={"slug": "kitchen"})))
    assert "Copper Wok" in parent and "Bread Board" in parent and "Atlas" not in parent
    assert 'href="/categories/cookware/">Cookware</a>' in parent
    child = _html(client.get(reverse("catalog:category", kwargs={"slug": "cookware"}), {"sort": "title"}))
    assert "Copper Wok" in child and "Bread Board" not in child
    assert client.get(reverse("catalog:category", kwargs={"slug": "nope"})).status_code == 404


def test_item_detail_shows_stock_status_form_and_related_and_hides_inactive(client, make_item):
    item = make_item(title="Copper Wok", stock=3, price_minor=2499)
    make_item(title="Iron Pan")
    make_item(title="Empty Pot", stock=0)
    retired = make_item(title="Old Wok", is_active=False)

    html = _html(client.get(item.get_absolute_url()))
    assert "Only 3 left" in html and "€24.99" in html
    assert 'name="csrfmiddlewaretoken"' in html and 'max="3"' in html
    assert "More from Cookware" in html and "Iron Pan" in html and "Empty Pot" not in html
    assert client.get(retired.get_absolute_url()).status_code == 404
    assert "Out of stock" in _html(client.get(reverse("catalog:item", kwargs={"slug": "empty-pot"})))
    assert "Old Wok" not in _html(client.get(LIST))


@pytest.mark.usefixtures("each_cache")
@pytest.mark.parametrize("version_in_cache, queries", [(True, 0), (False, 1)])
def test_cached_pages_show_changes_made_anywhere_on_the_next_request(
    client, settings, make_item, django_assert_num_queries, version_in_cache, queries
):
    settings.CACHE_IS_SHARED = version_in_cache
    item = make_item(title="Copper Wok", stock=2, price_minor=2000)
    assert "€20.00" in _html(client.get(LIST))
    with django_assert_num_queries(queries):  # at most the catalog revision: the page came from the cache
        assert "€20.00" in _html(client.get(LIST))

    # No signal reaches other gunicorn workers; the version token in the shared cache (or the database row) does.
    update_items(item_ids=[item.pk], price_minor=1500)
    assert "€15.00" in _html(client.get(LIST))
    assert "Only 2 left" in _html(client.get(item.get_absolute_url()))
    reserve_stock(item_id=item.pk, quantity=2)
    assert "Out of stock" in _html(client.get(item.get_absolute_url()))
    item.refresh_from_db()
    item.is_active = False
    item.save()  # what the admin does
    assert client.get(item.get_absolute_url()).status_code == 404
    assert "Copper Wok" not in _html(client.get(LIST))


def test_home_shows_categories_and_new_items(client, make_item):
    make_item(title="Copper Wok")
    html = _html(client.get("/"))
    assert 'href="/categories/kitchen/">Kitchen</a>' in html and "Copper Wok" in html


@pytest.mark.parametrize("count", [1, 25])
def test_catalog_pages_run_a_fixed_number_of_queries(client, shelf, count, django_assert_max_num_queries):
    items = ItemFactory.create_batch(count, seller=shelf["seller"], category=shelf["child"])
    on_page = min(count, 24)
    pages = {  # url: (query budget, item cards shown)
        LIST: (4, on_page),
        LIST + "?q=item&category=kitchen&min_price=1&in_stock=1&sort=price": (5, on_page),
        reverse("catalog:category", kwargs={"slug": "kitchen"}): (5, on_page),
        # On a miss an item page first reads which category's version it goes by.
        items[-1].get_absolute_url(): (4, min(count - 1, 4)),
    }
    for url, (budget, cards) in pages.items():
        with django_assert_max_num_queries(budget):
            html = _html(client.get(url))
        assert html.count('class="card h-100 item-card') == cards


@pytest.mark.usefixtures("each_cache")
def test_whole_pages_are_cached_only_for_visitors_with_nothing_personal(
    client, settings, make_item, django_assert_num_queries
):
    item = make_item(title="Copper Wok", stock=5)
    stranger = Client()
    assert 'id="cart-count">0<' in _html(stranger.get(item.get_absolute_url()))
    with django_assert_num_queries(0 if settings.CACHE_IS_SHARED else 1):
        page = stranger.get(item.get_absolute_url())
    assert 'name="csrfmiddlewaretoken"' in _html(page) and "csrftoken" in page.cookies

    client.post(reverse("cart:add"), {"item": item.pk, "quantity": 2})
    mine = _html(client.get(item.get_absolute_url(), follow=True))
    assert 'id="cart-count">2<' in mine and "Added to your cart" in mine
    assert 'id="cart-count">0<' in _html(stranger.get(item.get_absolute_url()))


def test_a_change_made_by_another_process_of_the_host_shows_on_the_next_request(
    client, settings, tmp_path, monkeypatch, make_item
):
    """The default cache is on disk: another worker or a manage.py command opens the same directory."""
    from diskcache import DjangoCache

    import shop.fragments

    settings.CACHES = {"default": {"BACKEND": "diskcache.DjangoCache", "LOCATION": str(tmp_path)}}
    settings.CACHE_IS_SHARED = True
    item = make_item(title="Copper Wok", price_minor=2000)
    assert "€20.00" in _html(client.get(item.get_absolute_url()))

    other_process_cache = DjangoCache(str(tmp_path), {})
    with monkeypatch.context() as other_process:
        other_process.setattr(shop.fragments, "cache", other_process_cache)
        update_items(item_ids=[item.pk], price_minor=1500)
    other_process_cache.close()
    assert "€15.00" in _html(client.get(item.get_absolute_url()))


def test_each_search_shows_its_own_text_escaped_in_the_filter_form(client, make_item):
    make_item(title="Copper Wok")
    html = _html(client.get(LIST, {"q": 'wok "deluxe" <b>'}))
    assert 'name="q" value="wok &quot;deluxe&quot; &lt;b&gt;"' in html and "<b>" not in html
    html = _html(client.get(LIST, {"q": "copper"}))
    assert 'name="q" value="copper"' in html and "Copper Wok" in html
    html = _html(client.get(LIST))
    assert '<input type="text" name="q" class="textinput form-control" id="filter_q">' in html  # an empty box


def test_item_cards_are_shared_between_pages_and_come_back_to_each_page(client, make_item):
    from catalog.templatetags.catalog_cards import _card

    _card.cache_clear()
    for n in range(25):
        make_item(title=f"Iron Pan {n:02d}", stock=4)
    first = _html(client.get(LIST, {"q": "iron", "page": 2}))
    assert first.count('class="card h-100 item-card') == 1
    assert 'name="next" value="/items/?q=iron&amp;page=2"' in first
    rendered = _card.cache_info().currsize
    second = _html(client.get(LIST, {"q": "iron pan", "page": 2}))
    assert 'name="next" value="/items/?q=iron+pan&amp;page=2"' in second
    assert _card.cache_info().currsize == rendered  # the same card, rendered once
    assert "Only 4 left" in second


def test_the_item_page_shows_the_exact_stock_only_when_it_is_low(client, make_item):
    plenty, few = make_item(title="Big Pot", stock=40), make_item(title="Small Pot", stock=3)

    assert 'max="999"' in client.get(plenty.get_absolute_url()).content.decode()
    page = client.get(few.get_absolute_url()).content.decode()
    assert 'max="3"' in page and "Only 3 left" in page


def test_a_field_added_to_the_card_template_shows_and_follows_changes_with_no_cache_code(make_item, edit_template):
    from catalog.services import update_item
    from catalog.templatetags.catalog_cards import _card

    # A newcomer shows the item's description on its card, and its category's.
    fields = '<p class="card-description">{{ item.description }}</p>'
    fields += '<p class="shelf">{{ item.category.description }}</p>'
    edit_template("catalog/partials/_item_card.html", "</h3>", f"</h3>{fields}")
    _card.cache_clear()
    pan = make_item(title="Steel Pan", description="Heavy and flat.")
    client = Client()

    assert '<p class="card-description">Heavy and flat.</p>' in client.get("/items/").content.decode()

    update_item(item=pan, actor=pan.seller, description="Light and deep.")

    html = client.get("/items/").content.decode()
    assert '<p class="card-description">Light and deep.</p>' in html and "Heavy and flat." not in html

    pan.category.description = "Pans for every stove."
    pan.category.save()

    assert '<p class="shelf">Pans for every stove.</p>' in client.get("/items/").content.decode()
    _card.cache_clear()


@pytest.mark.usefixtures("each_cache")
def test_a_field_added_to_the_item_page_shows_and_follows_changes_with_no_cache_code(
    make_item, edit_template, django_assert_max_num_queries
):
    from shop.db import atomic

    # A newcomer shows the item's weight and its category's description on the item page.
    fields = '<p class="weight">{{ item.weight_grams }} g</p><p class="shelf">{{ item.category.description }}</p>'
    edit_template("catalog/partials/_item_detail_body.html", "<h2 ", f"{fields}<h2 ")
    pan = make_item(title="Steel Pan", weight_grams=900)
    url, visitor = pan.get_absolute_url(), Client()

    assert '<p class="weight">900 g</p>' in _html(visitor.get(url))
    with django_assert_max_num_queries(1):  # the page is served from the cache (a version read on MongoDB)
        assert '<p class="weight">900 g</p>' in _html(visitor.get(url))

    with atomic():  # as the admin saves
        pan.weight_grams = 1200
        pan.save()

    html = _html(visitor.get(url))
    assert '<p class="weight">1200 g</p>' in html and "900 g" not in html

    pan.category.description = "Pans for every stove."
    pan.category.save()

    assert '<p class="shelf">Pans for every stove.</p>' in _html(visitor.get(url))
