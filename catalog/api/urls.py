from catalog.api import views
from shop.api import optional_slash

urlpatterns = [
    *optional_slash("items", views.ItemCollectionApi, "api-items"),
    *optional_slash("items/<pk:item_id>", views.ItemDetailApi, "api-item"),
]
