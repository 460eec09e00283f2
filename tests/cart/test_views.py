import re

import pytest
from django.test import Client
from django.urls import reverse

from cart.selectors import CartOwner, cart_for_user
from cart.services import add_to_cart, empty_cart, remove_from_cart, set_quantity
from catalog.services import update_items
from tests.factories import PASSWORD, ItemFactory, UserFactory

pytestmark = pytest.mark.django_db

CART = reverse("cart:detail")


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_anonymous_shopper_adds_updates_removes_and_empties_by_post(client, make_item):
    pan = make_item(title="Copper Pan", price_minor=1999, stock=5)
    wok = make_item(title="Iron Wok", price_minor=500, stock=5)

    response = client.post(
        reverse("cart:add"), {"item": pan.pk, "quantity": "2", "price_minor": "1", "next": pan.get_absolute_url()}
    )
    assert response.status_code == 302 and response.url == pan.get_absolute_url()
    response = client.post(reverse("cart:add"), {"item": wok.pk, "next": "https://evil.example.com/"})
    assert response.url == CART
    client.get(CART)  # shows (and so clears) the "added" messages
    response = client.post(reverse("cart:update"), {"item": wok.pk, "quantity": "3"}, follow=True)
    assert _messages(response) == ["Quantity updated."]
    html = response.content.decode()
    assert "€39.98" in html and "€15.00" in html and "€54.98" in html  # posted price ignored
    assert 'id="cart-count">5<' in html

    response = client.post(reverse("cart:remove"), {"item": pan.pk}, follow=True)
    assert "Copper Pan" not in response.content.decode() and _messages(response) == ["Removed from your cart."]
    response = client.post(reverse("cart:empty"), follow=True)
    assert "Your cart is empty" in response.content.decode() and 'id="cart-count">0<' in response.content.decode()


def test_bad_cart_input_gets_a_message_and_leaves_the_cart_unchanged(client, make_item):
    item = make_item(title="Copper Pan", stock=3)
    retired = make_item(is_active=False)
    client.post(reverse("cart:add"), {"item": item.pk, "quantity": "2"}, follow=True)

    cases = [
        ("add", {"item": item.pk, "quantity": "abc"}, "Quantity must be a whole number."),
        ("add", {"item": item.pk, "quantity": "0"}, "Quantity must be at least 1."),
        ("add", {"item": item.pk, "quantity": "-4"}, "Quantity must be at least 1."),
        ("add", {"item": item.pk, "quantity": "2"}, "Only 3 of Copper Pan left; you asked for 4."),
        ("add", {"item": retired.pk, "quantity": "1"}, "That item is not available."),
        ("add", {"item": "no-such-id", "quantity": "1"}, "That item is not available."),
        ("add", {"quantity": "1"}, "Choose an item."),
        ("update", {"item": item.pk, "quantity": "9"}, "Only 3 of Copper Pan left; you asked for 9."),
        ("update", {"item": item.pk, "quantity": "1e9"}, "Quantity must be a whole number."),
        ("remove", {"item": "no-such-id"}, "That item was not in your cart."),
    ]
    for action, data, message in cases:
        response = client.post(reverse(f"cart:{action}"), data, follow=True)
        assert response.status_code == 200
        assert _messages(response) == [message], (action, data)
    assert client.session["cart"] == {str(item.pk): 2}


