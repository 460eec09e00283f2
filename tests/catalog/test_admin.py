import re
from io import BytesIO

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from PIL import Image

from catalog.admin import ItemAdminForm
from catalog.models import MAX_STOCK, Item, StockMove, StockReason
from catalog.selectors import ledger_totals
from catalog.services import reserve_stock
from tests.factories import CategoryFactory, ItemFactory, SellerFactory, UserFactory

CHANGELIST = reverse("admin:catalog_item_changelist")


def change_url(item):
    return reverse("admin:catalog_item_change", args=[item.pk])


def image_upload(fmt: str = "PNG", name: str = "pic.png") -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue())


def item_post(item, **overrides):
    data = {
        "title": item.title,
        "slug": item.slug,
        "sku": item.sku,
        "category": item.category_id,
        "description": item.description,
        "price_minor": "12.50",
        "stock": item.stock,
        "is_active": "on",
    }
    data.update(overrides)
    return data


@pytest.fixture
def two_sellers(db):
    """A seller with one item and another seller with one item, in one category."""
    category = CategoryFactory(slug="cookware")
    mine, theirs = SellerFactory(), SellerFactory()
    return {
        "seller": mine,
        "other": theirs,
        "category": category,
        "mine": ItemFactory(seller=mine, category=category, title="My Pan", stock=3),
        "theirs": ItemFactory(seller=theirs, category=category, title="Their Wok", stock=40),
    }


@pytest.fixture
def seller_client(client, two_sellers):
    client.force_login(two_sellers["seller"])
    return client


def test_seller_changelist_shows_only_own_items_whatever_the_query_string(seller_client, two_sellers):
    other = two_sellers["other"]
    listing = seller_client.get(CHANGELIST).content.decode()
    crafted = seller_client.get(CHANGELIST, {"seller__id__exact": other.pk}).content.decode()
    searched = seller_client.get(CHANGELIST, {"q": "Wok"}).content.decode()

    assert "My Pan" in listing and "Their Wok" not in listing
    assert "Their Wok" not in crafted and "Their Wok" not in searched
    assert "By seller" not in listing  # the seller column and filter are for staff


def test_another_sellers_item_urls_answer_as_if_the_item_did_not_exist(seller_client, two_sellers):
    theirs = two_sellers["theirs"]
    urls = [
        change_url(theirs),
        reverse("admin:catalog_item_delete", args=[theirs.pk]),
        reverse("admin:catalog_item_history", args=[theirs.pk]),
    ]
    for url in urls:
        response = seller_client.get(url)
        assert response.status_code == 302 and response.url == reverse("admin:index"), url
    warnings = [str(message) for message in get_messages(response.wsgi_request)]
    assert any("Perhaps it was deleted" in message for message in warnings)


def test_seller_forged_posts_to_another_sellers_change_and_delete_urls_change_nothing(seller_client, two_sellers):
    theirs = two_sellers["theirs"]

    seller_client.post(change_url(theirs), item_post(theirs, title="Hijacked", stock=0))
    seller_client.post(reverse("admin:catalog_item_delete", args=[theirs.pk]), {"post": "yes"})

    theirs.refresh_from_db()
    assert theirs.title == "Their Wok" and theirs.stock == 40


def test_seller_bulk_delete_with_another_sellers_pk_deletes_only_own_items(seller_client, two_sellers):
    mine, theirs = two_sellers["mine"], two_sellers["theirs"]

    response = seller_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [mine.pk, theirs.pk], "post": "yes"}
    )

    assert response.status_code == 302
    assert list(Item.objects.values_list("pk", flat=True)) == [theirs.pk]


def list_edit(items, **values):
    data = {
        "form-TOTAL_FORMS": len(items),
        "form-INITIAL_FORMS": len(items),
        "form-MIN_NUM_FORMS": "0",
        "_save": "Save",
    }
    for index, item in enumerate(items):
        data |= {f"form-{index}-id": item.pk} | {f"form-{index}-{name}": value for name, value in values.items()}
    return data


