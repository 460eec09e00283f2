import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.services import SELLERS_GROUP
from tests.factories import SellerFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accounts_user_changelist")


def test_make_seller_action_promotes_shoppers_and_reports_whom_it_skipped(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    shopper = UserFactory(email="shopper@example.com")
    seller = SellerFactory(email="seller@example.com")
    staff = UserFactory(email="staff@example.com", is_staff=True)

    response = client.post(
        CHANGELIST, {"action": "make_seller", "_selected_action": [shopper.pk, seller.pk, staff.pk]}, follow=True
    )

    shopper.refresh_from_db()
    staff.refresh_from_db()
    assert shopper.is_seller and shopper.is_staff and shopper.groups.filter(name=SELLERS_GROUP).exists()
    assert shopper.has_perm("catalog.change_item")
    assert not staff.is_seller
    messages = [str(message) for message in get_messages(response.wsgi_request)]
    assert "1 promoted to seller: shopper@example.com." in messages
    assert "Skipped seller@example.com: already a seller." in messages
    assert "Skipped staff@example.com: staff already manage every item." in messages


def test_user_changelist_shows_roles_and_filters_by_role(client):
    client.force_login(UserFactory(email="boss@example.com", is_staff=True, is_superuser=True))
    SellerFactory(email="seller@example.com")
    UserFactory(email="shopper@example.com")

    sellers = client.get(CHANGELIST, {"role": "seller"}).content.decode()
    shoppers = client.get(CHANGELIST, {"role": "shopper"}).content.decode()

    assert "seller@example.com" in sellers and "shopper@example.com" not in sellers
    assert "shopper@example.com" in shoppers and "seller@example.com" not in shoppers
    assert "boss@example.com" not in shoppers


def test_staff_who_are_not_superusers_cannot_grant_superuser_powers(client):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    target = UserFactory(email="target@example.com")
    client.force_login(staff)

    response = client.post(
        reverse("admin:accounts_user_change", args=[target.pk]),
        {
            "email": target.email,
            "first_name": "Tina",
            "last_name": "Target",
            "is_active": "on",
            "is_superuser": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.first_name == "Tina" and not target.is_superuser
