"""Issue 14, finding 3: an email change goes through allauth's verified flow; the old address stops logging in and
receiving password resets once the new one is confirmed."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import authenticate
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from orders.models import Order
from tests.api.conftest import client_for
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)")
RESET_LINK = "/accounts/password/reset/key/"


@pytest.fixture
def ann(db) -> User:
    """A shopper who signed up on the web and confirmed her address, as allauth records it."""
    user = UserFactory(email="ann@example.com")
    EmailAddress.objects.create(user=user, email="ann@example.com", primary=True, verified=True)
    return user


def _mails_to(address: str) -> list:
    return [message for message in mail.outbox if address in message.to]


def _confirm(address: str) -> None:
    """Opens the newest confirmation link mailed to the address, as its owner would (allauth confirms on POST)."""
    link = CONFIRM_LINK.search(_mails_to(address)[-1].body).group(1)
    assert Client().post(link).status_code == 302


def _logs_in(email: str) -> bool:
    return authenticate(None, email=email, password=PASSWORD) is not None


def _reset_link_mailed_to(client, email: str) -> bool:
    mail.outbox.clear()
    client.post(reverse("account_reset_password"), {"email": email})
    return any(RESET_LINK in message.body for message in _mails_to(email))


def test_api_email_change_waits_for_confirmation_then_retires_the_old_address(ann):
    response = client_for(ann).patch(
        f"/api/users/{ann.pk}", {"email": "New@Example.com", "current_password": PASSWORD}, format="json"
    )

    assert response.status_code == 202
    body = response.json()
    assert body["email"] == "ann@example.com" and body["pending_email"] == "new@example.com"
    assert "new@example.com" in body["detail"]
    ann.refresh_from_db()
    assert ann.email == "ann@example.com"  # nothing changes before the link is opened
    assert EmailAddress.objects.get(email="new@example.com").verified is False
    assert _logs_in("ann@example.com")

    _confirm("new@example.com")

    ann.refresh_from_db()
    assert ann.email == "new@example.com"
    assert list(EmailAddress.objects.filter(user=ann).values_list("email", "primary", "verified")) == [
        ("new@example.com", True, True)
    ]
    assert _logs_in("new@example.com")
    assert not _logs_in("ann@example.com")
    assert not _reset_link_mailed_to(Client(), "ann@example.com")
    assert _reset_link_mailed_to(Client(), "new@example.com")


def test_api_email_change_with_other_fields_saves_them_at_once(ann):
    response = client_for(ann).patch(
        f"/api/users/{ann.pk}",
        {"email": "new@example.com", "first_name": "Anna", "current_password": PASSWORD},
        format="json",
    )
    assert response.status_code == 202
    ann.refresh_from_db()
    assert (ann.first_name, ann.email) == ("Anna", "ann@example.com")


def test_put_with_the_current_email_changes_names_only_and_answers_200(ann):
    body = {"email": "ANN@example.com", "first_name": "Anna", "last_name": "Buyer"}
    response = client_for(ann).put(f"/api/users/{ann.pk}", body, format="json")
    assert response.status_code == 200 and "pending_email" not in response.json()
    assert not EmailAddress.objects.filter(user=ann, verified=False).exists()
    assert not mail.outbox


def test_a_second_change_replaces_the_pending_one(ann):
    api = client_for(ann)
    api.patch(f"/api/users/{ann.pk}", {"email": "first@example.com", "current_password": PASSWORD}, format="json")
    api.patch(f"/api/users/{ann.pk}", {"email": "second@example.com", "current_password": PASSWORD}, format="json")
    assert set(EmailAddress.objects.filter(user=ann).values_list("email", flat=True)) == {
        "ann@example.com",
        "second@example.com",
    }


def test_a_change_requested_with_an_unverified_current_address_keeps_it_until_confirmed(db):
    """allauth's add_new_email() would take the unverified current address for the pending one and blank the email."""
    user = UserFactory(email="eve@example.com")
    EmailAddress.objects.create(user=user, email="eve@example.com", primary=True, verified=False)

    assert (
        client_for(user)
        .patch(f"/api/users/{user.pk}", {"email": "eve2@example.com", "current_password": PASSWORD}, format="json")
        .status_code
    )
    user.refresh_from_db()
    assert user.email == "eve@example.com" and _logs_in("eve@example.com")

    _confirm("eve2@example.com")
    user.refresh_from_db()
    assert user.email == "eve2@example.com" and not _logs_in("eve@example.com")


