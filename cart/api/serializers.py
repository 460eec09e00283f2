from rest_framework import serializers

from cart.services import MAX_LINE_QUANTITY
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


class CartOutputSerializer(serializers.Serializer):
    user = serializers.CharField(help_text="The owner's user id.")
    lines = CartLineOutputSerializer(many=True)
    total = serializers.IntegerField(help_text="In minor units; inactive items left out.")
    count = serializers.IntegerField(help_text="Units in the cart.")
    currency = serializers.CharField()


class CartAddInputSerializer(StrictSerializer):
    item = PkField(help_text="The item's id.")
    quantity = StrictIntegerField(required=False, default=1, min_value=1, max_value=MAX_LINE_QUANTITY)


class CartQuantityInputSerializer(StrictSerializer):
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)
