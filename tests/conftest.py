import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth's rate limits and the catalog cache live in the cache: no test sees another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def user(db):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def seller(db):
    from tests.factories import SellerFactory

    return SellerFactory()


@pytest.fixture
def staff(db):
    from tests.factories import UserFactory

    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def shelf(db):
    """A parent category with one child, and a seller: enough for most catalog and cart tests."""
    from tests.factories import CategoryFactory, SellerFactory

    parent = CategoryFactory(name="Kitchen", slug="kitchen")
    child = CategoryFactory(name="Cookware", slug="cookware", parent=parent)
    return {"parent": parent, "child": child, "seller": SellerFactory()}


@pytest.fixture
def make_item(shelf):
    """Makes items on the shelf's child category, sold by the shelf's seller unless told otherwise."""
    from tests.factories import ItemFactory

    def make(**fields):
        fields.setdefault("seller", shelf["seller"])
        fields.setdefault("category", shelf["child"])
        return ItemFactory(**fields)

    return make