def test_cart_actions_accept_only_csrf_protected_posts(make_item):
    item = make_item()
    browser = Client(enforce_csrf_checks=True)
    assert browser.get(reverse("cart:add"), {"item": item.pk}).status_code == 405
    assert browser.post(reverse("cart:add"), {"item": item.pk}).status_code == 403
    page = browser.get(item.get_absolute_url())
    token = page.cookies["csrftoken"].value
    response = browser.post(reverse("cart:add"), {"item": item.pk, "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and browser.session["cart"] == {str(item.pk): 1}


def test_login_merges_the_session_cart_and_tells_what_was_capped_or_dropped(client, make_item):
    user = UserFactory(email="ann@example.com")
    kept, capped, retired = make_item(title="Kept", stock=9), make_item(title="Copper Wok", stock=4), make_item()
    add_to_cart(owner=CartOwner(user=user), item_id=capped.pk, quantity=2)
    for item, quantity in ((kept, 1), (capped, 3), (retired, 1)):
        client.post(reverse("cart:add"), {"item": item.pk, "quantity": quantity})
    update_items(item_ids=[retired.pk], is_active=False)

    response = client.post(reverse("account_login"), {"login": "ann@example.com", "password": PASSWORD}, follow=True)

    assert response.context["user"].is_authenticated
    messages = _messages(response)
    assert "Only 4 of Copper Wok available: your cart now holds 4." in messages
    assert any("was not added to your cart" in message for message in messages)
    assert {(line.item.title, line.quantity) for line in cart_for_user(user=user).lines} == {
        ("Kept", 1),
        ("Copper Wok", 4),
    }
    assert 'id="cart-count">5<' in client.get(CART).content.decode()


def test_cart_page_flags_problem_lines_and_blocks_checkout(client, make_item):
    user = UserFactory()
    ok, short = make_item(title="Fine Pan", stock=5), make_item(title="Rare Wok", stock=5)
    add_to_cart(owner=CartOwner(user=user), item_id=ok.pk, quantity=1)
    add_to_cart(owner=CartOwner(user=user), item_id=short.pk, quantity=4)
    update_items(item_ids=[short.pk], stock=1)
    client.force_login(user)

    html = client.get(CART).content.decode()
    assert "Only 1 left. Lower the quantity to check out." in html
    assert "Fix the marked lines first." in html and "disabled" in html
    assert reverse("orders:checkout") not in html


@pytest.mark.usefixtures("each_cache")
@pytest.mark.parametrize("cache_is_shared", [True, False])
def test_cached_cart_body_follows_prices_stock_and_quantities(client, settings, make_item, cache_is_shared):
    settings.CACHE_IS_SHARED = cache_is_shared
    user = UserFactory()
    item = make_item(title="Fine Pan", stock=5, price_minor=1000)
    add_to_cart(owner=CartOwner(user=user), item_id=item.pk, quantity=2)
    client.force_login(user)
    first = client.get(CART)
    assert "€20.00" in first.content.decode() and 'value="2"' in first.content.decode()
    body = "cart/partials/_cart_body.html"
    assert body in [t.name for t in first.templates]
    again = client.get(CART)
    # From the cache where versions are shared; else rendered again, from the database.
    assert (body not in [t.name for t in again.templates]) == cache_is_shared and "€20.00" in again.content.decode()

    update_items(item_ids=[item.pk], price_minor=900)
    assert "€18.00" in client.get(CART).content.decode()
    set_quantity(owner=CartOwner(user=user), item_id=item.pk, quantity=3)
    assert "€27.00" in client.get(CART).content.decode()
    update_items(item_ids=[item.pk], stock=1)
    assert "Only 1 left. Lower the quantity to check out." in client.get(CART).content.decode()
    remove_from_cart(owner=CartOwner(user=user), item_id=item.pk)
    assert "Your cart is empty" in client.get(CART).content.decode()
    add_to_cart(owner=CartOwner(user=user), item_id=item.pk, quantity=1)
    assert "Fine Pan" in client.get(CART).content.decode()
    empty_cart(owner=CartOwner(user=user))
    assert "Your cart is empty" in client.get(CART).content.decode()

    other = UserFactory()
    add_to_cart(owner=CartOwner(user=other), item_id=item.pk, quantity=1)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(other)
    page = browser.get(CART).content.decode()
    assert "€9.00" in page and 'value="3"' not in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    removed = browser.post(reverse("cart:remove"), {"item": item.pk, "csrfmiddlewaretoken": token})
    assert removed.status_code == 302  # the cached body's forms carry this visitor's own valid token
    assert cart_for_user(user=other).is_empty


@pytest.mark.usefixtures("each_cache")
def test_navbar_badge_counts_the_stored_cart(client, make_item):
    user, item = UserFactory(), make_item(stock=9)
    client.force_login(user)
    assert 'id="cart-count">0<' in client.get("/items/").content.decode()
    add_to_cart(owner=CartOwner(user=user), item_id=item.pk, quantity=2)
    assert 'id="cart-count">2<' in client.get("/items/").content.decode()
    set_quantity(owner=CartOwner(user=user), item_id=item.pk, quantity=5)
    assert 'id="cart-count">5<' in client.get("/items/").content.decode()


@pytest.mark.parametrize("lines", [1, 24])
def test_cart_page_runs_a_fixed_number_of_queries(client, shelf, lines, django_assert_max_num_queries):
    user = UserFactory()
    for item in ItemFactory.create_batch(lines, seller=shelf["seller"], category=shelf["child"]):
        add_to_cart(owner=CartOwner(user=user), item_id=item.pk, quantity=1)
    client.force_login(user)
    # Session, user, lines with items, and pricing: VAT rates and shipping methods; however many lines.
    with django_assert_max_num_queries(6):
        response = client.get(CART)
    assert response.content.decode().count('class="d-flex gap-3 align-items-start cart-line"') == lines


def test_empty_cart_page_points_back_to_the_catalog(client):
    html = client.get(CART).content.decode()
    assert "Your cart is empty" in html and f'href="{reverse("catalog:item_list")}">Browse the catalog' in html


def test_cart_page_shows_each_message_once_around_the_cached_page(client, make_item):
    user, item = UserFactory(), make_item(title="Fine Pan", stock=5)
    client.force_login(user)
    assert "Your cart is empty" in client.get(CART).content.decode()  # cached, with no message
    added = client.post(reverse("cart:add"), {"item": item.pk, "quantity": 2, "next": CART}, follow=True)
    html = added.content.decode()
    assert "Added to your cart; it now holds 2 of this item." in html and "Fine Pan" in html
    again = client.get(CART).content.decode()
    assert "Added to your cart" not in again and "Fine Pan" in again and 'id="cart-count">2<' in again


@pytest.mark.usefixtures("each_cache")
def test_deleting_an_item_updates_the_badge_of_carts_that_held_it(client, user, make_item):
    from catalog.services import delete_item
    from tests.orders.helpers import fill_cart

    kept, deleted = make_item(title="Kept Mug"), make_item(title="Gone Mug")
    fill_cart(user, (kept, 1), (deleted, 2))
    client.force_login(user)
    badge = '<span class="badge rounded-pill text-bg-light" id="cart-count">{}</span>'
    assert badge.format(3) in client.get("/").content.decode()  # the count is now cached under the cart's version

    assert delete_item(item=deleted, actor=deleted.seller)

    assert badge.format(1) in client.get("/").content.decode()


@pytest.mark.usefixtures("each_cache")
def test_the_cart_page_follows_the_exact_stock_even_when_catalog_pages_do_not_change(client, user, make_item):
    from catalog.services import reserve_stock
    from tests.orders.helpers import fill_cart

    item = make_item(title="Copper Pan", stock=20)
    fill_cart(user, (item, 10))
    client.force_login(user)
    assert "Only" not in client.get("/cart/").content.decode()  # cached now

    reserve_stock(item_id=item.pk, quantity=12)  # another buyer: 20 -> 8, still "In stock" on catalog pages

    assert "Only 8 left" in client.get("/cart/").content.decode()


@pytest.mark.usefixtures("each_cache")
def test_a_field_added_to_the_cart_line_shows_and_follows_changes_with_no_cache_code(
    client, make_item, edit_template, settings
):
    from catalog.models import Item
    from catalog.services import update_item

    # A newcomer shows each line's SKU in the cart.
    edit_template("cart/partials/_cart_line.html", "</h2>", '</h2><p class="sku">SKU {{ line.item.sku }}</p>')
    user, pan = UserFactory(), make_item(title="Steel Pan", sku="PAN-1", stock=5)
    add_to_cart(owner=CartOwner(user=user), item_id=pan.pk, quantity=1)
    client.force_login(user)

    assert '<p class="sku">SKU PAN-1</p>' in client.get(CART).content.decode()
    if settings.CACHE_IS_SHARED:  # the cart page is cached (without a shared cache, it is rendered every time)
        Item.objects.filter(pk=pan.pk).update(sku="UNSEEN")  # behind the cache's back: the cached page is served
        assert '<p class="sku">SKU PAN-1</p>' in client.get(CART).content.decode()

    update_item(item=pan, actor=pan.seller, sku="PAN-2")

    html = client.get(CART).content.decode()
    assert '<p class="sku">SKU PAN-2</p>' in html and "PAN-1" not in html and "UNSEEN" not in html
