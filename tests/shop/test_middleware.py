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


def test_a_visitors_csrf_token_is_never_stored_in_the_shared_cache(rf, caplog):
    from django.core.cache import cache
    from django.middleware.csrf import get_token
    from django.template import engines

    from shop.fragments import cached_render

    request = rf.get("/")
    get_token(request)
    template = engines["django"].from_string("<form>{% csrf_token %}</form>")
    build = lambda: template.render({}, request)  # noqa: E731

    first = cached_render(name="mistake", parts=(), build=build)
    second = cached_render(name="mistake", parts=(), build=build)

    assert "csrfmiddlewaretoken" in first and "csrfmiddlewaretoken" in second
    assert not any(key for key in getattr(cache, "_cache", {}) if "mistake" in str(key))
    assert sum("Refused to cache mistake" in record.getMessage() for record in caplog.records) == 2


def test_a_seller_cannot_type_a_placeholder(client, make_item, shelf):
    from shop.fragments import CSRF_PLACEHOLDER

    shelf["child"].name = "Pans <!--csrf-token--> \u00a7search\u00a7"
    shelf["child"].save()
    make_item(title="Steel Pan")

    html = client.get("/items/", {"q": "pan"}).content.decode()

    assert "Pans &lt;!--csrf-token--&gt; \u00a7search\u00a7" in html  # shown as typed, nothing substituted
    assert str(CSRF_PLACEHOLDER) not in html and "settings.SECRET_KEY" not in html
