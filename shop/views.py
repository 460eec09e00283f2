from django.http import HttpResponse
from django.templatetags.static import static
from django.views import View
from django.views.generic import RedirectView


class HealthView(View):
    """A trivial view: the load balancer's health check and the benchmarks' baseline."""

    def get(self, request):
        return HttpResponse("ok", content_type="text/plain")


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico on every site, the admin's pages included."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs) -> str:
        return static("favicon.svg")
