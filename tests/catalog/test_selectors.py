import pytest
from django.core.exceptions import ValidationError

from catalog.models import Item
from catalog.selectors import (
    ITEMS,
    STOCK,
    catalog_version,
    category_scope,
    item_list,
    item_page,
    item_page_scopes,
    items_by_ids,
    sellable_item,
)
from catalog.services import release_stock, reserve_stock, update_items
from shop.db import atomic
from tests.factories import CategoryFactory, ItemFactory

pytestmark = pytest.mark.django_db


def _titles(items):
    return [item.title for item in items]


def test_item_list_searches_filters_and_sorts(shelf, make_item):
    books = CategoryFactory(name="Books", slug="books")
    make_item(title="Copper Wok", price_minor=2500, stock=0)
    make_item(title="Steel Pan", description="Pairs with a COPPER lid.", price_minor=1250, category=shelf["parent"])
    make_item(title="Atlas", price_minor=999, category=books)
    make_item(title="Hidden Copper", is_active=False)

    assert set(_titles(item_list(q="copper"))) == {"Copper Wok", "Steel Pan"}
    assert set(_titles(item_list(category_slug="kitchen"))) == {"Copper Wok", "Steel Pan"}
    assert _titles(item_list(category_slug="cookware")) == ["Copper Wok"]
    assert _titles(item_list(category_slug="no-such-shelf")) == []
    assert _titles(item_list(min_price_minor=999, max_price_minor=1250, sort="price")) == ["Atlas", "Steel Pan"]
    assert set(_titles(item_list(in_stock=True))) == {"Steel Pan", "Atlas"}
    assert _titles(item_list(sort="price")) == ["Atlas", "Steel Pan", "Copper Wok"]
    assert _titles(item_list(sort="-price")) == ["Copper Wok", "Steel Pan", "Atlas"]
    assert _titles(item_list(sort="title")) == ["Atlas", "Copper Wok", "Steel Pan"]
    assert _titles(item_list(sort="newest")) == ["Atlas", "Steel Pan", "Copper Wok"]
    assert _titles(item_list(sort="bogus")) == _titles(item_list())


def test_item_page_turns_bad_page_numbers_into_first_or_last_page(make_item):
    for n in range(5):
        make_item(title=f"Thing {n}")
    items = item_list()
    assert item_page(items=items, page="abc", per_page=2).number == 1
    assert item_page(items=items, page="-1", per_page=2).number == 1
    assert item_page(items=items, page="99999", per_page=2).number == 3
    assert len(item_page(items=items, page="3", per_page=2).object_list) == 1


def test_lookups_by_id_skip_unknown_malformed_and_inactive_items(make_item):
    on_sale, retired = make_item(), make_item(is_active=False)
    assert set(items_by_ids(ids=[str(on_sale.pk), str(retired.pk), "abc", "", "9" * 30])) == {
        str(on_sale.pk),
        str(retired.pk),
    }
    assert sellable_item(item_id=str(on_sale.pk)) == on_sale
    assert sellable_item(item_id=str(retired.pk)) is None
    assert sellable_item(item_id="abc") is None
    assert sellable_item(item_id=None) is None


@pytest.mark.usefixtures("each_cache")
def test_catalog_version_moves_with_every_change_shoppers_can_see(shelf, make_item, django_capture_on_commit_callbacks):
    item = make_item(stock=3)
    scopes = (ITEMS, category_scope("cookware"), category_scope("kitchen"))  # lists, the item's category, its parent
    seen = {scope: {catalog_version(scope)} for scope in scopes}

    def changed() -> bool:
        fresh = True
        for scope in scopes:
            version = catalog_version(scope)
            fresh = fresh and version not in seen[scope]
            seen[scope].add(version)
        return fresh

    assert not changed()
    assert reserve_stock(item_id=item.pk, quantity=1) and changed()  # 3 -> 2: "Only 2 left"
    release_stock(item_id=item.pk, quantity=1)
    assert changed()
    assert update_items(item_ids=[item.pk], price_minor=777) == 1 and changed()
    item.refresh_from_db()
    item.is_active = False
    item.save()
    assert changed()
    shelf["child"].name = "Pots and Pans"
    shelf["child"].save()
    assert changed()
    make_item()
    assert changed()
    # QuerySet.delete() runs in Django's own atomic block: the new token waits for its commit, which the test case's
    # wrapping transaction would otherwise hold back.
    with django_capture_on_commit_callbacks(execute=True):
        Item.objects.filter(pk=item.pk).delete()
    assert changed()


