"""Staff and sellers without a second factor go nowhere but the account pages (settings.SHOP_REQUIRE_2FA)."""

import functools

from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from accounts.security import SecondFactorSetupRequired, must_set_up_second_factor

SETUP_MESSAGE = "Your account manages the shop: set up two-factor authentication to continue."


class TwoFactorRequiredMiddleware:
    """Sends a signed-in staff member or seller who has no TOTP to its setup page before any other page (the admin,
    the dashboard, the shop); the account pages (login, logout, email, 2FA) stay open. The API answers 403 JSON."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            settings.SHOP_REQUIRE_2FA
            and settings.SESSION_COOKIE_NAME in request.COOKIES  # no session, nobody signed in: skip the lookup
            and not self._is_open(request.path_info)
            and must_set_up_second_factor(request.user)
        ):
            if request.path_info.startswith("/api/"):
                error = SecondFactorSetupRequired()
                return JsonResponse({"detail": error.message, "code": error.code}, status=403)
            messages.warning(request, SETUP_MESSAGE)
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    @staticmethod
    def _is_open(path: str) -> bool:
        return path.startswith(_open_prefixes())


@functools.cache
def _open_prefixes() -> tuple[str, ...]:
    """Where a staff member without 2FA may still go, worked out once (the URLconf is ready by the first request)."""
    accounts = reverse("account_login").rstrip("/").rsplit("/", 1)[0] + "/"  # "/accounts/": allauth and 2FA
    return (accounts, "/health/", "/favicon.ico", f"/{settings.STATIC_URL.lstrip('/')}")
