from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from accounts.selectors import user_by_id
from cart.api.serializers import (
    CartAddInputSerializer,
    CartDiscountInputSerializer,
    CartOutputSerializer,
    CartQuantityInputSerializer,
    CartQuerySerializer,
)
from cart.exceptions import ItemUnavailable
from cart.selectors import CartOwner, CartSummary, cart_breakdown, cart_for
from cart.services import add_to_cart, apply_discount, remove_discount, remove_from_cart, set_quantity
from shop.api import (
    ErrorSerializer,
    ShopApi,
    currency,
    errors,
    is_shop_staff,
    pk_parameter,
    representation,
    same_user,
)

CARTS = ["carts"]
USER_ID = pk_parameter("user_id", "The cart owner's user id.")
ITEM_ID = pk_parameter("item_id", "The item's id.")
CART_ERRORS = errors(400, 401, 404, 409, 415)
CART_JSON = representation(CartOutputSerializer)


def _owner(request, user_id: str) -> CartOwner:
    """The cart behind the URL: the caller's own, or anyone's for staff; otherwise the same 404 as for no user."""
    if same_user(request.user, user_id):
        return CartOwner(user=request.user)
    if is_shop_staff(request.user):
        user = user_by_id(user_id=user_id)
        if user is not None:
            return CartOwner(user=user)
    raise Http404("No such cart.")


def _breakdown_fields(cart: CartSummary, country: str | None) -> dict:
    """The cart's breakdown as the JSON names it (`cart.selectors.cart_breakdown`; no amount is computed here)."""
    breakdown, discount_problem = cart_breakdown(cart=cart, country=country)
    fields = {
        "country": breakdown.country,
        "prices_include_tax": breakdown.prices_include_tax,
        "discount_problem": discount_problem,
    }
    if breakdown.is_empty:
        # Nothing to ship or tax (an empty cart, or only items no longer sold): price() would still quote the
        # cheapest shipping method, which an empty cart does not pay.
        return {**fields, "subtotal": 0, "discount": None, "shipping": None, "tax": 0, "taxes": [], "total": 0}
    shipping = breakdown.shipping
    return {
        **fields,
        "subtotal": breakdown.subtotal_minor,
        "discount": (
            {"code": breakdown.discount_code, "amount": breakdown.discount_minor} if breakdown.discount_code else None
        ),
        "shipping": (
            {
                "method": shipping.name,
                "method_id": shipping.id,
                "amount": breakdown.shipping_minor,
                "tax": breakdown.shipping_tax_minor,
            }
            if shipping is not None
            else None
        ),
        "tax": breakdown.tax_minor,
        "taxes": [{"rate": rate, "amount": amount} for rate, amount in breakdown.taxes],
        "total": breakdown.total_minor,
    }


def _cart_response(owner: CartOwner, *, cart: CartSummary | None = None, country: str | None = None) -> Response:
    """The cart as JSON: `cart` as a write just left it, else read now."""
    cart = cart if cart is not None else cart_for(owner=owner)
    body = {
        "user": str(owner.user.pk),
        "lines": cart.lines,
        "count": cart.count,
        "currency": currency(),
        **_breakdown_fields(cart, country),
    }
    return Response(CART_JSON(body))


class CartDetailApi(ShopApi):
    @extend_schema(
        tags=CARTS,
        parameters=[USER_ID, CartQuerySerializer],
        responses={200: CartOutputSerializer, **errors(400, 401, 404)},
    )
    def get(self, request, user_id: str):
        """The same cart the web shop shows that user, with current prices and stock, and its price breakdown:
        shipping and VAT estimated for the shop's own country, or for `country`."""
        owner = _owner(request, user_id)
        query = CartQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        return _cart_response(owner, country=query.validated_data.get("country"))


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
        change = add_to_cart(owner=owner, item_id=data.validated_data["item"], quantity=data.validated_data["quantity"])
        return _cart_response(owner, cart=change.cart)


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
        change = set_quantity(owner=owner, item_id=item_id, quantity=data.validated_data["quantity"])
        return _cart_response(owner, cart=change.cart)

    @extend_schema(tags=CARTS, parameters=[USER_ID, ITEM_ID], responses={200: CartOutputSerializer, **errors(401, 404)})
    def delete(self, request, user_id: str, item_id: str):
        """Removes the item's line, whatever the item's state now."""
        owner = _owner(request, user_id)
        if not remove_from_cart(owner=owner, item_id=item_id):
            raise ItemUnavailable("That item is not in this cart.")
        return _cart_response(owner)


DISCOUNT_REFUSED = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Bad input (`{code: [messages]}`), or the code cannot be used on this cart: `{detail, code: "
    '"discount_refused", message, extra: {reason, discount_code}}`, the message for the shopper and `reason` one of '
    "unknown, not_started, expired, used_up, used_by_you, below_minimum, not_for_these_items. The cart is unchanged.",
)


class CartDiscountApi(ShopApi):
    @extend_schema(
        tags=CARTS,
        operation_id="carts_discount_apply",
        parameters=[USER_ID],
        request=CartDiscountInputSerializer,
        responses={
            200: CartOutputSerializer,
            400: DISCOUNT_REFUSED,
            409: OpenApiResponse(ErrorSerializer, description="The cart is empty (`code`: cart_empty)."),
            **errors(401, 404, 415),
        },
    )
    def post(self, request, user_id: str):
        """Applies a discount code to the cart (replacing any other) when it can be used on it now; orders placed
        from the cart use it unless they name another."""
        owner = _owner(request, user_id)
        data = CartDiscountInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        apply_discount(owner=owner, code=data.validated_data["code"])
        return _cart_response(owner)

    @extend_schema(
        tags=CARTS,
        operation_id="carts_discount_remove",
        parameters=[USER_ID],
        responses={200: CartOutputSerializer, **errors(401, 404)},
    )
    def delete(self, request, user_id: str):
        """Removes the cart's discount code (nothing happens when it has none)."""
        owner = _owner(request, user_id)
        remove_discount(owner=owner)
        return _cart_response(owner)
