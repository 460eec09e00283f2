"""Issue 14, finding 10: signup (web and API) and the email change never say that an address is taken; its owner is
mailed instead (allauth's ACCOUNT_PREVENT_ENUMERATION behaviour)."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.api.conftest import client_for
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TAKEN = "A user is already registered"
ALREADY_EXISTS_SUBJECT = "Account Already Exists"


def _web_signup(email: str):
    client = Client()
    response = client.post(
        reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD}, follow=True
    )
    return client, response


def _page_text(response, email: str) -> str:
    """The page with the address and the per-request CSRF token taken out, for comparing two answers."""
    html = response.content.decode().replace(email, "EMAIL")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def _subjects_to(email: str) -> list[str]:
    return [message.subject for message in mail.outbox if email in message.to]


def test_web_signup_answers_a_taken_address_as_a_new_one_and_mails_its_owner(db):
    UserFactory(email="ann@example.com")

    new_client, new = _web_signup("new@example.com")
    taken_client, taken = _web_signup("ANN@Example.com")

    assert [hop for hop in new.redirect_chain] == [hop for hop in taken.redirect_chain]
    assert new.redirect_chain[-1][0] == reverse("account_email_verification_sent")
    assert _page_text(new, "new@example.com") == _page_text(taken, "ann@example.com")
    assert TAKEN not in taken.content.decode()
    assert User.objects.filter(email="ann@example.com").count() == 1
    assert any(ALREADY_EXISTS_SUBJECT in subject for subject in _subjects_to("ann@example.com"))
    assert not any(ALREADY_EXISTS_SUBJECT in subject for subject in _subjects_to("new@example.com"))
    # Neither is signed in: a new account waits for its address to be confirmed.
    assert not new_client.session.get("_auth_user_id") and not taken_client.session.get("_auth_user_id")


def test_web_signup_of_a_new_address_mails_the_confirmation_link(db):
    _web_signup("new@example.com")
    user = User.objects.get(email="new@example.com")
    assert EmailAddress.objects.filter(user=user, email="new@example.com", primary=True, verified=False).exists()
    assert "/accounts/confirm-email/" in mail.outbox[-1].body


def test_api_signup_answers_a_taken_address_as_a_new_one_and_mails_its_owner(db):
    UserFactory(email="ann@example.com")
    anon = client_for(None)

    new = anon.post("/api/auth/signup", {"email": "new@example.com", "password": PASSWORD}, format="json")
    taken = anon.post("/api/auth/signup", {"email": "ANN@example.com", "password": PASSWORD}, format="json")

    assert new.status_code == taken.status_code == 201
    assert new.json().keys() == taken.json().keys()
    assert new.json()["detail"].replace("new@example.com", "EMAIL") == taken.json()["detail"].replace(
        "ann@example.com", "EMAIL"
    )
    assert "id" not in taken.json()
    assert User.objects.count() == 2
    assert _subjects_to("ann@example.com") and all(
        ALREADY_EXISTS_SUBJECT in subject for subject in _subjects_to("ann@example.com")
    )
    assert "/accounts/confirm-email/" in next(m.body for m in mail.outbox if "new@example.com" in m.to)


def test_api_signup_of_a_new_account_keeps_the_mern_fields_and_lets_it_log_in(db):
    anon = client_for(None)
    body = {"email": "New.Person@Example.com", "password": PASSWORD, "first_name": "New"}

    response = anon.post("/api/auth/signup", body, format="json")

    assert response.status_code == 201
    assert response.json() | {"detail": ""} == {
        "detail": "",
        "email": "new.person@example.com",
        "first_name": "New",
        "last_name": "",
        "role": "shopper",
    }
    login = anon.post("/api/auth/login", {"email": "new.person@example.com", "password": PASSWORD}, format="json")
    assert login.status_code == 200 and login.json()["user"]["email"] == "new.person@example.com"


def test_api_signup_still_refuses_a_weak_password_whether_or_not_the_address_is_taken(db):
    UserFactory(email="ann@example.com")
    anon = client_for(None)
    for email in ("ann@example.com", "new@example.com"):
        response = anon.post("/api/auth/signup", {"email": email, "password": "password123"}, format="json")
        assert response.status_code == 400 and list(response.json()) == ["password"]
    assert User.objects.count() == 1


def test_api_email_change_to_a_taken_address_looks_like_a_free_one_and_mails_its_owner(db):
    UserFactory(email="taken@example.com")
    ann, bob = UserFactory(email="ann@example.com"), UserFactory(email="bob@example.com")

    free = client_for(ann).patch(
        f"/api/users/{ann.pk}", {"email": "free@example.com", "current_password": PASSWORD}, format="json"
    )
    taken = client_for(bob).patch(
        f"/api/users/{bob.pk}", {"email": "TAKEN@example.com", "current_password": PASSWORD}, format="json"
    )

    assert free.status_code == taken.status_code == 202
    assert free.json().keys() == taken.json().keys()
    assert TAKEN not in str(taken.json())
    assert not EmailAddress.objects.filter(user=bob).exists()  # nothing stored for an address that is not free
    bob.refresh_from_db()
    assert bob.email == "bob@example.com"
    assert [ALREADY_EXISTS_SUBJECT in subject for subject in _subjects_to("taken@example.com")] == [True]


def test_web_email_change_to_a_taken_address_looks_like_a_free_one(client, db):
    UserFactory(email="taken@example.com")
    ann = UserFactory(email="ann@example.com")
    client.force_login(ann)

    response = client.post(reverse("account_email"), {"action_add": "", "email": "taken@example.com"}, follow=True)

    assert "Confirmation email sent to taken@example.com" in response.content.decode()
    assert TAKEN not in response.content.decode()
    assert not EmailAddress.objects.filter(user=ann, email="taken@example.com").exists()
    assert [ALREADY_EXISTS_SUBJECT in subject for subject in _subjects_to("taken@example.com")] == [True]
