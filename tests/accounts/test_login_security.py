"""Logging in you can trust (issue 14, findings 1, 2 and 4): throttles keyed on the connection's address, one lock
per account for the web, the admin and the API, the admin's login through allauth, and JWTs that can be revoked."""

from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import BlacklistedToken
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/auth/login"
REFRESH = "/api/auth/refresh"
LOGOUT = "/api/auth/logout"
WRONG = "wrong-one-xx"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def lock_after_three(settings):
    """The per-account lock at 3 failures in 5 minutes; the per-address limits out of the way."""
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "1000/m/ip,3/300s/key"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth": "1000/min"}}


def _api_login(api, email, password, address="10.0.0.1", **extra):
    return api.post(LOGIN, {"email": email, "password": password}, format="json", REMOTE_ADDR=address, **extra)


def _web_login(client, email, password, next_url=None):
    url = reverse("account_login") + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"login": email, "password": password})


def _signed_in(client) -> bool:
    return bool(client.session.get("_auth_user_id"))


# Finding 1: throttles keyed on the connection's address.


def test_one_trusted_proxy_setting_drives_drf_and_allauth():
    assert django_settings.TRUSTED_PROXIES == 0
    assert django_settings.REST_FRAMEWORK["NUM_PROXIES"] == 0
    assert django_settings.ALLAUTH_TRUSTED_PROXY_COUNT == 0


