"""Caching of catalog pages, in one place (see `shop.fragments` for the keys and version tokens).

- A visitor with nothing personal on the page (no session, no pending message: `is_anonymous_visitor`) gets the
  same page as every such visitor for that URL: the whole page is cached under the URL (`ANONYMOUS_PAGE`), and
  `AnonymousPageMiddleware` serves it before the session, authentication and message machinery, the URL resolver
  and the view run.
- Anyone else gets the page rendered (their cart badge, messages, account menu); item cards come from a per-process
  memo (`catalog.templatetags.catalog_cards`).

Each entry remembers the catalog scopes its page shows (every item, or one category's) and their version when it was
rendered; a hit reads that version again (a token in the shared cache, or one indexed query), so a page cached by one
gunicorn worker is never served after a change made through another worker, the admin or a bulk update.
"""

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpResponse
from django.urls import reverse

from catalog.selectors import catalog_version
from shop.fragments import cached_value

# The name of whole anonymous pages in the cache: the URL tells the pages apart, so every catalog view shares it and
# the middleware can find a page without knowing which view made it.
ANONYMOUS_PAGE = "catalog:anonymous-page"


def is_anonymous_visitor(request) -> bool:
    """True when nothing personal can be on the page: no session (so no login, no cart) and no pending messages."""
    return request.method == "GET" and not (
        settings.SESSION_COOKIE_NAME in request.COOKIES or CookieStorage.cookie_name in request.COOKIES
    )


class AnonymousPageMiddleware:
    """Serves a cached catalog page to an anonymous visitor straight away (one cache read, one version read), before
    the session, authentication and message middleware, the URL resolver and the view.

    Placed after the CSRF middleware (which fill the page's forms and set the cookie) and after the ones that add
    security headers, so the response is finished exactly as the view's own would be. A miss goes on as usual, and
    the view stores the page.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.home: str | None = None
        self.prefixes: tuple[str, ...] = ()

    def __call__(self, request):
        if is_anonymous_visitor(request) and self._is_catalog_path(request.path_info):
            # The key `CachedPageMixin.get` stores the page under: its name, the view's parts (none), the URL.
            parts = (request.get_full_path(),)
            html = cached_value(name=f"page:{ANONYMOUS_PAGE}", parts=parts, version_of=catalog_version)
            if html is not None:
                return HttpResponse(html)
        return self.get_response(request)

    def _is_catalog_path(self, path: str) -> bool:
        if self.home is None:  # reversed once, on the first request (the URLconf is ready by then)
            self.home = reverse("catalog:home")
            self.prefixes = (reverse("catalog:item_list"), reverse("catalog:category", kwargs={"slug": "x"})[:-2])
        return path == self.home or path.startswith(self.prefixes)
