"""Refunds over the API: staff refund chosen lines or an amount of an order through the gateway that took the money
(`payments.services.refund_payment`, the admin's own path), and staff or the buyer list an order's refunds.

It lives in payments, not orders, because orders may not import payments (the layers in pyproject.toml); its
serializers, view and route are kept together in this one module."""

import logging

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from orders.models import Order, Refund, RefundStatus
from orders.selectors import order_by_id
from payments.exceptions import PaymentGatewayError, RefundGatewayRefused, RefundGatewayUnavailable
from payments.services import refund_payment
from shop.api import (
    ErrorSerializer,
    IsShopStaff,
    PkField,
    ShopApi,
    StrictBooleanField,
    StrictIntegerField,
    StrictSerializer,
    Timestamp,
    errors,
    is_shop_staff,
    optional_slash,
    pk_parameter,
)

logger = logging.getLogger(__name__)

MAX_AMOUNT_MINOR = 100_000_000
MAX_QUANTITY = 1_000_000
MAX_LINES = 100


class RefundLineInputSerializer(StrictSerializer):
    line = PkField(help_text="The order line's id (`lines[].id` in the order).")
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY, help_text="Units of it to refund.")


class RefundInputSerializer(StrictSerializer):
    """Either `lines` (each line's share of what was paid for it, after discount, with VAT) or `amount`."""

    lines = RefundLineInputSerializer(many=True, required=False, allow_empty=False, max_length=MAX_LINES)
    amount = StrictIntegerField(
        required=False, min_value=1, max_value=MAX_AMOUNT_MINOR, help_text="In minor units, at most what is left."
    )
    restock = StrictBooleanField(required=False, default=False, help_text="Put the refunded lines' units back.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    def validate(self, attrs: dict) -> dict:
        if ("lines" in attrs) == ("amount" in attrs):
            raise serializers.ValidationError("Send either lines or amount, not both.")
        if attrs["restock"] and "lines" not in attrs:
            raise serializers.ValidationError({"restock": ["Only refunded lines go back in stock: send lines."]})
        return attrs


# Wrapped in allOf so that spectacular keeps the enum inline: as a component it would clash with the orders' "status"
# enum (their names come from the field name) and need an ENUM_NAME_OVERRIDES entry in the settings.
@extend_schema_field({"allOf": [{"type": "string", "enum": RefundStatus.values}]})
class RefundStatusField(serializers.CharField):
    pass


class RefundLineOutputSerializer(serializers.Serializer):
    line = serializers.CharField(source="order_line_id", help_text="The order line's id.")
    quantity = serializers.IntegerField()
    amount = serializers.IntegerField(source="amount_minor", help_text="In minor units.")


class RefundOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    order = serializers.CharField(source="order_id", help_text="The order's id.")
    amount = serializers.IntegerField(source="amount_minor", help_text="In minor units of the order's currency.")
    status = RefundStatusField(help_text="pending: the gateway has not confirmed yet; done; failed: it refused.")
    restock = serializers.BooleanField()
    note = serializers.CharField(allow_blank=True)
    lines = RefundLineOutputSerializer(many=True, source="lines.all", help_text="Empty for an amount.")
    created_at = Timestamp()
    completed_at = Timestamp(allow_null=True)


def _order(order_id: str) -> Order:
    order = order_by_id(order_id=order_id)
    if order is None:
        raise Http404("No such order.")
    return order


def _refunds_of(order: Order) -> list[Refund]:
    return list(order.refunds.order_by("created_at", "pk"))


class OrderRefundsApi(ShopApi):
    """GET: the order's refunds (staff, or its buyer); POST: a refund (staff only)."""

    def get_permissions(self):
        return [IsShopStaff()] if self.request.method == "POST" else super().get_permissions()

    @extend_schema(
        tags=["orders"],
        operation_id="orders_refunds_list",
        parameters=[pk_parameter("order_id", "The order's id.")],
        responses={200: RefundOutputSerializer(many=True), **errors(401, 404)},
    )
    def get(self, request, order_id: str):
        """The order's refunds, oldest first: its buyer's, or any order's for staff."""
        order = order_by_id(order_id=order_id)
        if order is None or not (is_shop_staff(request.user) or order.buyer_id == request.user.pk):
            raise Http404("No such order.")
        return Response(RefundOutputSerializer(_refunds_of(order), many=True).data)

    @extend_schema(
        tags=["orders"],
        operation_id="orders_refunds_create",
        parameters=[pk_parameter("order_id", "The order's id.")],
        request=RefundInputSerializer,
        responses={
            201: RefundOutputSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Bad input (`{field: [messages]}`), or the refund cannot be made as asked (`code`: "
                "refund_refused): a line of another order, more units or money than are left to refund.",
            ),
            409: OpenApiResponse(
                ErrorSerializer,
                description="The order is not paid, or refunded in full already (`illegal_transition`), or has no "
                "recorded payment (`refund_not_possible`).",
            ),
            502: OpenApiResponse(
                ErrorSerializer, description="The payment provider refused the refund; nothing was refunded."
            ),
            503: OpenApiResponse(
                ErrorSerializer,
                description="The payment provider did not answer; the refund is recorded and completes later.",
            ),
            **errors(401, 403, 404, 415),
        },
    )
    def post(self, request, order_id: str):
        """Refunds chosen lines and quantities, or an amount, of a paid, shipped or delivered order through the
        payment gateway that took the money (staff only), optionally putting the lines' units back in stock. Refunds
        never add up to more than was paid, however many are sent at once."""
        order = _order(order_id)
        data = RefundInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        lines = [(line["line"], line["quantity"]) for line in values["lines"]] if "lines" in values else None
        try:
            refund = refund_payment(
                order=order,
                actor=request.user,
                lines=lines,
                amount_minor=values.get("amount"),
                restock=values["restock"],
                note=values["note"],
            )
        except PaymentGatewayError as err:
            # The gateway's own words stay in the log and on the order's flag, never in the answer.
            logger.warning(
                "Refund of order %s failed at the gateway (%s)", order.number, err.extra.get("gateway_error")
            )
            if err.retryable:
                raise RefundGatewayUnavailable(number=order.number) from err
            raise RefundGatewayRefused(number=order.number) from err
        return Response(RefundOutputSerializer(refund).data, status=status.HTTP_201_CREATED)


urlpatterns = [*optional_slash("orders/<pk:order_id>/refunds", OrderRefundsApi, "api-order-refunds")]
