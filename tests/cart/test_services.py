import pytest
from django.contrib.sessions.backends.cache import SessionStore

from cart.exceptions import InvalidQuantity, ItemUnavailable, NotEnoughStock
from cart.selectors import CartOwner, cart_for, cart_for_user
from cart.services import add_to_cart, empty_cart, merge_session_cart, remove_from_cart, set_quantity
from catalog.services import update_items
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_refused_additions_leave_the_session_cart_as_it_was(make_item):
    owner = CartOwner(session=SessionStore())
    item, retired = make_item(stock=3), make_item(is_active=False)
    added = add_to_cart(owner=owner, item_id=str(item.pk), quantity=2)
    assert (added.quantity, added.cart) == (2, None)  # a session cart is not read back with its items

    refusals = [
        ({"item_id": str(item.pk), "quantity": 0}, InvalidQuantity),
        ({"item_id": str(item.pk), "quantity": -1}, InvalidQuantity),
        ({"item_id": str(item.pk), "quantity": "2"}, InvalidQuantity),
        ({"item_id": str(item.pk), "quantity": True}, InvalidQuantity),
        ({"item_id": str(item.pk), "quantity": 2}, NotEnoughStock),
        ({"item_id": str(retired.pk), "quantity": 1}, ItemUnavailable),
        ({"item_id": "abc", "quantity": 1}, ItemUnavailable),
        ({"item_id": "", "quantity": 1}, ItemUnavailable),
    ]
    for kwargs, error in refusals:
        with pytest.raises(error):
            add_to_cart(owner=owner, **kwargs)
    with pytest.raises(NotEnoughStock):
        set_quantity(owner=owner, item_id=str(item.pk), quantity=4)
    with pytest.raises(ItemUnavailable):
        set_quantity(owner=owner, item_id=str(make_item().pk), quantity=1)

    cart = cart_for(owner=owner)
    assert [(line.item, line.quantity) for line in cart.lines] == [(item, 2)]
    assert owner.session["cart"] == {str(item.pk): 2}


def test_stored_cart_adds_sets_removes_and_empties_with_current_prices(make_item):
    user = UserFactory()
    owner = CartOwner(user=user)
    pan, wok = make_item(price_minor=1000, stock=5), make_item(price_minor=250, stock=5)
    assert add_to_cart(owner=owner, item_id=pan.pk).quantity == 1
    assert add_to_cart(owner=owner, item_id=pan.pk, quantity=2).quantity == 3
    add_to_cart(owner=owner, item_id=wok.pk, quantity=4)
    assert set_quantity(owner=owner, item_id=wok.pk, quantity=2).quantity == 2
    update_items(item_ids=[pan.pk], price_minor=1200)

    cart = cart_for_user(user=user)
    assert (cart.count, cart.total_minor) == (5, 3 * 1200 + 2 * 250)
    assert [(line.unit_price_minor, line.line_total_minor) for line in cart.lines] == [(1200, 3600), (250, 500)]
    assert remove_from_cart(owner=owner, item_id=pan.pk) is True
    assert remove_from_cart(owner=owner, item_id="not-an-id") is False
    empty_cart(owner=owner)
    assert cart_for_user(user=user).is_empty


def test_cart_flags_lines_that_changed_since_they_were_added(make_item):
    user = UserFactory()
    owner = CartOwner(user=user)
    ok, retired, sold_out, short = (make_item(stock=5, price_minor=100) for _ in range(4))
    for item in (ok, retired, sold_out, short):
        add_to_cart(owner=owner, item_id=item.pk, quantity=3)
    update_items(item_ids=[retired.pk], is_active=False)
    update_items(item_ids=[sold_out.pk], stock=0)
    update_items(item_ids=[short.pk], stock=2)

    cart = cart_for_user(user=user)
    assert [line.problem for line in cart.lines] == [None, "inactive", "out_of_stock", "short"]
    assert cart.lines[3].problem_message == "Only 2 left. Lower the quantity to check out."
    assert cart.has_problems
    assert cart.total_minor == 3 * 100 * 3  # an item no longer sold is not charged
    remove_from_cart(owner=owner, item_id=retired.pk)
    remove_from_cart(owner=owner, item_id=sold_out.pk)
    set_quantity(owner=owner, item_id=short.pk, quantity=2)
    assert not cart_for_user(user=user).has_problems


