from django.http import HttpResponse, StreamingHttpResponse
from django.middleware.csrf import CsrfViewMiddleware, _unmask_cipher_token
from django.test import RequestFactory

from shop.fragments import CSRF_PLACEHOLDER
from shop.middleware import CsrfFieldMiddleware


def _through_csrf(view, request):
    return CsrfViewMiddleware(CsrfFieldMiddleware(view))(request)


def test_placeholders_get_one_token_of_this_visitor_and_the_cookie_is_set():
    page = f"<form>{CSRF_PLACEHOLDER}</form><form>{CSRF_PLACEHOLDER}</form>"
    response = _through_csrf(
        lambda request: HttpResponse(page, headers={"Content-Length": str(len(page))}), RequestFactory().get("/")
    )
    html = response.content.decode()
    assert CSRF_PLACEHOLDER not in html and html.count('name="csrfmiddlewaretoken"') == 2
    token = html.split('value="', 1)[1].split('"', 1)[0]
    assert _unmask_cipher_token(token) == response.cookies["csrftoken"].value
    assert response["Content-Length"] == str(len(response.content))


def test_responses_without_placeholder_or_not_html_are_left_alone():
    plain = _through_csrf(lambda request: HttpResponse("<p>no forms</p>"), RequestFactory().get("/"))
    assert plain.content == b"<p>no forms</p>" and "csrftoken" not in plain.cookies
    text = f"{CSRF_PLACEHOLDER} in a text file"
    as_text = _through_csrf(lambda request: HttpResponse(text, content_type="text/plain"), RequestFactory().get("/"))
    assert as_text.content.decode() == text
    streamed = _through_csrf(lambda request: StreamingHttpResponse([text]), RequestFactory().get("/"))
    assert b"".join(streamed.streaming_content).decode() == text
