import pytest

from tests.factories import CategoryFactory, ItemFactory, SellerFactory


@pytest.fixture
def shelf(db):
    """A parent category with one child, and a seller: enough for most catalog tests."""
    parent = CategoryFactory(name="Kitchen", slug="kitchen")
    child = CategoryFactory(name="Cookware", slug="cookware", parent=parent)
    return {"parent": parent, "child": child, "seller": SellerFactory()}


@pytest.fixture
def make_item(shelf):
    def make(**fields):
        fields.setdefault("seller", shelf["seller"])
        fields.setdefault("category", shelf["child"])
        return ItemFactory(**fields)

    return make
