"""Logging in: one per-account lock for every way in, and the second factor.

The lock is allauth's `login_failed` rate limit (settings.ACCOUNT_RATE_LIMITS, built from LOGIN_FAILURE_LIMIT and
LOGIN_FAILURE_WINDOW_SECONDS), which allauth's adapter applies in `authenticate()`: every attempt is counted under
the account's email and a successful one is taken back, so only failures add up. The web login (and with it the
admin's, which redirects there) and the API login (`authenticate_for_api`) all call that one adapter method, so
they share one counter per account, whatever address the attempts come from. The second factor is allauth.mfa's
TOTP; its codes have their own counter per user (allauth's `check_rate_limit`), shared with the web's 2FA step.
"""

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.mfa.base.forms import AuthenticateForm
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from accounts.models import User
from shop.exceptions import ShopError


class LoginRefused(ShopError):
    """A refused login. The API answers with the class's `http_status` (`shop.api.exception_handler`): 401 with the
    view's `WWW-Authenticate` challenge, 429 for a locked account, 403 for staff or sellers who must set up 2FA."""

    code = "login_refused"
    message = "No active account found with the given credentials."
    http_status = 401


class LoginLocked(LoginRefused):
    code = "login_locked"
    message = "Too many failed login attempts for this account. Try again later."
    http_status = 429


class SecondFactorRequired(LoginRefused):
    code = "otp_required"
    message = (
        "This account uses two-factor authentication: send the current code of your authenticator app "
        "(or one of your recovery codes) as `otp`."
    )


class SecondFactorIncorrect(LoginRefused):
    code = "otp_incorrect"
    message = "Incorrect two-factor code."


class SecondFactorSetupRequired(LoginRefused):
    code = "mfa_setup_required"
    message = (
        "Staff and sellers must use two-factor authentication: log in on the web site and set up an "
        "authenticator app first."
    )
    http_status = 403


def has_second_factor(user: User) -> bool:
    return is_mfa_enabled(user, [Authenticator.Type.TOTP])


def must_set_up_second_factor(user: User) -> bool:
    """Whether the signed-in user must set up TOTP before anything else (settings.SHOP_REQUIRE_2FA)."""
    return bool(
        settings.SHOP_REQUIRE_2FA
        and user.is_authenticated
        and user.has_back_office_access
        and not has_second_factor(user)
    )


def authenticate_for_api(*, request: HttpRequest, email: str, password: str, otp: str | None) -> User:
    """The active user with these credentials and, when they have TOTP, this code.

    Raises: LoginLocked (this account failed too often lately, or the code did), LoginRefused (wrong email or
    password, or inactive), SecondFactorRequired (no `otp` for an account with TOTP), SecondFactorIncorrect,
    SecondFactorSetupRequired (staff or seller without TOTP while SHOP_REQUIRE_2FA is on).
    """
    try:
        user = get_account_adapter(request).authenticate(request, email=email, password=password)
    except ValidationError as err:  # allauth's lock: raised before the password is even checked
        raise LoginLocked() from err
    if user is None or not user.is_active:
        raise LoginRefused()
    if has_second_factor(user):
        _check_code(user=user, code=otp)
    elif must_set_up_second_factor(user):
        raise SecondFactorSetupRequired()
    return user


def _check_code(*, user: User, code: str | None) -> None:
    if not code:
        raise SecondFactorRequired()
    form = AuthenticateForm(user=user, data={"code": code})
    if not form.is_valid():
        if form.has_error("code", "too_many_login_attempts"):
            raise LoginLocked()
        raise SecondFactorIncorrect()
    # allauth's form.save() would also record the login in a session; an API client has none.
    form.authenticator.record_usage()