def test_seller_list_edit_forged_with_another_sellers_pk_is_refused_whole(seller_client, two_sellers):
    mine, theirs = two_sellers["mine"], two_sellers["theirs"]

    forged = seller_client.post(CHANGELIST, list_edit([mine, theirs], price_minor="999", stock="0"))
    honest = seller_client.post(CHANGELIST, list_edit([mine], price_minor="999", stock="0"))

    assert forged.status_code == 400 and honest.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.price_minor, mine.stock, mine.is_active) == (999, 0, False)
    assert (theirs.price_minor, theirs.stock, theirs.is_active) == (1250, 40, True)


def test_seller_adds_an_item_as_its_seller_even_when_posting_another_seller(seller_client, two_sellers):
    form_page = seller_client.get(reverse("admin:catalog_item_add")).content.decode()
    draft = Item(title="New Pot", slug="new-pot", sku="NEW-1", category=two_sellers["category"], stock=2)

    response = seller_client.post(
        reverse("admin:catalog_item_add"), item_post(draft, seller=two_sellers["other"].pk, price_minor="7.5")
    )

    assert 'name="seller"' not in form_page
    assert response.status_code == 302
    item = Item.objects.get(sku="NEW-1")
    assert item.seller == two_sellers["seller"] and item.price_minor == 750


def test_seller_cannot_reassign_own_item_with_a_forged_seller_field(seller_client, two_sellers):
    mine = two_sellers["mine"]

    response = seller_client.post(change_url(mine), item_post(mine, seller=two_sellers["other"].pk, stock=7))

    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.seller == two_sellers["seller"] and mine.stock == 7 and mine.price_minor == 1250


def test_uploading_a_non_image_is_refused_with_a_form_error(seller_client, two_sellers):
    mine = two_sellers["mine"]
    upload = SimpleUploadedFile("evil.png", b"#!/bin/sh\necho not a picture\n")

    response = seller_client.post(change_url(mine), item_post(mine, image=upload, stock=9))

    assert response.status_code == 200
    assert "Upload a valid image" in response.content.decode()
    mine.refresh_from_db()
    assert mine.stock == 3 and not mine.image


def clean_image(upload):
    form = ItemAdminForm()
    form.cleaned_data = {"image": forms.ImageField().clean(upload)}
    return form.clean_image()


def test_image_in_an_accepted_format_under_the_limit_passes():
    upload = image_upload("WEBP", "pic.webp")
    assert clean_image(upload) is upload


def test_image_in_another_format_is_refused():
    with pytest.raises(forms.ValidationError, match="BMP images are not accepted"):
        clean_image(image_upload("BMP", "pic.bmp"))


@override_settings(SHOP_MAX_IMAGE_BYTES=50)
def test_image_over_the_size_limit_is_refused():
    with pytest.raises(forms.ValidationError, match="the limit is 50"):
        clean_image(image_upload("PNG"))


def test_staff_see_every_item_with_seller_and_stock_filters(client, two_sellers):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    listing = client.get(CHANGELIST).content.decode()
    low = client.get(CHANGELIST, {"stock_level": "low"}).content.decode()
    plenty = client.get(
        CHANGELIST, {"stock_level": "in", "o": "-3"}
    ).content.decode()  # ordered by a related column (seller)

    assert "My Pan" in listing and "Their Wok" in listing and "By seller" in listing
    assert "My Pan" in low and "Their Wok" not in low
    assert "Their Wok" in plenty and "My Pan" not in plenty


