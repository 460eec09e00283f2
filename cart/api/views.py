from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from accounts.selectors import user_by_id
from cart.api.serializers import CartAddInputSerializer, CartOutputSerializer, CartQuantityInputSerializer
from cart.exceptions import ItemUnavailable
from cart.selectors import CartOwner, cart_for
from cart.services import add_to_cart, remove_from_cart, set_quantity
from shop.api import ShopApi, currency, errors, is_shop_staff, pk_parameter, same_user

CARTS = ["carts"]
USER_ID = pk_parameter("user_id", "The cart owner's user id.")
ITEM_ID = pk_parameter("item_id", "The item's id.")
CART_ERRORS = errors(400, 401, 404, 409, 415)


def _owner(request, user_id: str) -> CartOwner:
    """The cart behind the URL: the caller's own, or anyone's for staff; otherwise the same 404 as for no user."""
    if same_user(request.user, user_id):
        return CartOwner(user=request.user)
    if is_shop_staff(request.user):
        user = user_by_id(user_id=user_id)
        if user is not None:
            return CartOwner(user=user)
    raise Http404("No such cart.")


def _cart_response(owner: CartOwner) -> Response:
    cart = cart_for(owner=owner)
    body = {
        "user": str(owner.user.pk),
        "lines": cart.lines,
        "total": cart.total_minor,
        "count": cart.count,
        "currency": currency(),
    }
    return Response(CartOutputSerializer(body).data)


class CartDetailApi(ShopApi):
    @extend_schema(tags=CARTS, parameters=[USER_ID], responses={200: CartOutputSerializer, **errors(401, 404)})
    def get(self, request, user_id: str):
        """The same cart the web shop shows that user, with current prices and stock."""
        return _cart_response(_owner(request, user_id))


class CartAddApi(ShopApi):
    @extend_schema(
        tags=CARTS,
        parameters=[USER_ID],
        request=CartAddInputSerializer,
        responses={200: CartOutputSerializer, **CART_ERRORS},
    )
    def post(self, request, user_id: str):
        """Adds units of an active item; the line never exceeds stock (409 and nothing changes)."""
        owner = _owner(request, user_id)
        data = CartAddInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        add_to_cart(owner=owner, item_id=data.validated_data["item"], quantity=data.validated_data["quantity"])
        return _cart_response(owner)


class CartLineApi(ShopApi):
    @extend_schema(
        tags=CARTS,
        parameters=[USER_ID, ITEM_ID],
        request=CartQuantityInputSerializer,
        responses={200: CartOutputSerializer, **CART_ERRORS},
    )
    def put(self, request, user_id: str, item_id: str):
        """Sets the quantity of an item already in the cart (1 to stock)."""
        owner = _owner(request, user_id)
        data = CartQuantityInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        set_quantity(owner=owner, item_id=item_id, quantity=data.validated_data["quantity"])
        return _cart_response(owner)

    @extend_schema(tags=CARTS, parameters=[USER_ID, ITEM_ID], responses={200: CartOutputSerializer, **errors(401, 404)})
    def delete(self, request, user_id: str, item_id: str):
        """Removes the item's line, whatever the item's state now."""
        owner = _owner(request, user_id)
        if not remove_from_cart(owner=owner, item_id=item_id):
            raise ItemUnavailable("That item is not in this cart.")
        return _cart_response(owner)
