from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from pricing.api.serializers import (
    DiscountCodeInputSerializer,
    DiscountCodeOutputSerializer,
    ShippingMethodOutputSerializer,
    ShippingMethodQuerySerializer,
)
from pricing.models import DiscountCode
from pricing.selectors import category_slugs_of, discount_code_by_id, shipping_options
from pricing.services import delete_discount_code, save_discount_code
from shop.api import (
    PAGE_PARAMETERS,
    ErrorSerializer,
    IsShopStaff,
    ShopApi,
    ShopPagination,
    errors,
    paginated,
    pk_parameter,
)

SHIPPING = ["shipping"]
DISCOUNT_CODES = ["discount-codes"]
CODE_ID = pk_parameter("code_id", "The discount code's id.")
API_FIELD_NAMES = {"min_subtotal_minor": "min_subtotal", "__all__": "non_field_errors"}
NEW_CODE = {"used_count": 0}  # what a new code's read-only fields read (it has no id or creation time yet)


class ShippingMethodListApi(ShopApi):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=SHIPPING,
        operation_id="shipping_methods_list",
        parameters=[ShippingMethodQuerySerializer],
        responses={
            200: ShippingMethodOutputSerializer(many=True),
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="No `country`, or not a known ISO 3166-1 alpha-2 code: `{country: [messages]}`.",
            ),
        },
        auth=[],
    )
    def get(self, request):
        """The active shipping methods that serve a country, cheapest first (the checkout's own list, priced for the
        lightest parcel); an empty list when none serves it, e.g. a country the shop does not ship to."""
        query = ShippingMethodQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        options = shipping_options(country=query.validated_data["country"])
        return Response(ShippingMethodOutputSerializer(options, many=True).data)


def _code_by_id(code_id: str) -> DiscountCode:
    code = discount_code_by_id(code_id=code_id)
    if code is None:
        raise Http404("No such discount code.")
    return code


def _render(code: DiscountCode) -> dict:
    return DiscountCodeOutputSerializer(code, context={"category_slugs": category_slugs_of(codes=[code])}).data


def _save_code(*, code: DiscountCode, data: DiscountCodeInputSerializer) -> DiscountCode:
    """Sets the validated fields on the code and stores it. Raises: ValidationError under the API's field names."""
    categories = data.validated_data.get("categories")
    try:
        return save_discount_code(code=code, fields=data.model_fields(), categories=categories)
    except DjangoValidationError as err:
        detail = err.message_dict if hasattr(err, "error_dict") else {"non_field_errors": err.messages}
        raise serializers.ValidationError(
            {API_FIELD_NAMES.get(key, key): value for key, value in detail.items()}
        ) from err
    except IntegrityError as err:  # the same code created meanwhile, after full_clean() checked
        raise serializers.ValidationError({"code": ["A discount code with this code already exists."]}) from err


class DiscountCodeCollectionApi(ShopApi):
    permission_classes = [IsShopStaff]

    @extend_schema(
        tags=DISCOUNT_CODES,
        operation_id="discount_codes_list",
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(DiscountCodeOutputSerializer), **errors(401, 403, 404)},
    )
    def get(self, request):
        """Every discount code, by code (staff only); `page` past the end is a 404."""
        paginator = ShopPagination()
        page = paginator.paginate_queryset(DiscountCode.objects.order_by("code", "pk"), request, view=self)
        context = {"category_slugs": category_slugs_of(codes=list(page))}
        return paginator.get_paginated_response(DiscountCodeOutputSerializer(page, many=True, context=context).data)

    @extend_schema(
        tags=DISCOUNT_CODES,
        operation_id="discount_codes_create",
        request=DiscountCodeInputSerializer,
        responses={201: DiscountCodeOutputSerializer, **errors(400, 401, 403, 415)},
    )
    def post(self, request):
        """A new discount code (staff only). Its rules are the admin's: a percentage from 1 to 100, a fixed amount of
        at least 1, the end after the start, a code no other has (in any case)."""
        data = DiscountCodeInputSerializer(data=request.data, context={"current": NEW_CODE})
        data.is_valid(raise_exception=True)
        code = _save_code(code=DiscountCode(), data=data)
        return Response(_render(code), status=status.HTTP_201_CREATED)


class DiscountCodeDetailApi(ShopApi):
    permission_classes = [IsShopStaff]

    @extend_schema(
        tags=DISCOUNT_CODES,
        operation_id="discount_codes_retrieve",
        parameters=[CODE_ID],
        responses={200: DiscountCodeOutputSerializer, **errors(401, 403, 404)},
    )
    def get(self, request, code_id: str):
        """One discount code (staff only)."""
        return Response(_render(_code_by_id(code_id)))

    @extend_schema(
        tags=DISCOUNT_CODES,
        operation_id="discount_codes_update",
        parameters=[CODE_ID],
        request=DiscountCodeInputSerializer,
        responses={200: DiscountCodeOutputSerializer, **errors(400, 401, 403, 404, 415)},
    )
    def put(self, request, code_id: str):
        """Changes the code (`code` and `kind` required; fields left out keep their value). `id`, `used_count` and
        `created_at` are read-only: sent back as read they are ignored, with another value refused."""
        return self._update(request, code_id, partial=False)

    @extend_schema(
        tags=DISCOUNT_CODES,
        operation_id="discount_codes_partial_update",
        parameters=[CODE_ID],
        request=DiscountCodeInputSerializer(partial=True),
        responses={200: DiscountCodeOutputSerializer, **errors(400, 401, 403, 404, 415)},
    )
    def patch(self, request, code_id: str):
        """Changes some of the code's fields."""
        return self._update(request, code_id, partial=True)

    def _update(self, request, code_id: str, *, partial: bool) -> Response:
        code = _code_by_id(code_id)
        data = DiscountCodeInputSerializer(data=request.data, partial=partial, context={"current": _render(code)})
        data.is_valid(raise_exception=True)
        return Response(_render(_save_code(code=code, data=data)))

    @extend_schema(
        tags=DISCOUNT_CODES,
        operation_id="discount_codes_destroy",
        parameters=[CODE_ID],
        responses={
            204: OpenApiResponse(description="Deleted."),
            409: OpenApiResponse(
                ErrorSerializer,
                description="Orders have used the code (`code`: discount_code_in_use): deactivate it instead.",
            ),
            **errors(401, 403, 404),
        },
    )
    def delete(self, request, code_id: str):
        """Deletes a code no order has used; one that orders used is kept for their history (409): deactivate it."""
        delete_discount_code(code=_code_by_id(code_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
