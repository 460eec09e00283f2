"""Many buyers race for the last units: the conditional decrement lets exactly that many through.

Each buyer is a thread with its own database connection (closed at the end), so the database, not Python,
arbitrates: on SQLite and on MongoDB alike, with no transaction involved.
"""

import threading

import pytest
from django.db import connection

from orders.exceptions import CartHasProblems, OutOfStock
from orders.models import Order
from orders.services import place_order
from tests.factories import ItemFactory, UserFactory
from tests.orders.helpers import ADDRESS, fill_cart, stock_of

BUYERS = 10
UNITS = 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_buyers_for_the_last_units_exactly_that_many_succeed(concurrent_db):
    item = ItemFactory(stock=UNITS)
    buyers = [UserFactory() for _ in range(BUYERS)]
    for buyer in buyers:
        fill_cart(buyer, (item, 1))
    start = threading.Barrier(BUYERS)
    results: list[str] = []
    lock = threading.Lock()

    def buy(buyer) -> None:
        try:
            start.wait()
            place_order(buyer=buyer, address=ADDRESS)
            outcome = "ordered"
        except (OutOfStock, CartHasProblems):  # lost at the decrement, or already saw an empty shelf
            outcome = "refused"
        except Exception as exc:  # recorded so the assertion shows it
            outcome = f"error: {exc!r}"
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=buy, args=(buyer,)) for buyer in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(results) == ["ordered"] * UNITS + ["refused"] * (BUYERS - UNITS)
    assert stock_of(item) == 0
    assert Order.objects.count() == UNITS
