"""Shoppers (or one shopper's two tabs) changing one cart at the same moment: every unit added is kept, in one line.

Each add is a thread with its own connection (`tests.orders.test_concurrency.race`), so the database arbitrates: on
SQLite the writers queue; on MongoDB the loser of a write conflict (or of the cart line's unique key) runs again.
"""

import pytest

from cart.models import Cart, CartLine
from cart.selectors import CartOwner
from cart.services import add_to_cart
from tests.factories import ItemFactory, UserFactory
from tests.orders.test_concurrency import race

ADDS = 4


@pytest.mark.django_db(transaction=True)
def test_adds_of_one_item_at_once_to_a_new_cart_make_one_line_holding_them_all(concurrent_db):
    item = ItemFactory(stock=10)
    user = UserFactory()  # no cart row yet: every add may try to create it, and its line

    def add() -> int:
        change = add_to_cart(owner=CartOwner(user=user), item_id=item.pk, quantity=1)
        assert change.cart.count == change.quantity  # the answer is the cart this add left
        return change.quantity

    outcomes = race(*[add] * ADDS)

    assert sorted(outcomes) == [str(n) for n in range(1, ADDS + 1)]  # each saw the others' units
    assert Cart.objects.filter(user=user).count() == 1
    assert list(CartLine.objects.filter(cart__user=user).values_list("quantity", flat=True)) == [ADDS]


@pytest.mark.django_db(transaction=True)
def test_adds_of_different_items_at_once_keep_every_line(concurrent_db):
    items = [ItemFactory(stock=5) for _ in range(ADDS)]
    user = UserFactory()

    outcomes = race(
        *[lambda item=item: add_to_cart(owner=CartOwner(user=user), item_id=item.pk).quantity for item in items]
    )

    assert outcomes == ["1"] * ADDS
    assert Cart.objects.filter(user=user).count() == 1
    assert sorted(CartLine.objects.filter(cart__user=user).values_list("item_id", flat=True)) == sorted(
        item.pk for item in items
    )
