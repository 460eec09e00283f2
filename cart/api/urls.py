from cart.api import views
from shop.api import optional_slash

urlpatterns = [
    *optional_slash("carts/<pk:user_id>", views.CartDetailApi, "api-cart"),
    *optional_slash("carts/<pk:user_id>/add", views.CartAddApi, "api-cart-add"),
    *optional_slash("carts/<pk:user_id>/discount", views.CartDiscountApi, "api-cart-discount"),
    *optional_slash("carts/<pk:user_id>/<pk:item_id>", views.CartLineApi, "api-cart-line"),
]
