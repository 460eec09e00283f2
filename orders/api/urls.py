from orders.api import views
from shop.api import optional_slash

urlpatterns = [
    *optional_slash("orders", views.OrderPlaceApi, "api-orders"),
    *optional_slash("orders/user/<pk:user_id>", views.OrderUserListApi, "api-orders-for-user"),
    *optional_slash("orders/<pk:order_id>", views.OrderDetailApi, "api-order"),
]