def test_merge_adds_caps_at_stock_and_drops_unsellable_items_with_a_notice_each(make_item):
    user = UserFactory()
    kept, capped, retired, sold_out = (
        make_item(stock=9),
        make_item(title="Copper Wok", stock=4),
        make_item(),
        make_item(),
    )
    add_to_cart(owner=CartOwner(user=user), item_id=capped.pk, quantity=3)
    session = SessionStore()
    session_owner = CartOwner(session=session)
    for item, quantity in ((kept, 2), (capped, 3), (retired, 1), (sold_out, 1)):
        add_to_cart(owner=session_owner, item_id=str(item.pk), quantity=quantity)
    update_items(item_ids=[retired.pk], is_active=False)
    update_items(item_ids=[sold_out.pk], stock=0)

    notices = merge_session_cart(user=user, session=session)

    assert {(line.item.pk, line.quantity) for line in cart_for_user(user=user).lines} == {(capped.pk, 4), (kept.pk, 2)}
    assert "Only 4 of Copper Wok available: your cart now holds 4." in notices
    assert sum("was not added to your cart" in notice for notice in notices) == 2
    assert "cart" not in session
    assert merge_session_cart(user=user, session=session) == []


def test_a_crash_between_making_the_cart_and_its_line_leaves_no_cart(make_item, monkeypatch):
    from cart.models import Cart, CartLine
    from shop import db as unit

    user, item = UserFactory(), make_item(stock=3)

    def crash() -> None:
        raise RuntimeError("the process dies here")

    monkeypatch.setitem(unit.FAULTS, "add_to_cart.cart_created", crash)
    with pytest.raises(RuntimeError):
        add_to_cart(owner=CartOwner(user=user), item_id=item.pk, quantity=2)
    assert not Cart.objects.filter(user=user).exists() and not CartLine.objects.exists()

    monkeypatch.delitem(unit.FAULTS, "add_to_cart.cart_created")  # the shopper tries again
    assert add_to_cart(owner=CartOwner(user=user), item_id=item.pk, quantity=2).quantity == 2
    assert [line.quantity for line in cart_for_user(user=user).lines] == [2]


def test_a_merge_capped_by_the_most_per_line_says_so_not_that_stock_ran_short(user, make_item):
    big = make_item(title="Bolt", stock=5000)
    add_to_cart(owner=CartOwner(user=user), item_id=big.pk, quantity=600)
    session = SessionStore()
    add_to_cart(owner=CartOwner(session=session), item_id=str(big.pk), quantity=600)
    assert merge_session_cart(user=user, session=session) == [
        "At most 999 of an item per order: your cart now holds 999 of Bolt."
    ]
    assert "cart_id" not in session


def test_a_session_cart_keeps_one_secret_id_until_it_is_emptied(make_item):
    from cart.selectors import session_cart_id

    pan, pot = make_item(), make_item()
    session = SessionStore()
    owner = CartOwner(session=session)
    assert session_cart_id(session=session) is None
    add_to_cart(owner=owner, item_id=str(pan.pk), quantity=1)
    first = session_cart_id(session=session)
    add_to_cart(owner=owner, item_id=str(pot.pk), quantity=1)
    remove_from_cart(owner=owner, item_id=str(pan.pk))
    assert first and session_cart_id(session=session) == first
    remove_from_cart(owner=owner, item_id=str(pot.pk))
    assert session_cart_id(session=session) is None
    add_to_cart(owner=owner, item_id=str(pan.pk), quantity=1)  # the same cart again: a new one
    assert session_cart_id(session=session) not in (None, first)
    empty_cart(owner=owner)
    assert session_cart_id(session=session) is None and "cart_id" not in session
