"""Every factory of the suite (HackSoft: one module)."""

import factory
from django.utils.text import slugify

from accounts.models import User
from catalog.models import Category, Item

PASSWORD = "a-Strong-pass-9173"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = "Ann"
    last_name = "Buyer"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class SellerFactory(UserFactory):
    is_seller = True
    is_staff = True

    @factory.post_generation
    def sellers_group(obj, create, extracted, **kwargs):
        if create:
            from accounts.services import ensure_sellers_group

            obj.groups.add(ensure_sellers_group())


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    seller = factory.SubFactory(SellerFactory)
    category = factory.SubFactory(CategoryFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    title = factory.Sequence(lambda n: f"Item {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.title))
    description = "A fine thing."
    price_minor = 1250
    stock = 10
    is_active = True


class AddressFactory(factory.django.DjangoModelFactory):
    """A row as the address book stores it; tests of the default rule go through `accounts.services` instead."""

    class Meta:
        model = "accounts.Address"

    user = factory.SubFactory(UserFactory)
    name = "Ann Buyer"
    line1 = factory.Sequence(lambda n: f"{n + 1} Main Street")
    line2 = ""
    postal_code = "10115"
    city = "Berlin"
    country = "DE"
    is_default = False
