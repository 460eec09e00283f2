from django.urls import path

from cart import views

app_name = "cart"

urlpatterns = [
    path("", views.CartView.as_view(), name="detail"),
    path("add/", views.cart_add_view, name="add"),
    path("update/", views.cart_update_view, name="update"),
    path("remove/", views.cart_remove_view, name="remove"),
    path("empty/", views.cart_empty_view, name="empty"),
    path("discount/", views.cart_discount_view, name="discount"),
]
