from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from orders.selectors import order_by_id
from payments.api.serializers import CheckoutOutputSerializer
from payments.services import start_payment
from shop.api import ShopApi, errors, is_shop_staff, pk_parameter


class OrderPayApi(ShopApi):
    @extend_schema(
        tags=["orders"],
        operation_id="orders_pay",
        parameters=[pk_parameter("order_id", "The order's id.")],
        request=None,
        responses={200: CheckoutOutputSerializer, **errors(401, 404, 409, 503)},
    )
    def post(self, request, order_id: str):
        """Where to pay a pending order: the open checkout session if there is one, else a new one (the web
        checkout's own `start_payment`). 409 when the order can no longer be paid."""
        order = order_by_id(order_id=order_id)
        if order is None or not (is_shop_staff(request.user) or order.buyer_id == request.user.pk):
            raise Http404("No such order.")
        payment = start_payment(order=order, site_url=request.build_absolute_uri("/"))
        return Response(CheckoutOutputSerializer(payment).data)
