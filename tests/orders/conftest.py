import pytest

from tests.factories import ItemFactory


@pytest.fixture
def item(db):
    """10 in stock at 12.50."""
    return ItemFactory(stock=10, price_minor=1250)
