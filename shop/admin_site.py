"""The shop's admin site: titled with the shop's name, and with one "Accounts" section.

allauth's email addresses (app "account", "Accounts") and our users and addresses (app "accounts", "Accounts") would
be two sections of the same name on the admin index; the index and the sidebar show them as one, ours. Each model
keeps its own URL (/admin/account/emailaddress/ and so on), so nothing becomes unreachable.

Installed through the admin's AppConfig (`default_site`, Django's way to replace `admin.site`): every
`admin.register` and `admin.site` in the project then means this site.
"""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

from shop.mongo_apps import MongoAdminConfig

# Sections shown inside another one on the index: app label -> the app label whose section takes its models.
MERGED_SECTIONS = {"account": "accounts"}


class ShopAdminSite(admin.AdminSite):
    @property
    def site_header(self) -> str:
        return settings.SHOP_NAME

    @property
    def site_title(self) -> str:
        return f"{settings.SHOP_NAME} admin"

    @property
    def index_title(self) -> str:
        return f"{settings.SHOP_NAME} administration"

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        if app_label is not None:
            return app_list
        sections = {app["app_label"]: app for app in app_list}
        for source, target in MERGED_SECTIONS.items():
            if source in sections and target in sections:
                merged = sections[target]["models"] + sections.pop(source)["models"]
                sections[target]["models"] = sorted(merged, key=lambda model: str(model["name"]).lower())
        return [app for app in app_list if app["app_label"] in sections]


class ShopAdminConfig(AdminConfig):
    default_site = "shop.admin_site.ShopAdminSite"


class ShopMongoAdminConfig(MongoAdminConfig):
    default_site = "shop.admin_site.ShopAdminSite"
