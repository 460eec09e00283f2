"""Two factors (allauth.mfa, TOTP with recovery codes): anyone may turn them on; staff and sellers must with
SHOP_REQUIRE_2FA; the admin and the API ask for the code."""

from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.urls import reverse, reverse_lazy
from rest_framework.test import APIClient

from accounts.models import User
from tests.accounts.helpers import totp_code, with_totp
from tests.factories import PASSWORD, SellerFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/auth/login"
REFRESH = "/api/auth/refresh"
ACTIVATE = reverse_lazy("mfa_activate_totp")


def _web_login(client, user, next_url=None):
    url = reverse("account_login") + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"login": user.email, "password": PASSWORD})


def _activation_page(client):
    """The TOTP setup page; allauth first asks for the password again (MFA_REAUTHENTICATION_REQUIRED)."""
    page = client.get(ACTIVATE)
    if page.status_code == 302 and page.url.startswith(reverse("account_reauthenticate")):
        assert client.post(page.url, {"password": PASSWORD}).status_code == 302
        page = client.get(ACTIVATE)
    return page


def _signed_in(client) -> bool:
    return bool(client.session.get("_auth_user_id"))


@pytest.fixture
def require_2fa(settings):
    settings.SHOP_REQUIRE_2FA = True


# The web: anyone turns TOTP on; the admin asks for the code.


def test_the_account_menu_links_to_two_factor_settings(client, user):
    client.force_login(user)
    assert f'href="{reverse("mfa_index")}"' in client.get("/").content.decode()
    assert client.get(reverse("mfa_index")).status_code == 200


def test_a_shopper_turns_on_totp_from_the_account_pages(client, user):
    assert _web_login(client, user).status_code == 302
    page = _activation_page(client)
    assert page.status_code == 200
    secret = page.context["form"].secret
    response = client.post(ACTIVATE, {"code": totp_code(secret)})
    assert response.status_code == 302
    assert set(Authenticator.objects.filter(user=user).values_list("type", flat=True)) == {"totp", "recovery_codes"}


def test_a_wrong_code_turns_nothing_on(client, user):
    _web_login(client, user)
    _activation_page(client)
    response = client.post(ACTIVATE, {"code": "000000x"})
    assert response.status_code == 200 and response.context["form"].errors
    assert not Authenticator.objects.filter(user=user).exists()


def test_staff_with_totp_log_in_to_the_admin_with_the_code(client, staff):
    secret = with_totp(staff)
    to_login = client.get(client.get(reverse("admin:index")).url).url  # the admin's login hands over to the shop's
    next_url = parse_qs(urlsplit(to_login).query)["next"][0]
    response = _web_login(client, staff, next_url=next_url)
    assert response.status_code == 302 and response.url == reverse("mfa_authenticate")
    assert not _signed_in(client)
    assert client.get(reverse("admin:index")).status_code == 302

    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302 and response.url == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_wrong_code_keeps_staff_out_of_the_admin(client, staff):
    with_totp(staff)
    _web_login(client, staff, next_url=reverse("admin:index"))
    response = client.post(reverse("mfa_authenticate"), {"code": "123456"})
    assert response.status_code == 200 and response.context["form"].errors
    assert not _signed_in(client)


# SHOP_REQUIRE_2FA: staff and sellers set it up first.


@pytest.mark.parametrize("make", [lambda: UserFactory(is_staff=True, is_superuser=True), SellerFactory])
def test_staff_and_sellers_without_totp_are_sent_to_set_it_up(client, require_2fa, make):
    person = make()
    assert _web_login(client, person, next_url=reverse("admin:index")).status_code == 302
    for path in (reverse("admin:index"), "/admin/dashboard/", "/"):
        response = client.get(path)
        assert response.status_code == 302 and response.url == reverse("mfa_activate_totp"), path

    page = _activation_page(client)
    assert page.status_code == 200
    client.post(ACTIVATE, {"code": totp_code(page.context["form"].secret)})
    assert client.get(reverse("admin:index")).status_code == 200


def test_shoppers_are_not_asked_to_set_up_totp(client, require_2fa, user):
    _web_login(client, user)
    assert client.get("/").status_code == 200


def test_without_the_setting_staff_need_no_totp(client, staff):
    _web_login(client, staff)
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_api_refuses_a_staff_session_without_totp(client, require_2fa, staff):
    _web_login(client, staff)
    response = client.get("/api/users")
    assert response.status_code == 403 and response.json()["code"] == "mfa_setup_required"


# The API: no way around the second factor.


def _api_login(**body):
    return APIClient().post(LOGIN, body, format="json")


def test_the_api_asks_a_totp_user_for_the_code(user):
    secret = with_totp(user)
    missing = _api_login(email=user.email, password=PASSWORD)
    assert missing.status_code == 401 and missing.json()["code"] == "otp_required"
    assert "access" not in missing.json()
    wrong = _api_login(email=user.email, password=PASSWORD, otp="000000")
    assert wrong.status_code == 401 and wrong.json()["code"] == "otp_incorrect"
    right = _api_login(email=user.email, password=PASSWORD, otp=totp_code(secret))
    assert right.status_code == 200 and right.json()["access"]


def test_the_api_accepts_a_recovery_code_once(user):
    with_totp(user)
    code = RecoveryCodes.activate(user).get_unused_codes()[0]
    assert _api_login(email=user.email, password=PASSWORD, otp=code).status_code == 200
    assert _api_login(email=user.email, password=PASSWORD, otp=code).status_code == 401


def test_a_wrong_password_with_a_right_code_gets_nothing(user):
    secret = with_totp(user)
    response = _api_login(email=user.email, password="wrong-one-xx", otp=totp_code(secret))
    assert response.status_code == 401 and "access" not in response.json()


def test_wrong_codes_lock_the_second_factor(user):
    secret = with_totp(user)
    statuses = [_api_login(email=user.email, password=PASSWORD, otp="000000").status_code for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    assert _api_login(email=user.email, password=PASSWORD, otp=totp_code(secret)).status_code == 429


def test_the_api_gives_no_token_to_staff_or_sellers_without_totp_when_required(require_2fa, staff, seller, user):
    for person in (staff, seller):
        response = _api_login(email=person.email, password=PASSWORD)
        assert response.status_code == 403
        assert response.json()["code"] == "mfa_setup_required" and "two-factor" in response.json()["detail"]
    assert _api_login(email=user.email, password=PASSWORD).status_code == 200


def test_staff_with_totp_get_a_token_with_the_code_when_required(require_2fa, staff):
    secret = with_totp(staff)
    assert _api_login(email=staff.email, password=PASSWORD, otp=totp_code(secret)).status_code == 200


def test_a_token_from_before_a_promotion_is_refused_until_totp_is_set_up(require_2fa, user):
    """Made staff after an API login, a shopper's tokens are refused as the login would be, until they set up TOTP."""
    login = _api_login(email=user.email, password=PASSWORD).json()
    User.objects.filter(pk=user.pk).update(is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login['access']}")
    refused = client.get("/api/users")
    assert refused.status_code == 403 and refused.json()["code"] == "mfa_setup_required"
    assert APIClient().post(REFRESH, {"refresh": login["refresh"]}, format="json").status_code == 401

    with_totp(user)
    assert client.get("/api/users").status_code == 200


def test_a_token_is_refused_once_staff_remove_their_totp(require_2fa, staff):
    secret = with_totp(staff)
    access = _api_login(email=staff.email, password=PASSWORD, otp=totp_code(secret)).json()["access"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert client.get("/api/users").status_code == 200
    Authenticator.objects.filter(user=staff).delete()
    assert client.get("/api/users").status_code == 403
