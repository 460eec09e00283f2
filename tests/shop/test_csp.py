"""The shop's CSP middleware builds its one policy once; whatever django-csp would do differently still happens."""

import pytest
from csp.constants import NONCE
from csp.decorators import csp_exempt, csp_update
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory

from shop.csp import CSPMiddleware

HEADER = "Content-Security-Policy"


def answer(middleware_class, view):
    middleware = middleware_class(view)
    request = RequestFactory().get("/")
    middleware.process_request(request)
    return middleware.process_response(request, view(request))


def page(request):
    return HttpResponse("ok")


def test_a_plain_page_gets_the_same_policy_as_django_csp_gives(settings):
    settings.DEBUG = False
    ours = answer(CSPMiddleware, page)[HEADER]

    assert ours == answer(DjangoCSPMiddleware, page)[HEADER]
    assert "base-uri 'none'" in ours and "object-src 'none'" in ours


def test_a_changed_setting_changes_the_policy_at_once(settings):
    settings.DEBUG = False
    answer(CSPMiddleware, page)  # builds and keeps the policy
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}

    assert answer(CSPMiddleware, page)[HEADER] == "default-src 'none'"


def test_decorated_views_and_nonces_go_through_django_csp(settings):
    settings.DEBUG = False

    @csp_update({"img-src": ["https://images.example.com"]})
    def gallery(request):
        return HttpResponse("ok")

    @csp_exempt()
    def embed(request):
        return HttpResponse("ok")

    def with_script(request):
        return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")

    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"script-src": ["'self'", NONCE]}}
    assert "https://images.example.com" in answer(CSPMiddleware, gallery)[HEADER]
    assert HEADER not in answer(CSPMiddleware, embed)
    response = answer(CSPMiddleware, with_script)
    nonce = response.content.decode().split("nonce='")[1].split("'")[0]
    assert f"'nonce-{nonce}'" in response[HEADER]


@pytest.mark.django_db
def test_a_whole_page_of_the_shop_carries_the_policy(client, settings):
    settings.DEBUG = False
    response = client.get("/")
    assert response[HEADER] == answer(DjangoCSPMiddleware, page)[HEADER]
