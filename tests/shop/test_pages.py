import pytest
from django.test import Client, override_settings
from django.urls import include, path

from shop.money import format_money, parse_major, percent_of


def _boom(request):
    raise RuntimeError("boom")


def _forbidden(request):
    from django.core.exceptions import PermissionDenied

    raise PermissionDenied


urlpatterns = [path("boom/", _boom), path("forbidden/", _forbidden), path("", include("shop.urls"))]


@pytest.mark.django_db
def test_unknown_page_answers_404_with_the_shop_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b"Skip to main content" in response.content


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_forbidden_page_answers_403_with_the_shop_page(client):
    response = client.get("/forbidden/")
    assert response.status_code == 403
    assert b"Not allowed" in response.content


@override_settings(ROOT_URLCONF=__name__)
def test_server_error_answers_500_with_a_plain_page():
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    assert b"Something went wrong" in response.content


@pytest.mark.django_db
def test_home_page_has_landmarks_skip_link_and_local_bootstrap(client):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="#main"' in html and '<main id="main"' in html and "<nav" in html
    assert "/static/bootstrap/css/bootstrap.min.css" in html
    assert "cdn" not in html.lower()


def test_favicon_redirects_to_the_static_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("/static/favicon.svg")


def test_liveness_view_answers_ok_without_the_database(client):
    assert client.get("/health/live/").content == b"ok"


def test_money_formats_minor_units():
    assert format_money(1999) == "€19.99"
    assert format_money(5, "JPY") == "¥5"


@pytest.mark.parametrize(
    ("text", "minor"),
    [("12.50", 1250), ("12,5", 1250), ("0", 0), ("3", 300), ("abc", None), ("-1", None), ("", None), ("1e400", None)],
)
def test_parse_major_reads_what_a_shopper_types(text, minor):
    assert parse_major(text) == minor


def test_percent_of_rounds_half_up_once():
    assert percent_of(1005, 10) == 101
    assert percent_of(1004, 10) == 100


@pytest.mark.django_db
def test_navbar_follows_who_is_looking_and_escapes_the_search(client):
    from tests.factories import PASSWORD, UserFactory

    shopper, staff = UserFactory(email="ann@example.com"), UserFactory(email="boss@example.com", is_staff=True)
    assert "Log in" in client.get("/").content.decode()

    client.force_login(shopper)
    page = client.get("/items/", {"q": '"><script>x</script>'}).content.decode()
    assert "ann@example.com" in page and "Log in" not in page and "/admin/" not in page
    assert 'value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in page and "<script>x" not in page

    client.force_login(staff)
    page = client.get("/items/", {"q": '"><script>x</script>'}).content.decode()
    assert "boss@example.com" in page and "ann@example.com" not in page and 'href="/admin/"' in page

    browser = Client(enforce_csrf_checks=True)
    assert browser.login(email=shopper.email, password=PASSWORD)
    page = browser.get("/").content.decode()
    logout = page[page.index('action="/accounts/logout/"') :]
    token = logout[logout.index('value="') + 7 :].split('"', 1)[0]
    assert browser.post("/accounts/logout/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert "Log in" in browser.get("/").content.decode()  # the cached navbar's logout form worked
