"""Many buyers race for the last units: the conditional decrement lets exactly that many through.

Each buyer is a thread with its own database connection (closed at the end), so the database, not Python,
arbitrates: on SQLite and on MongoDB alike. The conditional updates decide who wins; the transactions (`shop.db`) make
each write all-or-nothing, and on MongoDB a transaction that loses a write conflict runs again.
"""

import threading

import pytest
from django.db import connection

from orders.exceptions import CartHasProblems, IllegalTransition, OutOfStock
from orders.models import Order, OrderStatus
from orders.services import cancel_order, check_stock, expire_order, place_order
from payments.exceptions import OrderNotPayable
from payments.models import PaymentStatus
from payments.services import pay_demo_session, start_payment
from tests.factories import ItemFactory, UserFactory
from tests.orders.helpers import ADDRESS, fill_cart, place, stock_of
from tests.payments.conftest import SITE

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


def race(*actions) -> list[str]:
    """Runs the actions at the same moment, each in its own thread with its own connection; returns each outcome
    (its return value, or the name of the exception it raised)."""
    start = threading.Barrier(len(actions))
    outcomes: list[str] = [""] * len(actions)

    def run(index: int, action) -> None:
        try:
            start.wait()
            outcomes[index] = str(action())
        except Exception as exc:
            outcomes[index] = type(exc).__name__
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, action)) for index, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submits_of_one_cart_without_a_key_make_one_order(concurrent_db):
    item = ItemFactory(stock=10)
    buyer = UserFactory()
    for _ in range(3):
        fill_cart(buyer, (item, 2))
        outcomes = race(
            lambda: place_order(buyer=buyer, address=ADDRESS), lambda: place_order(buyer=buyer, address=ADDRESS)
        )
        assert sorted(outcome.startswith("Order ") for outcome in outcomes) == [False, True], outcomes
        assert "CartEmpty" in outcomes
    assert Order.objects.filter(buyer=buyer).count() == 3
    assert stock_of(item) == 10 - 3 * 2
    assert check_stock().clean


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("closer", ["cancel", "expire"])
def test_closing_an_order_while_it_is_paid_ends_consistently(concurrent_db, closer):
    """Of a cancel (or expiry) and a demo payment racing, one wins; the order is never paid and cancelled at once."""
    item = ItemFactory(stock=50)
    buyer = UserFactory()
    for _ in range(4):
        order = place(buyer, (item, 2))
        payment = start_payment(order=order, site_url=SITE)
        close = (
            (lambda o=order: cancel_order(order=o, actor=buyer))
            if closer == "cancel"
            else (lambda o=order: expire_order(order=o))
        )
        race(close, lambda p=payment: pay_demo_session(session_id=p.session_id))

        order.refresh_from_db()
        payment.refresh_from_db()
        if order.status == OrderStatus.PAID:
            assert payment.status == PaymentStatus.PAID
        else:
            assert order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)
            assert payment.status in (PaymentStatus.EXPIRED, PaymentStatus.REFUNDED), payment.status
    held = sum(2 for order in Order.objects.filter(buyer=buyer) if order.holds_stock)
    assert stock_of(item) == 50 - held
    assert check_stock().clean


@pytest.mark.django_db(transaction=True)
def test_a_closed_orders_demo_payment_is_refused(concurrent_db):
    item = ItemFactory(stock=5)
    buyer = UserFactory()
    order = place(buyer, (item, 1))
    payment = start_payment(order=order, site_url=SITE)
    cancel_order(order=order, actor=buyer)

    with pytest.raises(OrderNotPayable):
        pay_demo_session(session_id=payment.session_id)
    with pytest.raises(IllegalTransition):
        cancel_order(order=Order.objects.get(pk=order.pk), actor=buyer)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.EXPIRED and stock_of(item) == 5
