from django.http import HttpResponse, JsonResponse
from django.templatetags.static import static
from django.views import View
from django.views.generic import RedirectView

from shop.fragments import cached_render
from shop.selectors import health


class LiveView(View):
    """A trivial view: the process answers (a liveness probe), and the benchmarks' baseline."""

    def get(self, request):
        return HttpResponse("ok", content_type="text/plain")


class HealthView(View):
    """The health check: the database, the cache and the worker's last heartbeat, as JSON.

    503 only when the database does not answer (this server cannot serve); a failing cache or a late worker is
    "degraded" with 200, since the shop still sells without them.
    """

    def get(self, request):
        report = health()
        response = JsonResponse(report.as_dict(), status=200 if report.serving else 503)
        response["Cache-Control"] = "no-store"
        return response


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico on every site, the admin's pages included."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs) -> str:
        return static("favicon.svg")


class CachedPageMixin:
    """Serves a whole page from the cache when `page_cache_parts()` can name everything it depends on.

    `page_cache_parts()` returns None when the page must be rendered for this request (a pending message, a
    version that cannot be read), else the parts of the key besides the URL: versions of the data shown and who
    is looking. `page_cache_versions()` may instead name the data's scopes and how to read their version (see
    `shop.fragments.cached_render`). The page is rendered without the response's CSRF token (`CsrfFieldMiddleware`
    fills it in).
    """

    page_cache_name = ""

    def page_cache_parts(self, request) -> tuple | None:
        return None

    def page_cache_versions(self) -> dict:
        return {}

    def get(self, request, *args, **kwargs):
        parts = self.page_cache_parts(request)
        if parts is None:
            return super().get(request, *args, **kwargs)
        html = cached_render(
            name=f"page:{self.page_cache_name}",
            parts=(*parts, request.get_full_path()),
            build=lambda: super(CachedPageMixin, self).get(request, *args, **kwargs).render().content.decode(),
            **self.page_cache_versions(),
        )
        return HttpResponse(html)