def test_the_login_throttle_ignores_a_forged_x_forwarded_for(api, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth": "2/min"}}
    statuses = [
        _api_login(api, f"nobody{n}@example.com", WRONG, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(4)
    ]
    assert statuses == [401, 401, 429, 429]


def test_behind_a_trusted_proxy_the_throttle_keys_on_the_address_it_saw(api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "NUM_PROXIES": 1,
        "DEFAULT_THROTTLE_RATES": {"auth": "1/min"},
    }
    first = _api_login(api, "a@example.com", WRONG, HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.1")
    same_client = _api_login(api, "b@example.com", WRONG, HTTP_X_FORWARDED_FOR="198.51.100.8, 203.0.113.1")
    other_client = _api_login(api, "c@example.com", WRONG, HTTP_X_FORWARDED_FOR="203.0.113.2")
    assert [first.status_code, same_client.status_code, other_client.status_code] == [401, 429, 401]


def test_the_probe_replayed_20_wrong_then_30_with_fresh_forwarded_for_then_right_gets_no_token(api):
    """Finding 1 as the probe sent it (default rates): it used to end 30 x 401, then 200 with tokens."""
    UserFactory(email="victim@example.com")
    first = [_api_login(api, "victim@example.com", WRONG).status_code for _ in range(20)]
    spoofed = [
        _api_login(api, "victim@example.com", WRONG, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(30)
    ]
    final = _api_login(api, "victim@example.com", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.200")
    assert 401 in first and first[-1] == 429
    assert set(spoofed) == {429}
    assert final.status_code == 429 and "access" not in final.json()


# Finding 1: one lock per account, whatever the address, shared by the API and the web.


def test_the_api_locks_an_account_after_failures_from_many_addresses(api, lock_after_three):
    UserFactory(email="ann@example.com")
    failures = [_api_login(api, "ann@example.com", WRONG, address=f"10.0.0.{n}").status_code for n in range(3)]
    locked = _api_login(api, "ANN@example.com", PASSWORD, address="10.9.9.9")
    assert failures == [401, 401, 401]
    assert locked.status_code == 429
    assert locked.json()["code"] == "login_locked"
    assert "Too many failed login attempts" in locked.json()["detail"]
    assert "access" not in locked.json()


def test_another_account_is_not_locked(api, lock_after_three):
    UserFactory(email="ann@example.com")
    UserFactory(email="bob@example.com")
    for n in range(3):
        _api_login(api, "ann@example.com", WRONG, address=f"10.0.0.{n}")
    assert _api_login(api, "bob@example.com", PASSWORD).status_code == 200


def test_successful_logins_do_not_count_against_the_account(api, lock_after_three):
    UserFactory(email="ann@example.com")
    for _ in range(4):
        assert _api_login(api, "ann@example.com", PASSWORD).status_code == 200


def test_failures_on_the_web_lock_the_api_and_the_other_way_round(api, client, lock_after_three):
    UserFactory(email="ann@example.com")
    UserFactory(email="bob@example.com")
    for _ in range(3):
        assert _web_login(client, "ann@example.com", WRONG).status_code == 200
    assert _api_login(api, "ann@example.com", PASSWORD).status_code == 429

    for n in range(3):
        _api_login(api, "bob@example.com", WRONG, address=f"10.0.1.{n}")
    response = _web_login(client, "bob@example.com", PASSWORD)
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert not _signed_in(client)


def test_the_lock_opens_once_the_window_has_passed(api, lock_after_three, monkeypatch):
    from allauth.core.internal import ratelimit

    now = [1_000_000.0]
    clock = SimpleNamespace(time=lambda: now[0], monotonic=ratelimit.time.monotonic, sleep=ratelimit.time.sleep)
    monkeypatch.setattr(ratelimit, "time", clock)
    UserFactory(email="ann@example.com")
    for n in range(3):
        _api_login(api, "ann@example.com", WRONG, address=f"10.0.0.{n}")
    assert _api_login(api, "ann@example.com", PASSWORD).status_code == 429
    now[0] += 299
    assert _api_login(api, "ann@example.com", PASSWORD).status_code == 429
    now[0] += 2
    assert _api_login(api, "ann@example.com", PASSWORD).status_code == 200


# Finding 2: the admin's login is the shop's.


def test_the_admin_login_page_redirects_to_the_shop_login_keeping_next(client):
    response = client.get(reverse("admin:login") + "?next=/admin/orders/order/")
    assert response.status_code == 302
    target = urlsplit(response.url)
    assert target.path == reverse("account_login")
    assert parse_qs(target.query)["next"] == ["/admin/orders/order/"]


def test_the_admin_login_page_never_takes_a_password(client, staff):
    """Finding 2 as the probe sent it: 25 wrong passwords answered 200 each, and the right one logged in."""
    url = reverse("admin:login") + "?next=/admin/"
    for _ in range(25):
        response = client.post(url, {"username": staff.email, "password": WRONG})
        assert response.status_code == 302 and response.url.startswith(reverse("account_login"))
    response = client.post(url, {"username": staff.email, "password": PASSWORD})
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))
    assert not _signed_in(client)


def test_the_admin_is_reached_through_the_shop_login_and_its_lock(client, staff, lock_after_three):
    entry = client.get(reverse("admin:index"))
    via = client.get(entry.url)  # the admin's login, which hands over to the shop's
    next_url = parse_qs(urlsplit(via.url).query)["next"][0]
    assert next_url == reverse("admin:index")
    for _ in range(3):
        _web_login(client, staff.email, WRONG, next_url=next_url)
    response = _web_login(client, staff.email, PASSWORD, next_url=next_url)
    assert response.status_code == 200 and "Too many failed login attempts" in response.content.decode()
    assert not _signed_in(client)

    other = UserFactory(is_staff=True, is_superuser=True)
    response = _web_login(client, other.email, PASSWORD, next_url=next_url)
    assert response.status_code == 302 and response.url == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_signed_in_staff_member_cannot_try_passwords_at_the_admin_login(client, staff, user):
    client.force_login(staff)
    response = client.post(reverse("admin:login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


def test_a_signed_in_shopper_is_refused_by_the_admin_login_not_looped(client, user):
    client.force_login(user)
    assert client.get(reverse("admin:login") + "?next=/admin/").status_code == 403


def test_a_signed_in_staff_member_goes_straight_on_and_foreign_next_is_dropped(client, staff):
    client.force_login(staff)
    response = client.get(reverse("admin:login") + "?next=https://evil.example/")
    assert response.status_code == 302 and response.url == reverse("admin:index")


# Finding 4: JWT rotation, blacklist, logout and revocation.


def _tokens(api, user):
    response = _api_login(api, user.email, PASSWORD)
    assert response.status_code == 200
    return response.json()


def _me(api, user, access):
    return api.get(f"/api/users/{user.pk}", HTTP_AUTHORIZATION=f"Bearer {access}")


def test_refreshing_rotates_the_refresh_token_and_spends_the_old_one(api, user):
    tokens = _tokens(api, user)
    refreshed = api.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh"] != tokens["refresh"]
    assert _me(api, user, refreshed.json()["access"]).status_code == 200

    again = api.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert again.status_code == 401
    assert api.post(REFRESH, {"refresh": refreshed.json()["refresh"]}, format="json").status_code == 200


def test_logout_blacklists_the_refresh_token(api, user):
    tokens = _tokens(api, user)
    response = api.post(LOGOUT, {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 200
    assert BlacklistedToken.objects.filter(user=user).count() == 1
    assert api.post(REFRESH, {"refresh": tokens["refresh"]}, format="json").status_code == 401
    assert api.post(LOGOUT, {"refresh": tokens["refresh"]}, format="json").status_code == 200  # idempotent


@pytest.mark.parametrize("body", [{"refresh": "nonsense"}, {}, {"refresh": "x", "extra": 1}])
def test_logout_with_bad_input_answers_with_a_message_and_changes_nothing(api, body):
    response = api.post(LOGOUT, body, format="json")
    assert response.status_code in (400, 401)
    assert response.json()
    assert not BlacklistedToken.objects.exists()


def test_the_schema_documents_logout(client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    assert "post" in paths["/api/auth/logout"]
    assert "otp" in str(client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["components"])


def test_a_web_password_change_revokes_every_token_issued_before(api, client, user):
    """Finding 4 as the probe found it: the old refresh token still minted access tokens for 24 hours."""
    tokens = _tokens(api, user)
    assert _web_login(client, user.email, PASSWORD).status_code == 302
    new_password = "n3w-Secret-pass-7"
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": new_password, "password2": new_password},
    )
    assert response.status_code == 302
    assert _me(api, user, tokens["access"]).status_code == 401
    assert api.post(REFRESH, {"refresh": tokens["refresh"]}, format="json").status_code == 401
    fresh = api.post(LOGIN, {"email": user.email, "password": new_password}, format="json")
    assert _me(api, user, fresh.json()["access"]).status_code == 200


def test_any_password_change_revokes_tokens(api, user):
    tokens = _tokens(api, user)
    user.set_password("n3w-Secret-pass-8")  # as the admin, a reset or `changepassword` do
    user.save()
    assert _me(api, user, tokens["access"]).status_code == 401
    assert api.post(REFRESH, {"refresh": tokens["refresh"]}, format="json").status_code == 401


def test_deactivation_revokes_every_token_issued_before(api, user):
    tokens = _tokens(api, user)
    response = api.delete(f"/api/users/{user.pk}", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert response.status_code == 200
    assert _me(api, user, tokens["access"]).status_code == 401
    assert api.post(REFRESH, {"refresh": tokens["refresh"]}, format="json").status_code == 401


def test_refresh_and_logout_are_throttled_per_address_at_their_own_rate(settings):
    """A guesser of refresh tokens is slowed down; shoppers, who refresh every few minutes, have a rate of their own."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth": "1000/min", "token": "3/min"},
    }
    paths = [REFRESH, REFRESH, "/api/auth/logout", "/api/auth/logout"]  # one count for both
    statuses = [APIClient().post(path, {"refresh": "not-a-token"}, format="json").status_code for path in paths]
    assert statuses == [401, 401, 401, 429]