def test_an_item_change_keeps_the_pages_of_other_categories(shelf, make_item):
    books = CategoryFactory(name="Books", slug="books")
    pan, atlas = make_item(title="Pan", category=shelf["child"]), make_item(title="Atlas", category=books)
    other = catalog_version(category_scope("books"))
    other_item_page = catalog_version(*item_page_scopes(slug=atlas.slug))
    lists = catalog_version(ITEMS)

    pan.price_minor += 100
    pan.save()

    assert catalog_version(ITEMS) != lists  # the lists that show the pan
    assert catalog_version(*item_page_scopes(slug=pan.slug)) != catalog_version(category_scope("books"))
    assert catalog_version(category_scope("books")) == other  # the Books page and its items' pages stay cached
    assert catalog_version(*item_page_scopes(slug=atlas.slug)) == other_item_page

    pan.category = books  # moved: both categories' pages change
    before = catalog_version(category_scope("cookware"))
    pan.save()
    assert catalog_version(category_scope("books")) != other
    assert catalog_version(category_scope("cookware")) != before


def test_a_category_change_moves_every_page(shelf, make_item):
    books = CategoryFactory(name="Books", slug="books")
    versions = [catalog_version(ITEMS), catalog_version(category_scope("books"))]

    shelf["child"].name = "Pots"  # its name is in every page's menu and filter
    shelf["child"].save()

    assert catalog_version(ITEMS) != versions[0] and catalog_version(category_scope(books.slug)) != versions[1]


def test_update_items_refuses_fields_it_does_not_know():
    with pytest.raises(ValueError, match="seller"):
        update_items(item_ids=["1"], seller=None)


@pytest.mark.usefixtures("each_cache")
def test_the_catalog_version_moves_only_when_an_admin_save_commits(make_item):
    item = make_item(price_minor=1000)
    before = catalog_version(ITEMS)
    with atomic():  # as the admin saves: inside a transaction
        item.price_minor = 900
        item.save()
        # Another worker reading now sees the old data: it must not find a new version to cache it under.
        assert catalog_version(ITEMS) == before
    assert catalog_version(ITEMS) != before


@pytest.mark.usefixtures("each_cache")
def test_a_sale_that_leaves_the_stock_label_as_it_was_keeps_catalog_pages(make_item):
    item = make_item(stock=20)
    pages, carts = catalog_version(ITEMS, category_scope("cookware")), catalog_version(ITEMS, STOCK)

    assert reserve_stock(item_id=item.pk, quantity=2)  # 20 -> 18: still "In stock"

    assert catalog_version(ITEMS, category_scope("cookware")) == pages  # list, category and item pages stay cached
    assert catalog_version(ITEMS, STOCK) != carts  # cart pages compare lines with the exact stock

    assert reserve_stock(item_id=item.pk, quantity=13)  # 18 -> 5: "Only 5 left"
    assert catalog_version(ITEMS, category_scope("cookware")) != pages
    pages = catalog_version(ITEMS, category_scope("cookware"))
    release_stock(item_id=item.pk, quantity=1)  # 5 -> 6: "In stock" again
    assert catalog_version(ITEMS, category_scope("cookware")) != pages


@pytest.mark.django_db
def test_update_items_checks_each_value_as_the_model_does_and_changes_nothing_when_one_is_bad():
    item = ItemFactory(price_minor=500)
    with pytest.raises(ValidationError) as refused:
        update_items(item_ids=[item.pk], price_minor=0, category_id=999_999)
    assert set(refused.value.message_dict) == {"price_minor", "category_id"}
    with pytest.raises(ValidationError):
        update_items(item_ids=[item.pk], price_minor=-5)
    item.refresh_from_db()
    assert item.price_minor == 500