def test_seller_may_view_categories_but_not_change_them_nor_see_users_or_groups(seller_client, two_sellers):
    category = two_sellers["category"]
    index = seller_client.get(reverse("admin:index")).content.decode()

    assert "Items" in index and "Users" not in index and "Groups" not in index
    assert seller_client.get(reverse("admin:catalog_category_change", args=[category.pk])).status_code == 200
    forged = {"name": "Renamed", "slug": "renamed", "description": ""}
    assert seller_client.post(reverse("admin:catalog_category_change", args=[category.pk]), forged).status_code == 403
    assert seller_client.get(reverse("admin:accounts_user_changelist")).status_code == 403
    assert seller_client.get(reverse("admin:auth_group_changelist")).status_code == 403
    category.refresh_from_db()
    assert category.name != "Renamed"


def shown_stock(html: str, name: str = "initial-stock") -> str:
    """The stock a rendered form remembers having shown (its hidden initial value)."""
    match = re.search(rf'name="{name}" value="(\d+)"', html)
    assert match, f"no {name} in the page"
    return match.group(1)


def test_change_form_applies_the_typed_stock_as_a_difference_from_the_stock_it_showed(seller_client, two_sellers):
    mine = two_sellers["mine"]  # 3 in stock
    page = seller_client.get(change_url(mine)).content.decode()
    assert reserve_stock(item_id=mine.pk, quantity=2, order_number="ORDER001")  # an order, while the form is open

    response = seller_client.post(
        change_url(mine), item_post(mine, title="Big Pan", stock=10, **{"initial-stock": shown_stock(page)})
    )

    assert response.status_code == 302
    mine.refresh_from_db()
    assert (mine.title, mine.stock) == ("Big Pan", 1 + (10 - 3))  # the order keeps its 2 units
    adjustment = mine.stock_moves.get(reason=StockReason.ADJUSTMENT)
    assert (adjustment.delta, adjustment.actor) == (7, two_sellers["seller"])
    assert ledger_totals(item_ids=[mine.pk]) == {mine.pk: 8}


def test_list_editable_applies_the_typed_stock_as_a_difference_too(seller_client, two_sellers):
    mine = two_sellers["mine"]
    listing = seller_client.get(CHANGELIST).content.decode()
    assert reserve_stock(item_id=mine.pk, quantity=1, order_number="ORDER001")

    edit = list_edit([mine], price_minor="1250", stock="5", is_active="on")
    response = seller_client.post(
        CHANGELIST, edit | {"initial-form-0-stock": shown_stock(listing, "initial-form-0-stock")}
    )

    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.stock == 2 + (5 - 3)
    assert mine.stock_moves.get(reason=StockReason.ADJUSTMENT).actor == two_sellers["seller"]


def test_a_stale_admin_edit_cannot_sell_a_one_unit_item_twice(seller_client, two_sellers):
    last = ItemFactory(seller=two_sellers["seller"], category=two_sellers["category"], title="Last Pot", stock=1)
    page = seller_client.get(change_url(last)).content.decode()
    assert reserve_stock(item_id=last.pk, quantity=1, order_number="ORDER001")

    seller_client.post(
        change_url(last), item_post(last, title="Last Pot (dented)", stock=1, **{"initial-stock": shown_stock(page)})
    )

    assert reserve_stock(item_id=last.pk, quantity=1, order_number="ORDER002") is False
    last.refresh_from_db()
    assert (last.title, last.stock) == ("Last Pot (dented)", 0)


def test_an_admin_stock_cut_below_zero_is_refused_with_a_message_and_the_other_changes_kept(seller_client, two_sellers):
    mine = two_sellers["mine"]
    page = seller_client.get(change_url(mine)).content.decode()
    assert reserve_stock(item_id=mine.pk, quantity=2, order_number="ORDER001")  # 1 left

    response = seller_client.post(
        change_url(mine),
        item_post(mine, title="Small Pan", stock=0, **{"initial-stock": shown_stock(page)}),  # 3 -> 0: take 3
        follow=True,
    )

    assert "Small Pan has 1 in stock: taking 3 would leave -2. Stock was not changed." in response.content.decode()
    mine.refresh_from_db()
    assert (mine.title, mine.stock) == ("Small Pan", 1)
    assert not mine.stock_moves.filter(reason=StockReason.ADJUSTMENT).exists()


