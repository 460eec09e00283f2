from rest_framework import serializers

from catalog.models import MAX_STOCK, Item
from catalog.selectors import SEARCH_MAX_LENGTH, SORTS, category_list
from shop.api import StrictBooleanField, StrictIntegerField, StrictSerializer, Timestamp, currency

MAX_PRICE_MINOR = 100_000_000


class ItemOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    slug = serializers.CharField()
    sku = serializers.CharField()
    description = serializers.CharField()
    price = serializers.IntegerField(source="price_minor", help_text="In minor units of `currency` (1250 is 12.50).")
    currency = serializers.SerializerMethodField()
    stock = serializers.IntegerField()
    category = serializers.CharField(source="category.slug", help_text="The category's slug.")
    seller = serializers.CharField(source="seller_id", help_text="The seller's user id.")
    image = serializers.SerializerMethodField(help_text="An absolute URL, or null.")
    is_active = serializers.BooleanField()
    created_at = Timestamp()
    updated_at = Timestamp()

    def get_currency(self, item: Item) -> str:
        return currency()

    def get_image(self, item: Item) -> str | None:
        if not item.image:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(item.image.url) if request else item.image.url


class ItemListQuerySerializer(StrictSerializer):
    """The storefront's filters; prices in minor units, like `price`."""

    q = serializers.CharField(required=False, allow_blank=True, max_length=200, help_text="Title or description.")
    category = serializers.SlugField(required=False, max_length=120, help_text="A category slug (with its children).")
    min_price = serializers.IntegerField(required=False, min_value=0, max_value=MAX_PRICE_MINOR)
    max_price = serializers.IntegerField(required=False, min_value=0, max_value=MAX_PRICE_MINOR)
    in_stock = serializers.BooleanField(required=False, default=False)
    sort = serializers.ChoiceField(choices=list(SORTS), required=False)
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)

    def validate_q(self, value: str) -> str:
        return " ".join(value.split())[:SEARCH_MAX_LENGTH]

    def validate(self, attrs: dict) -> dict:
        low, high = attrs.get("min_price"), attrs.get("max_price")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"max_price": ["Must not be below min_price."]})
        return attrs

    def selector_kwargs(self) -> dict:
        data = self.validated_data
        kwargs = {
            "q": data.get("q", ""),
            "category_slug": data.get("category") or None,
            "min_price_minor": data.get("min_price"),
            "max_price_minor": data.get("max_price"),
            "in_stock": data["in_stock"],
        }
        if "sort" in data:
            kwargs["sort"] = data["sort"]
        return kwargs


class CategorySlugField(serializers.SlugField):
    default_error_messages = {"unknown": "No category with this slug."}

    def run_validation(self, data=serializers.empty):
        slug = super().run_validation(data)
        category = next((category for category in category_list() if category.slug == slug), None)
        if category is None:
            self.fail("unknown")
        return category


class ItemInputSerializer(StrictSerializer):
    """POST and PUT need title, price and category; PATCH any subset. The seller is always the caller (or stays).

    The read-only fields of an item as read (`ItemOutputSerializer`) may be sent back as they are: the views pass
    the item's representation, or for a new item the shop's currency, as `current`."""

    read_only_fields = ("id", "currency", "seller", "image", "created_at", "updated_at")

    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    price = StrictIntegerField(min_value=1, max_value=MAX_PRICE_MINOR, help_text="In minor units.")
    stock = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=MAX_STOCK,
        help_text="The count on hand. To change it, send expected_stock too (the stock you read): the difference is "
        "applied and recorded as an adjustment by the caller. Alone, only the current count is accepted (409 "
        "otherwise), so a client sending back a stale copy can never undo a sale.",
    )
    expected_stock = StrictIntegerField(
        required=False, min_value=0, max_value=MAX_STOCK, help_text="The stock you read, when changing `stock`."
    )
    category = CategorySlugField(max_length=120, help_text="A category slug.")
    sku = serializers.CharField(required=False, max_length=64, help_text="Drawn when missing.")
    slug = serializers.SlugField(required=False, max_length=220, help_text="Made from the title when missing.")
    is_active = StrictBooleanField(required=False)

    def service_kwargs(self, *, creating: bool = False) -> dict:
        data = dict(self.validated_data)
        if creating:  # a new item's stock is its opening count: there is nothing to expect
            data.pop("expected_stock", None)
        if "price" in data:
            data["price_minor"] = data.pop("price")
        return data


class ItemDeleteOutputSerializer(serializers.Serializer):
    detail = serializers.CharField()
    deleted = serializers.BooleanField()
    deactivated = serializers.BooleanField()
    item = ItemOutputSerializer(allow_null=True)
