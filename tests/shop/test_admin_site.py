import pytest
from django.urls import reverse


@pytest.fixture
def admin_client_of(client, staff):
    client.force_login(staff)
    return client


def test_admin_index_is_titled_with_the_shops_name(admin_client_of, settings):
    settings.SHOP_NAME = "Hollow Oak Goods"

    html = admin_client_of.get(reverse("admin:index")).content.decode()

    assert "<title>Hollow Oak Goods administration | Hollow Oak Goods admin</title>" in html
    assert '<a href="/admin/">Hollow Oak Goods</a>' in html.replace(reverse("admin:index"), "/admin/")
    assert "Django administration" not in html and "Django site admin" not in html


def test_admin_index_has_one_accounts_section_holding_users_and_email_addresses(admin_client_of):
    response = admin_client_of.get(reverse("admin:index"))

    sections = [app for app in response.context["app_list"] if app["name"] == "Accounts"]
    assert len(sections) == 1
    models = {model["object_name"] for model in sections[0]["models"]}
    assert {"User", "EmailAddress"} <= models and "EmailConfirmation" not in models  # its keys are secrets
    assert response.content.decode().count('title="Models in the Accounts application"') == 1


def test_email_addresses_stay_reachable_in_the_admin(admin_client_of):
    assert admin_client_of.get(reverse("admin:account_emailaddress_changelist")).status_code == 200
    assert admin_client_of.get(reverse("admin:app_list", args=["account"])).status_code == 200
