import hashlib
import json

from django.db.models import prefetch_related_objects
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.selectors import user_by_id
from orders.api.serializers import OrderOutputSerializer, OrderPlaceInputSerializer, OrderStatusInputSerializer
from orders.exceptions import IllegalTransition
from orders.models import Order, OrderStatus
from orders.selectors import order_by_id, orders_for_buyer
from orders.services import (
    ShippingAddress,
    cancel_order,
    idempotency_token,
    mark_delivered,
    mark_shipped,
    place_order,
)
from shop.api import (
    PAGE_PARAMETERS,
    ShopApi,
    errors,
    is_shop_staff,
    paginate,
    paginated,
    pk_parameter,
    representation,
    same_user,
)

ORDERS = ["orders"]
ORDER_JSON = representation(OrderOutputSerializer)
ORDER_ID = pk_parameter("order_id", "The order's id.")
USER_ID = pk_parameter("user_id", "The buyer's user id.")
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Optional, at most 64 characters: a retried request with the same key returns the first order; the "
    "key sent again with another request answers 409 `idempotency_key_reused`.",
)

# What staff may set over the API: the fulfilment states, and cancelling a pending order. Payment and refunds are
# the payment provider's to report (payments), expiry the clock's.
STAFF_MOVES = {
    OrderStatus.SHIPPED: lambda order, actor, data: mark_shipped(
        order=order, carrier=data["carrier"], tracking_number=data["tracking_number"], actor=actor
    ),
    OrderStatus.DELIVERED: lambda order, actor, data: mark_delivered(order=order, actor=actor),
    OrderStatus.CANCELLED: lambda order, actor, data: cancel_order(order=order, actor=actor),
}
BUYER_MOVES = {OrderStatus.CANCELLED: lambda order, actor, data: cancel_order(order=order, actor=actor)}


def order_for_caller(request, order_id: str) -> Order:
    """The order when the caller is its buyer or staff; anyone else gets the same 404 as for no order."""
    order = order_by_id(order_id=order_id)
    if order is None or not (is_shop_staff(request.user) or order.buyer_id == request.user.pk):
        raise Http404("No such order.")
    return order


def _render(order: Order) -> dict:
    # Read once (the lines and the VAT per rate both show them); an order just placed holds both already.
    prefetch_related_objects([order], "lines", "events")
    return ORDER_JSON(order)


class OrderPlaceApi(ShopApi):
    @extend_schema(
        tags=ORDERS,
        operation_id="orders_create",
        parameters=[IDEMPOTENCY_KEY],
        request=OrderPlaceInputSerializer,
        responses={
            201: OrderOutputSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Bad input (`{field: [messages]}`), or a refusal `{detail, code, message, extra}`: "
                "`discount_refused` (`extra.reason` says why, as for `POST /api/carts/{user_id}/discount`) or "
                "`shipping_unavailable` (the method does not serve the country, or nothing does).",
            ),
            **errors(401, 409, 415),
        },
    )
    def post(self, request):
        """Places an order from the caller's cart through the web checkout's own order placement, priced by the
        shop's one calculation for the address's country, the shipping method and the discount code (the breakdown
        is frozen on the order): stock is reserved, the code's use counted, the cart emptied and the order waits for
        payment (`POST /api/orders/{id}/pay`)."""
        data = OrderPlaceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key") or None
        if key is not None and len(key) > 64:
            raise serializers.ValidationError({"Idempotency-Key": ["At most 64 characters."]})
        values = data.validated_data
        address = ShippingAddress(**values.get("shipping_address", {}))
        token = idempotency_token(buyer=request.user, key=key) if key is not None else None
        digest = hashlib.sha256(json.dumps(request.data, sort_keys=True, default=str).encode()).hexdigest()
        order = place_order(
            buyer=request.user,
            address=address,
            checkout_token=token,
            request_digest=digest if key is not None else "",
            shipping_method_id=values.get("shipping_method") or None,
            discount_code=values.get("discount_code"),  # absent: the code applied in the cart, as on the web
        )
        return Response(_render(order), status=status.HTTP_201_CREATED)


class OrderUserListApi(ShopApi):
    @extend_schema(
        tags=ORDERS,
        operation_id="orders_for_user",
        parameters=[USER_ID, *PAGE_PARAMETERS],
        responses={200: paginated(OrderOutputSerializer), **errors(401, 404)},
        description="A buyer's orders, newest first: the caller's own, anyone's for staff. The seed API's "
        "`GET /orders/:userId` collides with `GET /orders/:id`, so this lives at `/api/orders/user/{user_id}`.",
    )
    def get(self, request, user_id: str):
        if same_user(request.user, user_id):
            buyer = request.user
        elif is_shop_staff(request.user) and (buyer := user_by_id(user_id=user_id)) is not None:
            pass
        else:
            raise Http404("No such user.")
        orders = orders_for_buyer(buyer=buyer).prefetch_related("lines", "events")
        return paginate(view=self, request=request, queryset=orders, serializer_class=OrderOutputSerializer)


class OrderDetailApi(ShopApi):
    @extend_schema(tags=ORDERS, parameters=[ORDER_ID], responses={200: OrderOutputSerializer, **errors(401, 404)})
    def get(self, request, order_id: str):
        """One order: its buyer's, or any for staff."""
        return Response(_render(order_for_caller(request, order_id)))

    @extend_schema(
        tags=ORDERS,
        operation_id="orders_update",
        parameters=[ORDER_ID],
        request=OrderStatusInputSerializer,
        responses={200: OrderOutputSerializer, **errors(400, 401, 404, 409, 415)},
    )
    def put(self, request, order_id: str):
        """Moves the order along its life cycle: staff ship (with `carrier` and `tracking_number`, both required:
        the buyer is emailed both), deliver or cancel a pending order; the buyer may only cancel while payment is
        pending. Any other change is a 409."""
        return self._move(request, order_id)

    @extend_schema(
        tags=ORDERS,
        operation_id="orders_partial_update",
        parameters=[ORDER_ID],
        request=OrderStatusInputSerializer,
        responses={200: OrderOutputSerializer, **errors(400, 401, 404, 409, 415)},
    )
    def patch(self, request, order_id: str):
        """The same as PUT: `status` is the only field."""
        return self._move(request, order_id)

    def _move(self, request, order_id: str) -> Response:
        order = order_for_caller(request, order_id)
        data = OrderStatusInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = data.validated_data["status"]
        moves = STAFF_MOVES if is_shop_staff(request.user) else BUYER_MOVES
        if target not in moves:
            raise IllegalTransition(
                f"Order {order.number} cannot be set to {OrderStatus(target).label.lower()} here.",
                number=order.number,
                status=order.status,
                requested=target,
            )
        return Response(_render(moves[target](order, request.user, data.validated_data)))

    @extend_schema(tags=ORDERS, parameters=[ORDER_ID], responses={200: OrderOutputSerializer, **errors(401, 404, 409)})
    def delete(self, request, order_id: str):
        """Cancels a pending order (its stock goes back); the order itself is kept. 409 once it is past pending."""
        order = order_for_caller(request, order_id)
        return Response(_render(cancel_order(order=order, actor=request.user)))
