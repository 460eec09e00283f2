"""The signed-in user (a session's or an API token's) is read from the database once per change of their row, not on
every request, and every change (in a transaction, through a queryset, a deletion) is seen by the next request."""

import re

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.selectors import USER_ROW_MAX_AGE, signed_in_user, user_version_key
from shop.db import atomic
from shop.fragments import version_token
from tests.api.conftest import client_for
from tests.factories import UserFactory
from tests.shop.test_cache_failure import broken_cache  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _shared_cache(settings):
    settings.CACHE_IS_SHARED = True  # as on one SQLite host or with Redis (the MongoDB test run has none by default)


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    """A deletion runs in Django's own transaction, which commits only with the test's: its callbacks run here."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def user_reads(queries) -> list[str]:
    statements = [query["sql"] for query in queries]
    return [sql for sql in statements if "accounts_user" in sql and not re.search("UPDATE|update", sql)]


def second_request(get) -> tuple[object, list[str]]:
    """The answer to `get()` after a first, and the statements that read users while it was answered."""
    get()
    with CaptureQueriesContext(connection) as queries:
        response = get()
    return response, user_reads(queries)


def test_a_signed_in_page_reads_the_user_once_not_on_every_request(client):
    user = UserFactory()
    client.force_login(user)

    response, reads = second_request(lambda: client.get("/orders/"))

    assert response.status_code == 200 and response.wsgi_request.user == user
    assert reads == []


def test_an_api_token_s_user_is_read_once_not_on_every_request():
    user = UserFactory()
    api = client_for(user)

    response, reads = second_request(lambda: api.get(f"/api/orders/user/{user.pk}"))

    assert response.status_code == 200 and response.wsgi_request.user == user
    assert reads == []


def test_without_a_shared_cache_every_request_reads_the_user(client, settings):
    settings.CACHE_IS_SHARED = False  # several app servers, each with a cache of its own
    user = UserFactory()
    client.force_login(user)

    response, reads = second_request(lambda: client.get("/orders/"))

    assert response.status_code == 200 and len(reads) == 1


def test_a_cache_that_does_not_answer_leaves_the_user_to_the_database(client, broken_cache):  # noqa: F811
    user = UserFactory()
    client.force_login(user)

    response, reads = second_request(lambda: client.get("/orders/"))

    assert response.status_code == 200 and response.wsgi_request.user == user and len(reads) == 1


def deactivate_as_the_admin_does(user: User) -> None:
    with atomic():  # the admin saves inside a transaction: no process may read the old row under a new token
        token = version_token(user_version_key(user_id=user.pk))
        user.is_active = False
        user.save()
        assert version_token(user_version_key(user_id=user.pk)) == token
    assert version_token(user_version_key(user_id=user.pk)) != token


def change_password(user: User) -> None:
    user.set_password("another-passphrase-42")
    user.save()


def deactivate_through_a_queryset(user: User) -> None:
    User.objects.filter(pk=user.pk).update(is_active=False)


def deactivate_through_bulk_update(user: User) -> None:
    user.is_active = False
    User.objects.bulk_update([user], ["is_active"])


def delete(user: User) -> None:
    user.delete()


CHANGES = [deactivate_as_the_admin_does, change_password, deactivate_through_a_queryset, deactivate_through_bulk_update]


@pytest.mark.parametrize("change", [*CHANGES, delete])
def test_a_change_to_the_user_signs_the_session_out_on_the_next_request(client, change, commits):
    user = UserFactory()
    client.force_login(user)
    assert client.get("/orders/").status_code == 200  # the row is kept by this process now

    with commits():
        change(User.objects.get(pk=user.pk))

    response = client.get("/orders/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not response.wsgi_request.user.is_authenticated


@pytest.mark.parametrize("change", [*CHANGES, delete])
def test_a_change_to_the_user_refuses_their_api_token_on_the_next_request(change, commits):
    user = UserFactory()
    api = client_for(user)
    assert api.get(f"/api/orders/user/{user.pk}").status_code == 200

    with commits():
        change(User.objects.get(pk=user.pk))

    response = api.get(f"/api/orders/user/{user.pk}")
    assert response.status_code == 401


def test_a_change_that_keeps_the_user_signed_in_is_seen_by_the_next_request(client):
    user = UserFactory(first_name="Ann")
    client.force_login(user)
    client.get("/orders/")

    User.objects.filter(pk=user.pk).update(first_name="Annabel")

    assert client.get("/orders/").wsgi_request.user.first_name == "Annabel"


def test_each_call_answers_its_own_instance():
    user = UserFactory()

    first, second = signed_in_user(user_id=user.pk), signed_in_user(user_id=str(user.pk))
    first.first_name = "Changed by one request"

    assert first == second == user and first is not second
    assert second.first_name == user.first_name
    assert signed_in_user(user_id=None) is None


def test_a_change_that_sent_no_signal_is_seen_within_the_rows_maximum_age(client, monkeypatch):
    """Past the ORM's signals (a raw update, an operator's SQL), or with a token the cache refused to replace."""
    now = 1_000_000.0
    monkeypatch.setattr("accounts.selectors.monotonic", lambda: now)
    user = UserFactory()
    client.force_login(user)
    assert client.get("/orders/").status_code == 200

    QuerySet.update(User.objects.filter(pk=user.pk), is_active=False)  # Django's own update: no users_updated signal
    assert client.get("/orders/").status_code == 200  # still the kept row

    now += USER_ROW_MAX_AGE
    assert client.get("/orders/").status_code == 302
