"""The catalog in the admin: staff run every item and category; a seller sees and changes only their own items.

Scoping happens in `ItemAdmin.get_queryset`, which every admin URL goes through (changelist, change, delete, history,
autocomplete, bulk actions, list_editable), so another seller's item answers exactly as a missing one does.
"""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat

from catalog.models import Category, Item
from catalog.services import delete_item
from shop.money import currency_places, format_money, parse_major

# Formats a browser can show; Pillow names them so.
ALLOWED_IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
DEFAULT_MAX_IMAGE_BYTES = 5 * 1024 * 1024
LOW_STOCK = 5


def max_image_bytes() -> int:
    """The upload limit: settings.SHOP_MAX_IMAGE_BYTES, 5 MB when unset (read per call so tests can override it)."""
    return getattr(settings, "SHOP_MAX_IMAGE_BYTES", DEFAULT_MAX_IMAGE_BYTES)


def is_scoped_seller(user) -> bool:
    """A seller who is not a superuser manages only their own items; staff and superusers manage all."""
    return bool(user.is_seller and not user.is_superuser)


class MajorUnitsField(forms.CharField):
    """Shows and accepts an amount in major units ('12.50') and cleans it to minor units (1250)."""

    default_error_messages = {"invalid": "Enter an amount like 12.50."}

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "size": 10}))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, int):
            return str(Decimal(value).scaleb(-currency_places()))
        return value

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        minor = parse_major(value)
        if minor is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return minor


# What the item form edits, in order (the admin adds the read-only timestamps).
EDITABLE_FIELDS = [
    "title",
    "slug",
    "sku",
    "seller",
    "category",
    "description",
    "price_minor",
    "stock",
    "is_active",
    "image",
]


class ItemAdminForm(forms.ModelForm):
    price_minor = MajorUnitsField(label=f"Price ({settings.SHOP_CURRENCY})", help_text="In major units, e.g. 12.50.")

    class Meta:
        model = Item
        fields = EDITABLE_FIELDS

    def clean_image(self):
        image = self.cleaned_data.get("image")
        # Only a fresh upload carries `.image` (set by forms.ImageField after Pillow's verify()); a kept file does not.
        pillow_image = getattr(image, "image", None)
        if not image or pillow_image is None:
            return image
        limit = max_image_bytes()
        if image.size > limit:
            raise ValidationError(
                "The image is %(size)s; the limit is %(limit)s.",
                code="file_too_large",
                params={"size": filesizeformat(image.size), "limit": filesizeformat(limit)},
            )
        if pillow_image.format not in ALLOWED_IMAGE_FORMATS:
            raise ValidationError(
                "%(format)s images are not accepted; upload a JPEG, PNG, WebP or GIF.",
                code="image_format",
                params={"format": pillow_image.format or "This kind of"},
            )
        return image


class StockLevelFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock_level"

    def lookups(self, request, model_admin):
        return [("out", "Out of stock"), ("low", f"Low (1-{LOW_STOCK - 1})"), ("in", f"In stock ({LOW_STOCK}+)")]

    def queryset(self, request, queryset):
        if self.value() == "out":
            return queryset.filter(stock=0)
        if self.value() == "low":
            return queryset.filter(stock__gt=0, stock__lt=LOW_STOCK)
        if self.value() == "in":
            return queryset.filter(stock__gte=LOW_STOCK)
        return queryset


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    form = ItemAdminForm
    list_display = ["title", "sku", "category", "seller", "price", "price_minor", "stock", "is_active"]
    list_display_links = ["title"]
    list_editable = ["price_minor", "stock", "is_active"]
    list_filter = ["category", ("seller", admin.RelatedOnlyFieldListFilter), "is_active", StockLevelFilter]
    list_select_related = ["category", "seller"]
    search_fields = ["title", "sku"]
    readonly_fields = ["created_at", "updated_at"]
    fields = [*EDITABLE_FIELDS, "created_at", "updated_at"]
    prepopulated_fields = {"slug": ["title"]}
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[Item]:
        queryset = super().get_queryset(request)
        if is_scoped_seller(request.user):
            return queryset.filter(seller=request.user)
        return queryset

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if is_scoped_seller(request.user):
            return [field for field in fields if field != "seller"]
        return fields

    def get_list_display(self, request):
        if is_scoped_seller(request.user):
            return [column for column in self.list_display if column != "seller"]
        return self.list_display

    def get_list_filter(self, request):
        if is_scoped_seller(request.user):
            return [entry for entry in self.list_filter if not (isinstance(entry, tuple) and entry[0] == "seller")]
        return self.list_filter

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "seller":
            kwargs["limit_choices_to"] = {"is_seller": True}
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # The form has no seller field for sellers, so a forged `seller` value never reaches the instance.
        if is_scoped_seller(request.user) and not change:
            obj.seller = request.user
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        if not delete_item(item=obj, actor=request.user):
            self._report_kept(request, [obj])

    def delete_queryset(self, request, queryset):
        # Item by item through the service: order history turns a deletion into a deactivation, and MongoDB would
        # refuse a QuerySet.delete() filtered through a relation anyway.
        kept = [item for item in queryset if not delete_item(item=item, actor=request.user)]
        if kept:
            self._report_kept(request, kept)

    def _report_kept(self, request, items):
        titles = ", ".join(f"“{item}”" for item in items)
        self.message_user(request, f"Past orders refer to {titles}: deactivated instead of deleted.", messages.WARNING)

    @admin.display(description="price", ordering="price_minor")
    def price(self, obj: Item) -> str:
        return format_money(obj.price_minor)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent"]
    list_filter = [("parent", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["parent"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "parent", "description"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            # One level of nesting: only top-level categories can be parents.
            kwargs["limit_choices_to"] = {"parent__isnull": True}
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