def test_adding_an_item_in_the_admin_records_its_opening_stock_by_the_seller(seller_client, two_sellers):
    draft = Item(title="New Pot", slug="new-pot", sku="NEW-1", category=two_sellers["category"], stock=6)

    seller_client.post(reverse("admin:catalog_item_add"), item_post(draft))

    item = Item.objects.get(sku="NEW-1")
    assert list(item.stock_moves.values_list("delta", "reason", "actor")) == [
        (6, StockReason.OPENING, two_sellers["seller"].pk)
    ]


def test_stock_moves_are_read_only_and_a_seller_sees_only_those_of_own_items(seller_client, two_sellers):
    mine, theirs = two_sellers["mine"], two_sellers["theirs"]
    reserve_stock(item_id=mine.pk, quantity=1, order_number="MINE0001")
    reserve_stock(item_id=theirs.pk, quantity=1, order_number="THEIRS01")
    move_list = reverse("admin:catalog_stockmove_changelist")

    listing = seller_client.get(move_list).content.decode()
    item_page = seller_client.get(change_url(mine)).content.decode()
    theirs_move = StockMove.objects.get(order_number="THEIRS01")

    assert "MINE0001" in listing and "THEIRS01" not in listing
    assert "MINE0001" in item_page and f"{move_list}?item__id__exact={mine.pk}" in item_page
    assert seller_client.get(reverse("admin:catalog_stockmove_add")).status_code == 403
    assert seller_client.get(reverse("admin:catalog_stockmove_change", args=[theirs_move.pk])).status_code == 302
    mine_move = StockMove.objects.get(order_number="MINE0001")
    forged = {"delta": "50", "reason": "adjustment", "note": ""}
    assert seller_client.post(reverse("admin:catalog_stockmove_change", args=[mine_move.pk]), forged).status_code == 403
    seller_client.post(move_list, {"action": "delete_selected", "_selected_action": [mine_move.pk], "post": "yes"})
    assert StockMove.objects.filter(pk=mine_move.pk, delta=-1).exists()


def test_a_stock_above_the_most_an_item_may_hold_is_a_field_error(seller_client, two_sellers):
    """A stock near the column's limit overflowed the ledger's sum later (the first return of a unit)."""
    mine = two_sellers["mine"]
    page = seller_client.get(change_url(mine)).content.decode()
    too_many = item_post(mine, stock=2**63 - 1, **{"initial-stock": shown_stock(page)})
    response = seller_client.post(change_url(mine), too_many)
    assert response.status_code == 200 and "Ensure this value is less than or equal to 1000000" in response.text

    listing = seller_client.get(CHANGELIST).content.decode()
    edit = list_edit([mine], price_minor="1250", stock=str(MAX_STOCK + 1), is_active="on")
    seller_client.post(CHANGELIST, edit | {"initial-form-0-stock": shown_stock(listing, "initial-form-0-stock")})
    mine.refresh_from_db()
    assert mine.stock == 3 and ledger_totals(item_ids=[mine.pk]) == {mine.pk: 3}


def test_a_hand_made_post_cannot_push_the_stock_past_the_most_an_item_may_hold(seller_client, two_sellers):
    """The page "showed" 0: the typed stock is added whole, and 3 + 1,000,000 is refused with a message."""
    mine = two_sellers["mine"]
    response = seller_client.post(
        change_url(mine), item_post(mine, title="Pan", stock=MAX_STOCK, **{"initial-stock": "0"}), follow=True
    )
    assert f"more than the {MAX_STOCK:,} units an item may hold" in response.content.decode()
    mine.refresh_from_db()
    assert (mine.title, mine.stock) == ("Pan", 3) and ledger_totals(item_ids=[mine.pk]) == {mine.pk: 3}
