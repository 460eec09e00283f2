"""What every app's JSON API shares: the base view, the one exception handler, pagination, permissions, throttles,
strict input fields and the schema helpers. Apps import this module; it imports no app."""

import json
import re
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from shop.converters import PkConverter
from shop.exceptions import ShopError
from shop.moments import iso_moment
from shop.parsers import JSONParser


def exception_handler(exc, context):
    """DRF's handler, plus: a ShopError becomes `{detail, code, message, extra}` with its class's `http_status` and
    only the `extra` fields its class shows clients (`shop.exceptions.ShopError`), with `Retry-After` when the class
    has one and, on a 401, the view's `WWW-Authenticate` challenge as DRF sends it; a model's ValidationError (from
    `full_clean()` in a service) becomes a 400 `{field: [messages]}`."""
    if isinstance(exc, ShopError):
        body = {"detail": exc.message, "code": exc.code, "message": exc.message, "extra": exc.client_data}
        headers = {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        if int(exc.http_status) == 401 and (challenge := _authenticate_header(context)):
            headers["WWW-Authenticate"] = challenge
        return Response(body, status=int(exc.http_status), headers=headers or None)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)


def _authenticate_header(context) -> str | None:
    """The challenge a 401 carries (RFC 9110): the view's, as DRF's `APIView.handle_exception` adds it."""
    view, request = context.get("view"), context.get("request")
    return view.get_authenticate_header(request) if view is not None and request is not None else None


class ShopApi(APIView):
    """The base of every API view: JSON in (anything else is a 415), JSON out, errors through `exception_handler`."""

    parser_classes = [JSONParser]

    def get_exception_handler(self):
        return exception_handler


class ShopPagination(PageNumberPagination):
    """`{count, next, previous, results}`; `?page=` and `?page_size=` (at most 100)."""

    page_size_query_param = "page_size"
    max_page_size = 100


def paginate(*, view: APIView, request, queryset, serializer_class, context: dict | None = None) -> Response:
    """One page of `queryset` rendered by `serializer_class`. Raises: NotFound for a page past the end."""
    paginator = ShopPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    data = serializer_class(page, many=True, context=context or {"request": request}).data
    return paginator.get_paginated_response(data)


# Permissions. Who is staff or a seller is decided by the user model's properties (accounts.models.User:
# is_shop_staff, has_back_office_access); shop sits below accounts, so it reads them by name off `request.user`, and
# getattr's False covers AnonymousUser, which has none of them.


def is_shop_staff(user) -> bool:
    """Whether the user is shop staff (not merely a seller with admin access)."""
    return bool(user and user.is_authenticated and getattr(user, "is_shop_staff", False))


def has_back_office_access(user) -> bool:
    """Whether the user is staff, a superuser or a seller."""
    return bool(user and user.is_authenticated and getattr(user, "has_back_office_access", False))


def same_user(user, user_id: object) -> bool:
    """Whether `user_id` (a URL string) is the signed-in user's own id."""
    return bool(user and user.is_authenticated and str(user.pk) == str(user_id))


class IsShopStaff(BasePermission):
    message = "Only staff may do this."

    def has_permission(self, request, view) -> bool:
        return is_shop_staff(request.user)


class CanReadApiDocs(BasePermission):
    """The schema and docs: for anyone with `settings.API_DOCS_PUBLIC`, else for staff only."""

    def has_permission(self, request, view) -> bool:
        return settings.API_DOCS_PUBLIC or is_shop_staff(request.user)


class IsSellerOrStaff(BasePermission):
    message = "Only sellers and staff may do this."

    def has_permission(self, request, view) -> bool:
        return has_back_office_access(request.user)


class AuthRateThrottle(SimpleRateThrottle):
    """Login and signup attempts per client address; the rate is REST_FRAMEWORK's DEFAULT_THROTTLE_RATES["auth"]
    (env API_AUTH_THROTTLE_RATE), read on each request so that a settings change applies at once. The address is
    the connection's (REMOTE_ADDR), or the one our own proxies saw when DJANGO_TRUSTED_PROXIES says how many there
    are (REST_FRAMEWORK's NUM_PROXIES): an X-Forwarded-For sent by the client never picks a fresh bucket."""

    scope = "auth"

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenRateThrottle(AuthRateThrottle):
    """Refreshes and logouts per client address: every client refreshes every few minutes, so their own, higher rate
    (DEFAULT_THROTTLE_RATES["token"], env API_TOKEN_THROTTLE_RATE) keeps a guesser of refresh tokens slow without
    throttling the shoppers behind one address."""

    scope = "token"


# Input fields. JSON clients get exactly what they send checked: no coercion of strings or booleans into numbers,
# no silently ignored keys.


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: "2", 2.5 and true are refused."""

    default_error_messages = {"invalid": "A whole number is required."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false only."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class PkField(serializers.CharField):
    """An id in the active backend's form (digits on SQLite, a 24-hex ObjectId on MongoDB), as a string."""

    default_error_messages = {"invalid_id": "Not a valid id."}

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool):
            data = str(data)
        value = super().to_internal_value(data)
        if not re.fullmatch(PkConverter.regex, value):
            self.fail("invalid_id")
        return value


