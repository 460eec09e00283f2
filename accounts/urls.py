from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("addresses/", views.AddressListView.as_view(), name="address_list"),
    path("addresses/new/", views.AddressCreateView.as_view(), name="address_create"),
    path("addresses/<pk:address_id>/edit/", views.AddressUpdateView.as_view(), name="address_update"),
    path("addresses/<pk:address_id>/delete/", views.address_delete_view, name="address_delete"),
    path("addresses/<pk:address_id>/default/", views.address_default_view, name="address_default"),
    path("data/", views.PersonalDataView.as_view(), name="personal_data"),
    path("data/export/", views.personal_data_export_view, name="personal_data_export"),
    path("delete/", views.AccountDeleteView.as_view(), name="delete"),
]
