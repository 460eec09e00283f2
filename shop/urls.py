from django.conf import settings
from django.contrib import admin
from django.urls import include, path, register_converter
from django.urls.converters import get_converters

from shop.converters import PkConverter
from shop.views import FaviconView, HealthView, LiveView

if "pk" not in get_converters():  # once, however often the URLconf is loaded
    register_converter(PkConverter, "pk")

urlpatterns = [
    path(f"{settings.ADMIN_PATH}dashboard/", include("orders.dashboard")),
    # The admin's login is the shop's (allauth: rate limits, per-account lock, 2FA); see accounts/admin_login.py.
    path(f"{settings.ADMIN_PATH}login/", include("accounts.admin_login")),
    path(settings.ADMIN_PATH, admin.site.urls),
    path("accounts/", include("accounts.allauth_urls")),  # our versions of some allauth pages, found first
    path("accounts/", include("allauth.urls")),
    path("account/", include("accounts.urls")),
    path("health/", HealthView.as_view(), name="health"),
    path("health/live/", LiveView.as_view(), name="live"),
    path("favicon.ico", FaviconView.as_view()),
    path("api/", include("shop.api_urls")),
    path("", include("catalog.urls")),
    path("cart/", include("cart.urls")),
    path("", include("orders.urls")),
    path("payments/", include("payments.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
