from payments.api import views
from shop.api import optional_slash

urlpatterns = [
    *optional_slash("orders/<pk:order_id>/pay", views.OrderPayApi, "api-order-pay"),
]
