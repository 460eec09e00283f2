"""A bare Django "hello world" WSGI application: the framework's ceiling for the benchmarks (see storefront.py).

    python -m gunicorn hello_wsgi --workers 2 ...   (run from bench/, as `harness.bare_django_site()` does)

No apps, no middleware, no database: one URL pattern and one view answering "ok".
"""

import secrets

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY=secrets.token_urlsafe(64),
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)


def hello(request):
    return HttpResponse("ok")


urlpatterns = [path("", hello)]

application = get_wsgi_application()
