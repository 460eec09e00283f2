from django.conf import settings
from django.contrib import admin
from django.urls import include, path, register_converter

from shop.converters import PkConverter
from shop.views import FaviconView, HealthView, LiveView

register_converter(PkConverter, "pk")

urlpatterns = [
    path("admin/dashboard/", include("orders.dashboard")),
    path("admin/", admin.site.urls),
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
