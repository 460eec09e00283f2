from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("items/", views.HomeView.as_view(), name="item_list"),
]
