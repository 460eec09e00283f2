"""The JSON API's route table, under /api/. Apps are included by name: the shop imports no app."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from shop.api import not_found

urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("catalog.api.urls")),
    path("", include("pricing.api.urls")),
    path("", include("cart.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("payments.api.urls")),
    path("", include("payments.api.refunds")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("schema", SpectacularAPIView.as_view()),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("docs", SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
    re_path(r"", not_found),
]