def test_confirming_the_new_address_gives_its_guest_orders_to_the_user(ann):
    Order.objects.create(number="G-1", checkout_token="t-1", email="new@example.com", total_minor=100, currency="EUR")
    client_for(ann).patch(
        f"/api/users/{ann.pk}", {"email": "new@example.com", "current_password": PASSWORD}, format="json"
    )
    assert Order.objects.get().buyer is None
    _confirm("new@example.com")
    assert Order.objects.get().buyer == ann


def test_staff_set_another_users_email_directly_and_the_old_address_goes(ann):
    staff = UserFactory(is_staff=True)
    response = client_for(staff).patch(f"/api/users/{ann.pk}", {"email": "moved@example.com"}, format="json")

    assert response.status_code == 200 and response.json()["email"] == "moved@example.com"
    ann.refresh_from_db()
    assert ann.email == "moved@example.com"
    assert list(EmailAddress.objects.filter(user=ann).values_list("email", "primary", "verified")) == [
        ("moved@example.com", True, False)
    ]
    assert not _logs_in("ann@example.com")
    assert not _reset_link_mailed_to(Client(), "ann@example.com")


def test_staff_cannot_set_an_address_another_account_confirmed(ann):
    other = UserFactory(email="other@example.com")
    EmailAddress.objects.create(user=other, email="second@example.com", primary=False, verified=True)
    response = client_for(UserFactory(is_staff=True)).patch(
        f"/api/users/{ann.pk}", {"email": "second@example.com"}, format="json"
    )
    assert response.status_code == 400 and "email" in response.json()
    ann.refresh_from_db()
    assert ann.email == "ann@example.com"


def test_admin_email_change_retires_the_old_address(client, ann):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:accounts_user_change", args=[ann.pk])
    form = {
        "email": "admin-set@example.com",
        "first_name": ann.first_name,
        "last_name": ann.last_name,
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "addresses-TOTAL_FORMS": "0",
        "addresses-INITIAL_FORMS": "0",
    }

    response = client.post(url, form)

    assert response.status_code == 302, response.context["adminform"].form.errors
    ann.refresh_from_db()
    assert ann.email == "admin-set@example.com"
    assert list(EmailAddress.objects.filter(user=ann).values_list("email", flat=True)) == ["admin-set@example.com"]
    assert not _logs_in("ann@example.com")


def test_web_email_change_waits_for_confirmation(client, ann):
    client.force_login(ann)
    response = client.post(reverse("account_email"), {"action_add": "", "email": "web@example.com"}, follow=True)

    assert "Confirmation email sent to web@example.com" in response.content.decode()
    ann.refresh_from_db()
    assert ann.email == "ann@example.com"
    assert EmailAddress.objects.get(user=ann, email="web@example.com").verified is False

    _confirm("web@example.com")
    ann.refresh_from_db()
    assert ann.email == "web@example.com" and not _logs_in("ann@example.com")


def test_a_pending_address_cannot_be_made_primary_by_a_crafted_post(client, db):
    user = UserFactory(email="eve@example.com")  # no verified address: allauth would allow it
    EmailAddress.objects.create(user=user, email="eve@example.com", primary=True, verified=False)
    client.force_login(user)
    client.post(reverse("account_email"), {"action_add": "", "email": "sneaky@example.com"})

    client.post(reverse("account_email"), {"action_primary": "", "email": "sneaky@example.com"})

    user.refresh_from_db()
    assert user.email == "eve@example.com"
    assert not EmailAddress.objects.get(email="sneaky@example.com").primary


@pytest.mark.parametrize("password", [None, "wrong-password"])
def test_an_api_email_change_without_the_current_password_is_refused_and_changes_nothing(ann, password):
    body = {"email": "thief@example.com"} | ({"current_password": password} if password else {})
    response = client_for(ann).patch(f"/api/users/{ann.pk}", body, format="json")

    assert response.status_code == 400 and "current_password" in response.json(), response.json()
    assert not EmailAddress.objects.filter(email="thief@example.com").exists() and not mail.outbox
