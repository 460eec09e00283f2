from rest_framework import serializers

from orders.forms import COUNTRY_CHOICES
from orders.models import OrderStatus
from shop.api import StrictSerializer


class OrderLineOutputSerializer(serializers.Serializer):
    item = serializers.CharField(source="item_id", allow_null=True, help_text="The item's id; null once deleted.")
    title = serializers.CharField()
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.IntegerField(source="unit_price_minor", help_text="In minor units.")
    line_total = serializers.IntegerField(source="line_total_minor", help_text="In minor units.")


class OrderOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    buyer = serializers.CharField(source="buyer_id", help_text="The buyer's user id.")
    email = serializers.EmailField()
    lines = OrderLineOutputSerializer(many=True, source="lines.all")
    total = serializers.IntegerField(source="total_minor", help_text="In minor units.")
    currency = serializers.CharField()
    shipping_address = serializers.CharField(allow_blank=True, help_text="Lines of text; empty when none was given.")
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True, help_text="When it was cancelled or expired.")


class ShippingAddressInputSerializer(StrictSerializer):
    """The web checkout's address fields; all optional over the API."""

    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    line1 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    postal_code = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9 -]{1,18}[A-Za-z0-9]$", max_length=20, required=False, allow_blank=True, default=""
    )
    city = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    country = serializers.ChoiceField(
        choices=[code for code, _ in COUNTRY_CHOICES if code], required=False, allow_blank=True, default=""
    )

    def validate_postal_code(self, value: str) -> str:
        return " ".join(value.split()).upper()


class OrderPlaceInputSerializer(StrictSerializer):
    shipping_address = ShippingAddressInputSerializer(required=False)


class OrderStatusInputSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices)
