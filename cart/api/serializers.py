from rest_framework import serializers

from cart.services import MAX_LINE_QUANTITY
from pricing.api.serializers import CountryCodeField
from shop.api import PkField, StrictIntegerField, StrictSerializer

PROBLEMS = ["inactive", "out_of_stock", "short"]


class CartLineOutputSerializer(serializers.Serializer):
    item = serializers.CharField(source="item.pk")
    title = serializers.CharField(source="item.title")
    quantity = serializers.IntegerField()
    unit_price = serializers.IntegerField(source="unit_price_minor", help_text="In minor units.")
    line_total = serializers.IntegerField(source="line_total_minor", help_text="In minor units.")
    problem = serializers.ChoiceField(
        choices=PROBLEMS, allow_null=True, help_text="Why the line cannot be checked out, or null."
    )
    problem_message = serializers.CharField(allow_blank=True)


class CartDiscountOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    amount = serializers.IntegerField(help_text="Taken off the goods, in minor units (0 for a free-shipping code).")


class CartShippingOutputSerializer(serializers.Serializer):
    method = serializers.CharField(help_text="The shipping method's name.")
    method_id = serializers.CharField(help_text="Its id (`GET /api/shipping-methods`).")
    amount = serializers.IntegerField(help_text="In minor units; 0 when free (over its threshold, or by a code).")
    tax = serializers.IntegerField(help_text="The VAT in (or on) `amount`, in minor units.")


class CartTaxOutputSerializer(serializers.Serializer):
    rate = serializers.IntegerField(help_text="In basis points: 1900 is 19%.")
    amount = serializers.IntegerField(help_text="In minor units.")


class CartOutputSerializer(serializers.Serializer):
    """The cart with its price breakdown (`pricing.selectors.price`, the same as the web cart shows): the cheapest
    shipping to `country` as an estimate, the applied discount code, VAT per rate."""

    user = serializers.CharField(help_text="The owner's user id.")
    lines = CartLineOutputSerializer(many=True)
    subtotal = serializers.IntegerField(help_text="The goods at shelf prices, in minor units; inactive items left out.")
    discount = CartDiscountOutputSerializer(allow_null=True, help_text="The applied code and what it saves, or null.")
    discount_problem = serializers.CharField(
        allow_blank=True, help_text="Why the applied code no longer applies (the totals are then without it), or ''."
    )
    shipping = CartShippingOutputSerializer(
        allow_null=True, help_text="The cheapest method to `country`, as an estimate; null when none serves it."
    )
    country = serializers.CharField(help_text="The destination the estimate is for (the shop's own by default).")
    tax = serializers.IntegerField(help_text="VAT, in minor units: included in the prices, or added to the total.")
    taxes = CartTaxOutputSerializer(many=True, help_text="VAT per rate, highest rate first.")
    prices_include_tax = serializers.BooleanField(help_text="true: the prices include VAT; false: it is added.")
    total = serializers.IntegerField(help_text="What the shopper pays, in minor units.")
    count = serializers.IntegerField(help_text="Units in the cart.")
    currency = serializers.CharField()


class CartQuerySerializer(StrictSerializer):
    country = CountryCodeField(
        required=False, help_text="Estimate shipping and VAT to this country (ISO 3166-1 alpha-2); default the shop's."
    )


class CartDiscountInputSerializer(StrictSerializer):
    code = serializers.CharField(max_length=40, help_text="Any letter case.")


class CartAddInputSerializer(StrictSerializer):
    item = PkField(help_text="The item's id.")
    quantity = StrictIntegerField(required=False, default=1, min_value=1, max_value=MAX_LINE_QUANTITY)


class CartQuantityInputSerializer(StrictSerializer):
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)
