"""What turns a cart into money owed: VAT rates, shipping zones and methods, discount codes. Every amount is an integer
in minor units of settings.SHOP_CURRENCY; rates are integer basis points (1900 = 19%)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from catalog.models import TaxClass
from shop.text import SingleLineCharField


def _country_codes(text: str) -> list[str]:
    return [code.strip().upper() for code in text.replace(";", ",").split(",") if code.strip()]


class TaxRate(models.Model):
    """The VAT rate of one tax class in one destination country."""

    country = SingleLineCharField(max_length=2, help_text="ISO 3166-1 alpha-2 code, e.g. DE.")
    tax_class = models.CharField(max_length=10, choices=TaxClass.choices, default=TaxClass.STANDARD)
    rate_bp = models.PositiveIntegerField(
        "rate (basis points)", validators=[MaxValueValidator(10000)], help_text="1900 is 19%."
    )

    class Meta:
        ordering = ["country", "tax_class"]
        constraints = [models.UniqueConstraint(fields=["country", "tax_class"], name="taxrate_country_class")]

    def __str__(self) -> str:
        return f"{self.country} {self.get_tax_class_display()}: {self.rate_bp / 100:g}%"

    def clean(self) -> None:
        self.country = self.country.upper()


class ShippingZone(models.Model):
    """A set of destination countries served by the same shipping methods."""

    name = SingleLineCharField(max_length=100)
    countries = SingleLineCharField(max_length=1000, help_text="ISO 3166-1 alpha-2 codes separated by commas: DE, AT.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def country_list(self) -> list[str]:
        return _country_codes(self.countries)

    def clean(self) -> None:
        codes = _country_codes(self.countries)
        unknown = [code for code in codes if code not in settings.SHOP_SHIPPING_COUNTRIES]
        if unknown:
            raise ValidationError({"countries": f"The shop does not ship to {', '.join(unknown)}."})
        self.countries = ", ".join(codes)


class ShippingMethod(models.Model):
    """A way to ship to a zone. Its price is entered like item prices (with VAT when the shop's prices include it)."""

    zone = models.ForeignKey(ShippingZone, on_delete=models.CASCADE, related_name="methods")
    name = SingleLineCharField(max_length=100)
    price_minor = models.PositiveIntegerField("price (minor units)")
    free_over_minor = models.PositiveIntegerField(
        "free from (minor units)", null=True, blank=True, help_text="Free when the goods, after discount, cost this."
    )
    estimate = SingleLineCharField("delivery estimate", max_length=100, blank=True, help_text="e.g. 2-3 working days")
    is_active = models.BooleanField("active", default=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Lower first.")

    class Meta:
        ordering = ["position", "price_minor", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.zone})"


class WeightTier(models.Model):
    """A price of a shipping method for parcels up to a weight. A method with tiers is priced by the first tier the
    parcel fits in (its own price otherwise unused) and is not offered for a parcel heavier than its last tier."""

    method = models.ForeignKey(ShippingMethod, on_delete=models.CASCADE, related_name="tiers")
    up_to_grams = models.PositiveIntegerField("up to (grams)")
    price_minor = models.PositiveIntegerField("price (minor units)")

    class Meta:
        ordering = ["up_to_grams"]
        constraints = [models.UniqueConstraint(fields=["method", "up_to_grams"], name="weighttier_method_weight")]

    def __str__(self) -> str:
        return f"up to {self.up_to_grams} g"


class DiscountKind(models.TextChoices):
    PERCENT = "percent", "Percentage off"
    FIXED = "fixed", "Fixed amount off"
    FREE_SHIPPING = "free_shipping", "Free shipping"


class DiscountCode(models.Model):
    """A code a shopper types. `used_count` moves only by conditional updates at order placement (never past
    `usage_limit`) and back when the order is cancelled or expires (`pricing.services`)."""

    code = SingleLineCharField(max_length=40, unique=True, help_text="Stored upper-case; shoppers may type any case.")
    kind = models.CharField(max_length=20, choices=DiscountKind.choices, default=DiscountKind.PERCENT)
    value = models.PositiveIntegerField(
        default=0, help_text="Percent (1-100) for a percentage, minor units for a fixed amount, 0 for free shipping."
    )
    min_subtotal_minor = models.PositiveIntegerField("minimum subtotal (minor units)", default=0)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    usage_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Orders in all; empty: no limit.")
    per_customer_limit = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="Orders per customer; empty: no limit."
    )
    used_count = models.PositiveIntegerField(default=0, editable=False)
    categories = models.ManyToManyField(
        "catalog.Category",
        blank=True,
        related_name="+",
        help_text="Only items of these or their children (none: every item).",
    )
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        self.code = self.code.strip().upper()
        if self.kind == DiscountKind.PERCENT and not 1 <= self.value <= 100:
            raise ValidationError({"value": "A percentage is between 1 and 100."})
        if self.kind == DiscountKind.FIXED and self.value < 1:
            raise ValidationError({"value": "Enter the amount off in minor units (500 is 5.00)."})
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The end must come after the start."})


class DiscountRedemption(models.Model):
    """One order's use of a code; `released_at` set when the order was cancelled or expired (the use given back)."""

    code = models.ForeignKey(DiscountCode, on_delete=models.PROTECT, related_name="redemptions")
    order_number = models.CharField(max_length=16, unique=True)
    email = models.EmailField(help_text="The customer, lower-case: per-customer limits count by it.")
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["code", "email"], name="redemption_code_email")]

    def __str__(self) -> str:
        return f"{self.code} on {self.order_number}"
