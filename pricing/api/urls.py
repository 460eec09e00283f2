from pricing.api import views
from shop.api import optional_slash

urlpatterns = [
    *optional_slash("shipping-methods", views.ShippingMethodListApi, "api-shipping-methods"),
    *optional_slash("discount-codes", views.DiscountCodeCollectionApi, "api-discount-codes"),
    *optional_slash("discount-codes/<pk:code_id>", views.DiscountCodeDetailApi, "api-discount-code"),
]
