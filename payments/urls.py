from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("orders/<str:number>/pay/", views.start_payment_view, name="start"),
    path("stripe/webhook/", views.stripe_webhook_view, name="stripe_webhook"),
    path("success/", views.CheckoutSuccessView.as_view(), name="success"),
    path("demo/<str:token>/", views.DemoPaymentView.as_view(), name="demo"),
]
