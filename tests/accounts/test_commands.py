import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.services import SELLERS_GROUP
from catalog.models import Category, Item
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_createseller_creates_a_seller_who_may_enter_the_admin(capsys):
    call_command("createseller", "Sam@Example.com", "--password", "s3ller-Pass-77")
    user = User.objects.get(email="sam@example.com")
    assert user.is_seller and user.is_staff and not user.is_superuser
    assert user.groups.filter(name=SELLERS_GROUP).exists()
    assert user.check_password("s3ller-Pass-77")
    assert user.has_perm("catalog.change_item")
    assert not user.has_perm("accounts.change_user")
    assert "Created seller sam@example.com" in capsys.readouterr().out


def test_createseller_promotes_an_existing_shopper_keeping_the_password(capsys):
    shopper = UserFactory(email="pat@example.com")
    call_command("createseller", "pat@example.com")
    shopper.refresh_from_db()
    assert shopper.is_seller and shopper.is_staff
    assert shopper.check_password("a-Strong-pass-9173")
    assert User.objects.count() == 1
    assert "Promoted seller" in capsys.readouterr().out


def test_createseller_refuses_an_invalid_email():
    with pytest.raises(CommandError, match="not a valid email"):
        call_command("createseller", "not-an-email")
    assert not User.objects.exists()


def test_createseller_refuses_a_weak_password():
    with pytest.raises(CommandError, match=r"too short|too common"):
        call_command("createseller", "weak@example.com", "--password", "abc")
    assert not User.objects.exists()


def test_load_demo_is_idempotent_and_prints_logins(capsys, settings):
    settings.DEBUG = True
    call_command("load_demo", "--items", "12", "--orders", "0")
    first = (User.objects.count(), Category.objects.count(), Item.objects.count())
    out = capsys.readouterr().out
    for email in ("admin@example.com", "seller@example.com", "seller2@example.com", "shopper@example.com"):
        assert email in out
    call_command("load_demo", "--items", "12", "--orders", "0")
    assert (User.objects.count(), Category.objects.count(), Item.objects.count()) == first
    assert first[1] >= 5 and first[2] == 12
    assert User.objects.get(email="admin@example.com").is_superuser
    assert User.objects.get(email="seller2@example.com").is_seller
    assert User.objects.get(email="shopper@example.com").check_password("demo12345")
    assert Item.objects.filter(seller__email="seller2@example.com").exists()
    assert all(item.image for item in Item.objects.all())


def test_load_demo_default_makes_sixty_items_in_five_categories(settings):
    settings.DEBUG = True
    call_command("load_demo", "--orders", "0")
    assert Item.objects.count() == 60
    assert Category.objects.filter(items__isnull=False).distinct().count() >= 5


def test_load_demo_refuses_to_run_in_production_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("load_demo", "--items", "1")
    assert not Item.objects.exists()
    call_command("load_demo", "--items", "1", "--orders", "0", "--force")
    assert Item.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"is_staff": True}, "is staff, who manage every item already"),
        ({"is_superuser": True, "is_staff": True}, "is staff, who manage every item already"),
        ({"is_active": False}, "is deactivated"),
    ],
)
def test_createseller_refuses_staff_and_deactivated_accounts(fields, why):
    """Staff made sellers would see only their own items; an erased account would come back to life."""
    person = UserFactory(email="ops@example.com", **fields)
    with pytest.raises(CommandError, match=f"ops@example.com {why}: not made a seller"):
        call_command("createseller", "ops@example.com", "--password", "s3ller-Pass-77")
    person.refresh_from_db()
    assert not person.is_seller and not person.check_password("s3ller-Pass-77")
