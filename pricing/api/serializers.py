from functools import cache

from babel import Locale
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.selectors import category_list
from pricing.models import DiscountCode, DiscountKind
from shop.api import StrictBooleanField, StrictIntegerField, StrictSerializer, Timestamp, currency

MAX_AMOUNT_MINOR = 100_000_000  # as for item prices: 1,000,000.00
MAX_COUNT = 1_000_000_000
MAX_CATEGORIES = 100

# Codes Unicode CLDR names among its two-letter territories that are no country: the EU, the eurozone, the UN,
# outlying Oceania, the pseudo-locales and "unknown region".
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})


@cache
def country_codes() -> frozenset[str]:
    """Every ISO 3166-1 alpha-2 country code (as CLDR, through babel, knows them)."""
    territories = Locale("en").territories
    return frozenset(code for code in territories if len(code) == 2 and code.isalpha()) - NOT_COUNTRIES


class CountryCodeField(serializers.CharField):
    """An ISO 3166-1 alpha-2 country code in any letter case, returned upper-case. A real country the shop does not
    ship to is accepted (it is simply served by no shipping method)."""

    default_error_messages = {"unknown": "Not a known country code: give an ISO 3166-1 alpha-2 code such as DE."}

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_length", 2)
        kwargs.setdefault("max_length", 2)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> str:
        code = super().to_internal_value(data).upper()
        if code not in country_codes():
            self.fail("unknown")
        return code


class ShippingMethodQuerySerializer(StrictSerializer):
    country = CountryCodeField(help_text="The destination: an ISO 3166-1 alpha-2 code, e.g. DE.")


class ShippingMethodOutputSerializer(serializers.Serializer):
    """A `pricing.selectors.ShippingOption`."""

    id = serializers.CharField(help_text="Send it as `shipping_method` when placing an order.")
    name = serializers.CharField()
    price = serializers.IntegerField(
        source="list_price_minor", help_text="In minor units of `currency`, for the lightest parcel."
    )
    currency = serializers.SerializerMethodField()
    free_over = serializers.IntegerField(
        source="free_over_minor",
        allow_null=True,
        help_text="Free when the goods, after discount, cost at least this (minor units); null: never free.",
    )
    estimate = serializers.CharField(allow_blank=True, help_text="Delivery estimate, e.g. 2-3 working days.")

    def get_currency(self, option) -> str:
        return currency()


class DiscountCodeOutputSerializer(serializers.Serializer):
    """A discount code; `categories` comes from the context's `category_slugs` ({code id: [slugs]})."""

    id = serializers.CharField()
    code = serializers.CharField(help_text="Upper-case; shoppers may type any case.")
    kind = serializers.ChoiceField(choices=DiscountKind.choices)
    value = serializers.IntegerField(
        help_text="Percent (1-100) for `percent`, minor units for `fixed`, 0 for `free_shipping`."
    )
    min_subtotal = serializers.IntegerField(source="min_subtotal_minor", help_text="In minor units; 0: none.")
    starts_at = Timestamp(allow_null=True)
    ends_at = Timestamp(allow_null=True)
    usage_limit = serializers.IntegerField(allow_null=True, help_text="Orders in all; null: no limit.")
    per_customer_limit = serializers.IntegerField(allow_null=True, help_text="Orders per customer; null: no limit.")
    used_count = serializers.IntegerField(help_text="Orders that use it now (read-only: counted at placement).")
    categories = serializers.SerializerMethodField(
        help_text="Slugs of the categories it is limited to (with their children); empty: every item."
    )
    is_active = serializers.BooleanField()
    created_at = Timestamp()

    @extend_schema_field(serializers.ListField(child=serializers.SlugField()))
    def get_categories(self, code: DiscountCode) -> list[str]:
        return self.context.get("category_slugs", {}).get(str(code.pk), [])


class CategorySlugsField(serializers.ListField):
    """Category slugs, returned as the categories themselves (one query for all)."""

    default_error_messages = {"unknown": "No category with the slug {slugs}."}

    def __init__(self, **kwargs) -> None:
        super().__init__(child=serializers.SlugField(max_length=120), max_length=MAX_CATEGORIES, **kwargs)

    def to_internal_value(self, data) -> list:
        slugs = super().to_internal_value(data)
        if not slugs:
            return []
        by_slug = {category.slug: category for category in category_list()}
        unknown = sorted({slug for slug in slugs if slug not in by_slug})
        if unknown:
            self.fail("unknown", slugs=", ".join(unknown))
        return list({slug: by_slug[slug] for slug in slugs}.values())


class DiscountCodeInputSerializer(StrictSerializer):
    """POST and PUT need `code` and `kind`; PATCH any subset. Fields left out keep their value (a new code: the
    defaults shown). The model's own rules (`DiscountCode.clean`) are checked too.

    A code as read may be sent back: its read-only fields are ignored when they equal the code's representation,
    given as `current` in the context (for a new code: a `used_count` of 0), and refused, naming the field, when
    they do not (`shop.api.StrictSerializer`)."""

    read_only_fields = ("id", "used_count", "created_at")

    code = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
        max_length=40,
        help_text="Letters, digits, - and _; stored upper-case.",
        error_messages={"invalid": "Use letters, digits, - and _ only."},
    )
    kind = serializers.ChoiceField(choices=DiscountKind.choices)
    value = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=MAX_AMOUNT_MINOR,
        help_text="Percent (1-100) for `percent`, minor units for `fixed`, 0 for `free_shipping`. Default 0.",
    )
    min_subtotal = StrictIntegerField(
        required=False, min_value=0, max_value=MAX_AMOUNT_MINOR, help_text="In minor units. Default 0: none."
    )
    starts_at = Timestamp(required=False, allow_null=True)
    ends_at = Timestamp(required=False, allow_null=True, help_text="After `starts_at`.")
    usage_limit = StrictIntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_COUNT, help_text="Orders in all; null: no limit."
    )
    per_customer_limit = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_COUNT,
        help_text="Orders per customer; null: no limit.",
    )
    categories = CategorySlugsField(required=False, help_text="Category slugs; empty: every item.")
    is_active = StrictBooleanField(required=False, help_text="Default true.")

    def model_fields(self) -> dict:
        """The validated fields under the model's names, without `categories`."""
        data = dict(self.validated_data)
        data.pop("categories", None)
        if "min_subtotal" in data:
            data["min_subtotal_minor"] = data.pop("min_subtotal")
        return data
