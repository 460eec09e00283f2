"""Saving a discount code is one unit of work: a crash between storing the code and its categories leaves the code
as it was (or not there at all), on both backends."""

import pytest

from pricing.models import DiscountCode
from pricing.services import save_discount_code
from shop import db as unit
from tests.conftest import Crash
from tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def crash_after_saving(monkeypatch):
    def fault() -> None:
        raise Crash("save_discount_code.saved")

    monkeypatch.setitem(unit.FAULTS, "save_discount_code.saved", fault)


def test_a_crash_before_the_categories_leaves_a_changed_code_as_it_was(crash_after_saving):
    teapots, books = CategoryFactory(), CategoryFactory()
    code = DiscountCode.objects.create(code="TEA", kind="percent", value=10)
    code.categories.set([teapots])

    with pytest.raises(Crash):
        save_discount_code(code=DiscountCode.objects.get(pk=code.pk), fields={"value": 25}, categories=[books])

    stored = DiscountCode.objects.get(pk=code.pk)
    assert stored.value == 10
    assert list(stored.categories.all()) == [teapots]


def test_a_crash_before_the_categories_leaves_no_new_code(crash_after_saving):
    books = CategoryFactory()

    with pytest.raises(Crash):
        save_discount_code(
            code=DiscountCode(), fields={"code": "BOOKS", "kind": "percent", "value": 5}, categories=[books]
        )

    assert not DiscountCode.objects.filter(code="BOOKS").exists()
