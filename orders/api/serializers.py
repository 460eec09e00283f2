from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.models import BUYER_VISIBLE, Order, OrderEvent, OrderStatus
from orders.selectors import order_timeline
from shop.api import PkField, StrictSerializer, Timestamp, representation
from shop.countries import shipping_country_choices


class OrderLineOutputSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The line's id (name it to refund the line).")
    item = serializers.CharField(source="item_id", allow_null=True, help_text="The item's id; null once deleted.")
    title = serializers.CharField()
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.IntegerField(source="unit_price_minor", help_text="In minor units.")
    line_total = serializers.IntegerField(source="line_total_minor", help_text="Unit price x quantity, minor units.")
    discount = serializers.IntegerField(source="discount_minor", help_text="The line's share of the discount.")
    tax_rate = serializers.IntegerField(source="tax_rate_bp", help_text="VAT rate in basis points: 1900 is 19%.")
    tax = serializers.IntegerField(source="tax_minor", help_text="The line's VAT, in minor units.")
    refunded_quantity = serializers.IntegerField(help_text="Units refunded (or being refunded).")
    refunded = serializers.IntegerField(source="refunded_minor", help_text="Money refunded for it, in minor units.")


class OrderDiscountOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    amount = serializers.IntegerField(help_text="Taken off the goods, in minor units (0 for a free-shipping code).")


class OrderShippingOutputSerializer(serializers.Serializer):
    method = serializers.CharField(help_text="The shipping method's name.")
    amount = serializers.IntegerField(help_text="In minor units.")
    tax = serializers.IntegerField(help_text="The VAT in (or on) `amount`, in minor units.")
    tax_rate = serializers.IntegerField(help_text="In basis points: 1900 is 19%.")


class OrderTaxOutputSerializer(serializers.Serializer):
    rate = serializers.IntegerField(help_text="In basis points: 1900 is 19%.")
    amount = serializers.IntegerField(help_text="In minor units.")


class OrderEventOutputSerializer(serializers.Serializer):
    """One step of the order's life the buyer may see; the fields that do not apply to its kind are null."""

    # Not an enum: the schema would then rename the discount codes' `kind` enum to tell the two apart.
    kind = serializers.CharField(help_text="One of: " + ", ".join(BUYER_VISIBLE) + ".")
    label = serializers.CharField(source="get_kind_display")
    at = Timestamp(source="created_at")
    carrier = serializers.SerializerMethodField(help_text="shipped: who carries the parcel.")
    tracking_number = serializers.SerializerMethodField(help_text="shipped: the carrier's tracking number.")
    amount = serializers.SerializerMethodField(help_text="refunded: the money given back, in minor units.")

    def get_carrier(self, event: OrderEvent) -> str | None:
        return event.buyer_data.get("carrier")

    def get_tracking_number(self, event: OrderEvent) -> str | None:
        return event.buyer_data.get("tracking_number")

    def get_amount(self, event: OrderEvent) -> int | None:
        return event.buyer_data.get("amount_minor")


EVENT_JSON = representation(OrderEventOutputSerializer)


class OrderOutputSerializer(serializers.Serializer):
    """An order with the price breakdown frozen when it was placed (`pricing.selectors.price`): later changes to
    prices, rates, shipping or codes never alter it. Amounts are integers in minor units of `currency`."""

    id = serializers.CharField()
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    buyer = serializers.CharField(
        source="buyer_id", allow_null=True, help_text="The buyer's user id; null for a guest's order."
    )
    email = serializers.EmailField()
    lines = OrderLineOutputSerializer(many=True, source="lines.all")
    subtotal = serializers.IntegerField(source="subtotal_minor", help_text="The goods at shelf prices.")
    discount = serializers.SerializerMethodField(help_text="The code used and what it saved, or null.")
    shipping = serializers.SerializerMethodField(help_text="The shipping method and its price, or null (none).")
    tax = serializers.IntegerField(source="tax_minor", help_text="VAT: included in the prices, or added to them.")
    taxes = serializers.SerializerMethodField(help_text="VAT per rate, highest rate first (shipping included).")
    prices_include_tax = serializers.BooleanField(help_text="true: the prices include VAT; false: it was added.")
    total = serializers.IntegerField(source="total_minor", help_text="What the buyer pays, in minor units.")
    refunded = serializers.IntegerField(source="refunded_minor", help_text="Refunded (or being refunded) so far.")
    currency = serializers.CharField()
    shipping_address = serializers.CharField(allow_blank=True, help_text="Lines of text; empty when none was given.")
    created_at = Timestamp()
    paid_at = Timestamp(allow_null=True)
    shipped_at = Timestamp(allow_null=True)
    delivered_at = Timestamp(allow_null=True)
    closed_at = Timestamp(allow_null=True, help_text="When it was cancelled or expired.")
    carrier = serializers.CharField(allow_blank=True, help_text="Who carries the parcel; empty until shipped.")
    tracking_number = serializers.CharField(allow_blank=True, help_text="The carrier's; empty until shipped.")
    timeline = serializers.SerializerMethodField(
        help_text="What happened to the order that its buyer may see, oldest first: placed, paid, shipped (carrier "
        "and tracking number), delivered, cancelled, expired, refunded (amount)."
    )

    @extend_schema_field(OrderEventOutputSerializer(many=True))
    def get_timeline(self, order: Order) -> list[dict]:
        return [EVENT_JSON(event) for event in order_timeline(order=order, for_buyer=True)]

    @extend_schema_field(OrderDiscountOutputSerializer(allow_null=True))
    def get_discount(self, order: Order) -> dict | None:
        return {"code": order.discount_code, "amount": order.discount_minor} if order.discount_code else None

    @extend_schema_field(OrderShippingOutputSerializer(allow_null=True))
    def get_shipping(self, order: Order) -> dict | None:
        if not order.shipping_method:
            return None
        return {
            "method": order.shipping_method,
            "amount": order.shipping_minor,
            "tax": order.shipping_tax_minor,
            "tax_rate": order.shipping_tax_rate_bp,
        }

    @extend_schema_field(OrderTaxOutputSerializer(many=True))
    def get_taxes(self, order: Order) -> list[dict]:
        return [{"rate": rate, "amount": amount} for rate, amount in order.taxes]


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
        choices=[code for code, _ in shipping_country_choices() if code], required=False, allow_blank=True, default=""
    )

    def validate_postal_code(self, value: str) -> str:
        return " ".join(value.split()).upper()


class OrderPlaceInputSerializer(StrictSerializer):
    shipping_address = ShippingAddressInputSerializer(
        required=False, help_text="Its `country` decides VAT and shipping; without one, the shop's own country."
    )
    shipping_method = PkField(
        required=False,
        allow_null=True,
        help_text="A method's id from `GET /api/shipping-methods?country=...`; left out or null: the cheapest that "
        "serves the country.",
    )
    discount_code = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text="Left out: the code applied to the cart (`POST /api/carts/{user_id}/discount`), if any; '': none.",
    )


class OrderStatusInputSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    carrier = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="Required to ship: the carrier."
    )
    tracking_number = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="Required to ship."
    )

    def validate(self, attrs: dict) -> dict:
        if attrs["status"] == OrderStatus.SHIPPED:
            missing = {
                name: [f"Required to ship the order: {label}."]
                for name, label in (("carrier", "the carrier"), ("tracking_number", "the tracking number"))
                if not attrs.get(name, "").strip()
            }
            if missing:
                raise serializers.ValidationError(missing)
        return attrs
