"""A cached cart page is priced again when a discount code stops (or starts) applying without anyone saving it: the
last use taken by another shopper's order, a use given back by a cancelled one, the code's end date passing."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from cart.selectors import CartOwner
from cart.services import add_to_cart, apply_discount
from pricing.models import DiscountCode, DiscountRedemption
from pricing.services import PRICES_CHANGED, redeem_code, release_code
from shop.models import OutboxMessage
from shop.outbox import sweep
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("each_cache")]


@pytest.fixture(autouse=True)
def _carts_cached(settings):
    """Carts are cached where every process shares the cache (`CACHE_IS_SHARED`); on MongoDB that is Redis only, so
    these tests say so for each cache (the tests run in one process)."""
    settings.CACHE_IS_SHARED = True


@pytest.fixture
def cart_with(client, make_item):
    """A signed-in shopper's cart with one pan and the code applied; the cart page cached."""

    def make(code: str) -> None:
        user = UserFactory()
        add_to_cart(owner=CartOwner(user=user), item_id=make_item(stock=10, price_minor=10000).pk, quantity=1)
        apply_discount(owner=CartOwner(user=user), code=code)
        client.force_login(user)
        assert code in client.get("/cart/").content.decode()

    return make


def _page(client) -> str:
    return client.get("/cart/").content.decode()


def _rendered(client) -> str:
    cache.clear()
    return _page(client)


def test_the_last_use_taken_and_given_back_shows_on_the_cached_cart(client, cart_with):
    DiscountCode.objects.create(code="LAST1", kind="percent", value=10, usage_limit=1)
    cart_with("LAST1")
    assert "has been used up" not in _page(client)

    redeem_code(code="LAST1", order_number="ORD-1", email="other@example.com")  # another shopper's order
    assert "has been used up" in _page(client)

    release_code(order_number="ORD-1")  # that order was cancelled
    page = _page(client)
    assert "has been used up" not in page and "LAST1" in page
    assert DiscountRedemption.objects.get(order_number="ORD-1").released_at is not None


def test_a_use_that_leaves_uses_keeps_cached_carts(client, cart_with, django_assert_max_num_queries):
    DiscountCode.objects.create(code="MANY", kind="percent", value=10, usage_limit=5)
    cart_with("MANY")
    _page(client)
    redeem_code(code="MANY", order_number="ORD-1", email="other@example.com")
    with django_assert_max_num_queries(4):  # the session, its user and the cart's owner; no cart, no pricing
        _page(client)


def test_a_code_passing_its_end_shows_on_the_cached_cart(client, cart_with, monkeypatch):
    ends = timezone.now() + timedelta(hours=1)
    DiscountCode.objects.create(code="SOON", kind="percent", value=10, ends_at=ends)
    cart_with("SOON")
    [due] = OutboxMessage.objects.filter(topic=PRICES_CHANGED)
    assert abs((due.available_at - ends).total_seconds()) < 5

    later = ends + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)  # the clock passes the end; nothing is written
    sweep()  # the worker, at that moment
    assert "has expired" in _page(client)
    assert "has expired" in _rendered(client)
