import pytest
from django.contrib.auth.models import Group

from accounts.models import User
from accounts.services import SELLERS_GROUP
from tests.api.conftest import People, client_for
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db) -> People:
    return People()


@pytest.fixture
def anon():
    return client_for(None)


def _signup(client, **body):
    return client.post("/api/auth/signup", body, format="json")


def test_signup_creates_a_shopper_with_a_normalised_email(anon):
    response = _signup(anon, email="New.Person@Example.com", password=PASSWORD)
    assert response.status_code == 201
    user = User.objects.get()
    assert "id" not in response.json()  # the same answer for a taken address (tests/accounts/test_enumeration.py)
    assert response.json()["email"] == "new.person@example.com"
    assert user.role == "shopper" and user.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "weak@example.com", "password": "password123"}, "password"),  # common
        ({"email": "weak@example.com", "password": "short1"}, "password"),  # too short
        ({"email": "weak@example.com", "password": "1234567890123"}, "password"),  # numeric
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "x@example.com", "password": PASSWORD, "is_staff": True}, "is_staff"),  # unknown field
    ],
)
def test_signup_with_bad_input_is_refused_and_creates_nobody(anon, body, field):
    UserFactory(email="ann@example.com")
    response = _signup(anon, **body)
    assert response.status_code == 400
    assert field in response.json()
    assert User.objects.count() == 1


def test_login_in_any_letter_case_returns_tokens_that_work(anon):
    user = UserFactory(email="bob@example.com")
    body = {"email": "BOB@example.com", "password": PASSWORD}
    response = anon.post("/api/auth/login/", body, format="json", HTTP_AUTHORIZATION="Bearer stale-token")
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["id"] == str(user.pk)
    me = anon.get(f"/api/users/{user.pk}", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.status_code == 200
    refreshed = anon.post("/api/auth/refresh", {"refresh": body["refresh"]}, format="json")
    assert refreshed.status_code == 200 and refreshed.json()["access"]


@pytest.mark.parametrize("active", [True, False])
def test_login_with_bad_credentials_or_inactive_account_answers_401(anon, active):
    UserFactory(email="bob@example.com", is_active=active)
    password = "wrong-one-xx" if active else PASSWORD
    response = anon.post("/api/auth/login", {"email": "bob@example.com", "password": password}, format="json")
    assert response.status_code == 401
    assert "access" not in response.json()


def test_refresh_with_a_bad_token_answers_401(anon):
    assert anon.post("/api/auth/refresh", {"refresh": "nonsense"}, format="json").status_code == 401


def test_a_bad_bearer_token_answers_401(anon):
    assert anon.get("/api/users", HTTP_AUTHORIZATION="Bearer nonsense").status_code == 401


def test_login_and_signup_are_throttled_at_the_configured_rate(anon, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth": "2/min"}}
    body = {"email": "nobody@example.com", "password": "wrong-one-xx"}
    statuses = [anon.post("/api/auth/login", body, format="json").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    assert _signup(anon, email="new@example.com", password=PASSWORD).status_code == 429
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("caller", "expected"),
    [("anonymous", 401), ("buyer", 403), ("seller", 403), ("staff", 200)],
)
def test_user_list_is_for_staff_only(people, caller, expected):
    response = people.client(caller).get("/api/users")
    assert response.status_code == expected
    if expected == 200:
        assert {"count", "next", "previous", "results"} <= response.json().keys()


OWNER_TABLE = [
    ("anonymous", 401),
    ("buyer", 200),
    ("other_buyer", 404),
    ("seller", 404),
    ("staff", 200),
]


@pytest.mark.parametrize(("caller", "expected"), OWNER_TABLE)
def test_user_detail_is_for_that_user_or_staff(people, caller, expected):
    response = people.client(caller).get(f"/api/users/{people.buyer.pk}")
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["email"] == people.buyer.email


@pytest.mark.parametrize(("caller", "expected"), OWNER_TABLE)
def test_user_update_is_for_that_user_or_staff_and_refusals_change_nothing(people, caller, expected):
    buyer = people.buyer
    response = people.client(caller).patch(f"/api/users/{buyer.pk}", {"first_name": "Zed"}, format="json")
    assert response.status_code == expected
    buyer.refresh_from_db()
    assert buyer.first_name == ("Zed" if expected == 200 else "Ann")


def test_put_needs_every_profile_field(people):
    response = people.client("buyer").put(f"/api/users/{people.buyer.pk}", {"first_name": "Zed"}, format="json")
    assert response.status_code == 400
    assert {"email", "last_name"} <= response.json().keys()


def test_changing_the_email_to_one_taken_in_another_case_changes_nothing(people):
    UserFactory(email="taken@example.com")
    response = people.client("buyer").patch(
        f"/api/users/{people.buyer.pk}", {"email": "TAKEN@example.com", "current_password": PASSWORD}, format="json"
    )
    assert response.status_code == 202  # as for a free address (tests/accounts/test_enumeration.py)
    people.buyer.refresh_from_db()
    assert people.buyer.email != "taken@example.com"


@pytest.mark.parametrize("caller", ["buyer", "seller"])
def test_only_staff_change_roles(people, caller):
    user = getattr(people, caller)
    response = people.client(caller).patch(
        f"/api/users/{user.pk}", {"is_staff": not user.is_staff, "first_name": "Zed"}, format="json"
    )
    assert response.status_code == 403
    fresh = User.objects.get(pk=user.pk)
    assert (fresh.is_staff, fresh.first_name) == (user.is_staff, user.first_name)


def test_staff_make_a_shopper_a_seller_and_back(people):
    buyer, staff = people.buyer, people.client("staff")
    response = staff.patch(f"/api/users/{buyer.pk}", {"is_seller": True}, format="json")
    assert response.status_code == 200
    assert response.json()["role"] == "seller"
    buyer.refresh_from_db()
    assert buyer.is_seller and buyer.is_staff and buyer.groups.filter(name=SELLERS_GROUP).exists()

    response = staff.patch(f"/api/users/{buyer.pk}", {"is_seller": False}, format="json")
    assert response.json()["role"] == "shopper"
    buyer.refresh_from_db()
    assert not buyer.is_seller and not buyer.is_staff
    assert not Group.objects.get(name=SELLERS_GROUP).user_set.filter(pk=buyer.pk).exists()


@pytest.mark.parametrize(("caller", "expected"), OWNER_TABLE)
def test_deleting_a_user_deactivates_the_account(people, caller, expected):
    buyer = people.buyer
    token_client = client_for(buyer)
    response = people.client(caller).delete(f"/api/users/{buyer.pk}/")
    assert response.status_code == expected
    buyer.refresh_from_db()
    assert buyer.is_active is (expected != 200)
    if expected == 200:
        assert response.json()["user"]["is_active"] is False
        assert token_client.get(f"/api/users/{buyer.pk}").status_code == 401
