from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from catalog.api.serializers import (
    ItemDeleteOutputSerializer,
    ItemInputSerializer,
    ItemListQuerySerializer,
    ItemOutputSerializer,
)
from catalog.models import Item
from catalog.selectors import item_list, items_by_ids
from catalog.services import create_item, delete_item, update_item
from shop.api import IsSellerOrStaff, ShopApi, currency, errors, is_shop_staff, paginate, paginated, pk_parameter

ITEMS = ["items"]
ITEM_ID = pk_parameter("item_id", "The item's id.")


class ItemCollectionApi(ShopApi):
    """GET lists (anyone), POST creates (sellers and staff)."""

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsSellerOrStaff()]

    @extend_schema(
        tags=ITEMS,
        operation_id="items_list",
        parameters=[ItemListQuerySerializer],
        responses={200: paginated(ItemOutputSerializer), **errors(400, 404)},
        auth=[],
    )
    def get(self, request):
        """Active items, filtered like the storefront's search; `page` past the end is a 404."""
        query = ItemListQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        items = item_list(**query.selector_kwargs())
        return paginate(view=self, request=request, queryset=items, serializer_class=ItemOutputSerializer)

    @extend_schema(
        tags=ITEMS,
        operation_id="items_create",
        request=ItemInputSerializer,
        responses={201: ItemOutputSerializer, **errors(400, 401, 403, 415)},
    )
    def post(self, request):
        """A new item sold by the caller."""
        current = {"currency": currency()}  # a new item has no stored values yet, only the shop's
        data = ItemInputSerializer(data=request.data, context={"current": current})
        data.is_valid(raise_exception=True)
        item = create_item(actor=request.user, **data.service_kwargs(creating=True))
        return Response(ItemOutputSerializer(item, context={"request": request}).data, status=status.HTTP_201_CREATED)


def _visible_item(request, item_id: str) -> Item:
    """The item, when the caller may see it: active ones to anyone, inactive ones to their seller and staff."""
    item = items_by_ids(ids=[item_id]).get(item_id)
    if item is None or not (item.is_active or is_shop_staff(request.user) or item.seller_id == request.user.pk):
        raise Http404("No such item.")
    return item


class ItemDetailApi(ShopApi):
    """GET (anyone), PUT/PATCH/DELETE (the item's seller or staff; other sellers get 403)."""

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsSellerOrStaff()]

    @extend_schema(
        tags=ITEMS,
        operation_id="items_retrieve",
        parameters=[ITEM_ID],
        responses={200: ItemOutputSerializer, **errors(404)},
        auth=[],
    )
    def get(self, request, item_id: str):
        """One item."""
        return Response(ItemOutputSerializer(_visible_item(request, item_id), context={"request": request}).data)

    @extend_schema(
        tags=ITEMS,
        operation_id="items_update",
        parameters=[ITEM_ID],
        request=ItemInputSerializer,
        responses={200: ItemOutputSerializer, **errors(400, 401, 403, 404, 409, 415)},
    )
    def put(self, request, item_id: str):
        """Replaces the item's fields (title, price and category required)."""
        return self._update(request, item_id, partial=False)

    @extend_schema(
        tags=ITEMS,
        operation_id="items_partial_update",
        parameters=[ITEM_ID],
        request=ItemInputSerializer(partial=True),
        responses={200: ItemOutputSerializer, **errors(400, 401, 403, 404, 409, 415)},
    )
    def patch(self, request, item_id: str):
        """Changes some of the item's fields."""
        return self._update(request, item_id, partial=True)

    def _update(self, request, item_id: str, *, partial: bool) -> Response:
        item = _visible_item(request, item_id)
        current = ItemOutputSerializer(item, context={"request": request}).data
        data = ItemInputSerializer(data=request.data, partial=partial, context={"current": current})
        data.is_valid(raise_exception=True)
        item = update_item(item=item, actor=request.user, **data.service_kwargs())
        return Response(ItemOutputSerializer(item, context={"request": request}).data)

    @extend_schema(
        tags=ITEMS,
        operation_id="items_destroy",
        parameters=[ITEM_ID],
        responses={
            200: OpenApiResponse(ItemDeleteOutputSerializer, description="Orders refer to it: deactivated instead."),
            204: OpenApiResponse(description="Deleted."),
            **errors(401, 403, 404),
        },
    )
    def delete(self, request, item_id: str):
        """Deletes the item; one that has been ordered is deactivated instead (200, saying so)."""
        item = _visible_item(request, item_id)
        if delete_item(item=item, actor=request.user):
            return Response(status=status.HTTP_204_NO_CONTENT)
        body = {
            "detail": "This item has orders, so it was deactivated instead of deleted.",
            "deleted": False,
            "deactivated": True,
            "item": item,
        }
        return Response(ItemDeleteOutputSerializer(body, context={"request": request}).data)
