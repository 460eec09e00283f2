"""Issue 14's cleanup: a refused API login answers with its exception class's `http_status` through the API's one
handler (no table in the login view): 401 with the Bearer challenge, 429 for a locked account, 403 for staff and
sellers who must set up two factors; each with the refusal's `detail` and `code`."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from rest_framework.test import APIClient

from accounts.security import (
    LoginLocked,
    LoginRefused,
    SecondFactorIncorrect,
    SecondFactorRequired,
    SecondFactorSetupRequired,
)
from shop.api import exception_handler
from tests.factories import PASSWORD, UserFactory

LOGIN = "/api/auth/login"
WRONG = "wrong-one-xx"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (LoginRefused, 401),
        (SecondFactorRequired, 401),
        (SecondFactorIncorrect, 401),
        (LoginLocked, 429),
        (SecondFactorSetupRequired, 403),
    ],
)
def test_each_login_refusal_carries_its_status(error, status):
    response = exception_handler(error(), {})
    assert response.status_code == status
    assert (response.data["detail"], response.data["code"]) == (error.message, error.code)


def _login(email, password, **body):
    return APIClient().post(LOGIN, {"email": email, "password": password, **body}, format="json")


@pytest.mark.django_db
def test_the_login_api_answers_each_refusal_as_before(settings, staff):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "1000/m/ip,2/300s/key"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth": "1000/min"}}
    ann = UserFactory(email="ann@example.com")
    totp = UserFactory(email="totp@example.com")
    TOTP.activate(totp, generate_totp_secret())

    answers = [
        _login(ann.email, WRONG),
        _login(totp.email, PASSWORD),
        _login(totp.email, PASSWORD, otp="000000"),
    ]
    _login(ann.email, WRONG)
    answers.append(_login(ann.email, PASSWORD))  # locked: even the right password
    settings.SHOP_REQUIRE_2FA = True
    answers.append(_login(staff.email, PASSWORD))

    seen = [(r.status_code, r.json()["code"], r.headers.get("WWW-Authenticate"), "access" in r.json()) for r in answers]
    assert seen == [
        (401, "login_refused", 'Bearer realm="api"', False),
        (401, "otp_required", 'Bearer realm="api"', False),
        (401, "otp_incorrect", 'Bearer realm="api"', False),
        (429, "login_locked", None, False),
        (403, "mfa_setup_required", None, False),
    ]
    assert answers[0].json()["detail"] == LoginRefused.message
    assert "Retry-After" not in answers[3].headers
