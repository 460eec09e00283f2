"""allauth pages the shop replaces, mounted under accounts/ before allauth's own URLs (same names, so every
`{% url 'account_email' %}` reaches ours)."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("email/", views.EmailView.as_view(), name="account_email"),
]
