from django.http import HttpResponse
from django.views import View


class HealthView(View):
    """A trivial view: the load balancer's health check and the benchmarks' baseline."""

    def get(self, request):
        return HttpResponse("ok", content_type="text/plain")
