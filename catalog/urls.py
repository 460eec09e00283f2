from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("items/", views.ItemListView.as_view(), name="item_list"),
    path("items/<slug:slug>/", views.ItemDetailView.as_view(), name="item"),
    path("categories/<slug:slug>/", views.CategoryDetailView.as_view(), name="category"),
]
