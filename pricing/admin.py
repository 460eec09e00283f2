from django import forms
from django.contrib import admin
from django.utils.text import capfirst

from pricing.models import DiscountCode, DiscountRedemption, ShippingMethod, ShippingZone, TaxRate, WeightTier
from shop.money import format_money


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    list_display = ["country", "tax_class", "percent"]
    list_filter = ["tax_class"]
    search_fields = ["=country"]

    @admin.display(description="rate", ordering="rate_bp")
    def percent(self, rate: TaxRate) -> str:
        return f"{rate.rate_bp / 100:g}%"


class ShippingMethodInline(admin.TabularInline):
    model = ShippingMethod
    extra = 0
    fields = ["name", "price_minor", "free_over_minor", "estimate", "is_active", "position"]
    show_change_link = True


@admin.register(ShippingZone)
class ShippingZoneAdmin(admin.ModelAdmin):
    list_display = ["name", "countries"]
    search_fields = ["name", "countries"]
    inlines = [ShippingMethodInline]


class WeightTierInline(admin.TabularInline):
    model = WeightTier
    extra = 0


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    list_display = ["name", "zone", "price", "free_over", "estimate", "is_active"]
    list_filter = ["zone", "is_active"]
    inlines = [WeightTierInline]

    @admin.display(description="price", ordering="price_minor")
    def price(self, method: ShippingMethod) -> str:
        return format_money(method.price_minor)

    @admin.display(description="free from")
    def free_over(self, method: ShippingMethod) -> str:
        return "" if method.free_over_minor is None else format_money(method.free_over_minor)


@admin.register(DiscountCode)
class DiscountCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "kind", "value", "used_count", "usage_limit", "starts_at", "ends_at", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code"]
    readonly_fields = ["used_count", "created_at"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if isinstance(field, forms.SplitDateTimeField):  # Django's date and time inputs have no label of their own
            for widget, part in zip(field.widget.widgets, ("date", "time"), strict=True):
                widget.attrs["aria-label"] = f"{capfirst(db_field.verbose_name)}: {part}"
        return field


@admin.register(DiscountRedemption)
class DiscountRedemptionAdmin(admin.ModelAdmin):
    list_display = ["code", "order_number", "email", "created_at", "released_at"]
    search_fields = ["=order_number", "email", "code__code"]
    readonly_fields = ["code", "order_number", "email", "created_at", "released_at"]

    def has_add_permission(self, request) -> bool:
        return False
