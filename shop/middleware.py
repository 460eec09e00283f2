"""Middleware of the shop's own."""

from django.conf import settings
from django.template.backends.utils import csrf_input

from shop.fragments import CSRF_PLACEHOLDER

PLACEHOLDER = CSRF_PLACEHOLDER.encode()


class CsrfFieldMiddleware:
    """Puts this response's CSRF field into the forms of HTML rendered ahead of time.

    Cached fragments and pages cannot hold a CSRF token (it belongs to one visitor), so their forms carry
    `{% cached_csrf_token %}`, a placeholder, filled here with one masked token per response, as
    `{% csrf_token %}` gives within one template. Sits inside `CsrfViewMiddleware`, which then sets the cookie.
    A response without the placeholder is left alone and gets no CSRF cookie.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            not response.streaming
            and response.get("Content-Type", "").startswith("text/html")
            and PLACEHOLDER in response.content
        ):
            response.content = response.content.replace(PLACEHOLDER, str(csrf_input(request)).encode())
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response


class PrivacyHeadersMiddleware:
    """First in the stack, so it sees every answer (cached anonymous pages included):

    - `Cache-Control: private, no-store` on answers personal to a visitor (signed in, or with a session: a cart, a
      guest's order, or one that starts a session) and on every API answer, unless the view chose its own: no shared
      cache or browser history keeps a buyer's page;
    - `Cache-Control: private` on any other answer that sets a cookie (a first visit's CSRF cookie, whose token is in
      the page's forms): a shared cache in front of the shop (a CDN, a proxy) would hand that cookie and token to
      every later visitor, and Django's CSRF check would then protect none of them;
    - `Permissions-Policy` (`settings.PERMISSIONS_POLICY`): browser features no page of the shop uses stay off.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Cache-Control" not in response:  # set whole (the view chose none): this runs on every answer
            if self._is_personal(request) or settings.SESSION_COOKIE_NAME in response.cookies:
                response["Cache-Control"] = "private, no-store"
            elif response.cookies:
                response["Cache-Control"] = "private"
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response

    @staticmethod
    def _is_personal(request) -> bool:
        user = getattr(request, "user", None)
        return (
            request.path_info.startswith("/api/")
            or settings.SESSION_COOKIE_NAME in request.COOKIES
            or bool(user is not None and user.is_authenticated)
        )
