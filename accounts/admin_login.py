"""The admin's login page, replaced: everyone signs in through the shop's allauth login, with its per-account lock,
its rate limits and its second factor. Mounted at `<ADMIN_PATH>login/` ahead of the admin (shop/urls.py), so the
admin's own login form, which has none of these, is never served.

Not allauth's `secure_admin_login(admin.site.login)`: that still hands a signed-in staff member's POST to the admin's
form, which would check another account's password with no lock at all."""

from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import View


class AdminLoginView(View):
    """GET or POST (a posted password is never read): to the shop's login with a safe `next` kept; a signed-in user
    with admin access goes straight on, one without is refused (the admin would only send them back here)."""

    http_method_names = ["get", "post", "head"]

    def dispatch(self, request, *args, **kwargs):
        if request.method.lower() not in self.http_method_names:
            return self.http_method_not_allowed(request, *args, **kwargs)
        next_url = self._next_url(request)
        if request.user.is_authenticated:
            if request.user.is_active and request.user.is_staff:
                return redirect(next_url)
            raise PermissionDenied("Your account has no access to the admin.")
        return redirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")

    @staticmethod
    def _next_url(request) -> str:
        next_url = request.GET.get("next", "")
        safe = url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        return next_url if safe else reverse("admin:index")


urlpatterns = [path("", AdminLoginView.as_view(), name="admin_login")]
