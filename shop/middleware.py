"""Middleware of the shop's own."""

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