class Timestamp(serializers.DateTimeField):
    """A moment as the MERN backend's clients read it (JavaScript's `Date.toISOString()`): UTC, to the millisecond,
    `2026-12-02T08:41:07.123Z`. Finer than MongoDB keeps would make the answer to a write differ from every later
    read of the same row there; SQLite keeps microseconds, and its answers read the same."""

    def to_representation(self, value):
        if value is None or isinstance(value, str):
            return value
        return iso_moment(self.enforce_timezone(value))


class StrictSerializer(serializers.Serializer):
    """An input serializer that refuses keys it does not know, instead of ignoring them.

    `read_only_fields` are fields of what a client reads that it cannot write (an id, a currency, timestamps), so
    that the shape it just read can be sent back: each is ignored when its value equals the one in the context's
    `current` (the representation as the client would read it now: the stored object's, or for a new one the
    shop's values), or is null where `current` has none; any other value is refused with a message naming the field.
    """

    read_only_fields: tuple[str, ...] = ()

    def to_internal_value(self, data):
        if isinstance(data, dict):
            current = self.context.get("current") or {}
            errors = {}
            for key in sorted(set(data) - set(self.fields)):
                if key not in self.read_only_fields:
                    errors[key] = ["Unknown field."]
                elif data[key] != current.get(key):
                    errors[key] = [read_only_refusal(key, current.get(key))]
            if errors:
                raise serializers.ValidationError(errors)
            data = {key: value for key, value in data.items() if key not in self.read_only_fields}
        return super().to_internal_value(data)


def read_only_refusal(field: str, value: object) -> str:
    if value is None:
        return f"{field} is read-only and set by the shop: leave it out."
    shown = json.dumps(value, ensure_ascii=False, default=str)
    return f"{field} is read-only: it is {shown} here, so leave it out or send that value."


def currency() -> str:
    return settings.SHOP_CURRENCY


# URLs and schema.


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any other path under /api/: a JSON 404, like every other API error (not the shop's HTML page)."""
    return JsonResponse({"detail": "Not found."}, status=404)


def optional_slash(route: str, view, name: str) -> list:
    """The route without and with a trailing slash, both served directly (no redirect); the schema shows the first."""
    return [path(route, view.as_view(), name=name), path(f"{route}/", view.as_view(schema=None))]


def pk_parameter(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name, str, OpenApiParameter.PATH, required=True, description=description, pattern=f"^{PkConverter.regex}$"
    )


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False)
    message = serializers.CharField(required=False)
    extra = serializers.DictField(required=False)


ERROR_DESCRIPTIONS = {
    400: "Bad input: `{field: [messages]}` or `{detail}`.",
    401: "No token, or a bad or expired one.",
    403: "Not allowed for this caller.",
    404: "Not found (also another user's cart or order when the caller is not staff).",
    409: "A state conflict: an illegal status change, not enough stock.",
    415: "The body is not JSON.",
    429: "Too many attempts; retry later.",
    503: "The payment provider could not be reached, or the shop stayed busy (`busy`, with `Retry-After`): nothing "
    "was changed; try again.",
}

# `?page=` and `?page_size=` of every paginated list (`paginate`), for its `extend_schema(parameters=...)`.
PAGE_PARAMETERS = [
    OpenApiParameter("page", int, OpenApiParameter.QUERY, description="The page, from 1 (404 past the last one)."),
    OpenApiParameter(
        "page_size", int, OpenApiParameter.QUERY, description="Results per page: 24 unless given, at most 100."
    ),
]


def document_busy_writes(result, generator, request, public):
    """A drf-spectacular postprocessing hook: every write may answer 503 `busy` with `Retry-After` when the database
    stays locked past `shop.db.unit_of_work`'s retries; the schema says so for each one."""
    busy = {
        "description": ERROR_DESCRIPTIONS[503],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method in ("post", "put", "patch", "delete"):
                operation.setdefault("responses", {}).setdefault("503", busy)
    return result


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """Documented error responses for `extend_schema(responses=...)`."""
    return {
        code: OpenApiResponse(
            response=OpenApiTypes.OBJECT if code == 400 else ErrorSerializer, description=ERROR_DESCRIPTIONS[code]
        )
        for code in codes
    }


@cache
def paginated(serializer_class: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The schema of one page of `serializer_class`: `{count, next, previous, results}`."""
    name = serializer_class.__name__.removesuffix("Serializer").removesuffix("Output")
    return type(
        f"Paginated{name}List",
        (serializers.Serializer,),
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


def representation(serializer_class: type[serializers.Serializer]) -> Callable[[object], dict]:
    """`serializer_class(instance).data` as a plain dict, for an output serializer that reads no context, without
    building its fields again on every call: DRF deep-copies every declared field (nested ones too) for each
    serializer it makes, about a fifth of a cart API call. The one instance made here is only read afterwards."""
    return serializer_class().to_representation
