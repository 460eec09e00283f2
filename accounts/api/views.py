from django.contrib.auth import authenticate
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.api.serializers import (
    LoginInputSerializer,
    LoginOutputSerializer,
    RefreshInputSerializer,
    RefreshOutputSerializer,
    SignupInputSerializer,
    UserDeleteOutputSerializer,
    UserOutputSerializer,
    UserUpdateInputSerializer,
)
from accounts.models import User
from accounts.selectors import user_by_id, user_list
from accounts.services import create_user, deactivate_user, update_user
from shop.api import (
    AuthRateThrottle,
    IsShopStaff,
    ShopApi,
    errors,
    is_shop_staff,
    paginate,
    paginated,
    pk_parameter,
    same_user,
)

AUTH = ["auth"]
USERS = ["users"]
USER_ID = pk_parameter("user_id", "The user's id.")


class PublicAuthApi(ShopApi):
    """Login, signup and refresh: open to anyone, throttled per client address. No credentials are read (a stale
    token or the session's CSRF rule must not get in the way); bad credentials answer 401 with a Bearer challenge."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]

    def get_authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class SignupApi(PublicAuthApi):
    @extend_schema(
        tags=AUTH,
        operation_id="auth_signup",
        request=SignupInputSerializer,
        responses={201: UserOutputSerializer, **errors(400, 415, 429)},
        auth=[],
    )
    def post(self, request):
        """Creates a shopper account with the web signup's rules (unique email in any case, password validators)."""
        data = SignupInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = create_user(**data.validated_data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class LoginApi(PublicAuthApi):
    @extend_schema(
        tags=AUTH,
        operation_id="auth_login",
        request=LoginInputSerializer,
        responses={200: LoginOutputSerializer, **errors(400, 401, 415, 429)},
        auth=[],
    )
    def post(self, request):
        """Exchanges email and password for an access and a refresh token."""
        data = LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, email=data.validated_data["email"], password=data.validated_data["password"])
        if user is None or not user.is_active:
            raise AuthenticationFailed("No active account found with the given credentials.")
        refresh = RefreshToken.for_user(user)
        body = {"access": str(refresh.access_token), "refresh": str(refresh), "user": user}
        return Response(LoginOutputSerializer(body).data)


class RefreshApi(PublicAuthApi):
    throttle_classes = []

    @extend_schema(
        tags=AUTH,
        operation_id="auth_refresh",
        request=RefreshInputSerializer,
        responses={200: RefreshOutputSerializer, **errors(400, 401, 415)},
        auth=[],
    )
    def post(self, request):
        """A new access token for a valid refresh token."""
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = TokenRefreshSerializer(data=data.validated_data)
        try:
            tokens.is_valid(raise_exception=True)
        except TokenError as err:
            raise InvalidToken(err.args[0]) from err
        return Response(RefreshOutputSerializer(tokens.validated_data).data)


class UserListApi(ShopApi):
    permission_classes = [IsShopStaff]

    @extend_schema(
        tags=USERS, operation_id="users_list", responses={200: paginated(UserOutputSerializer), **errors(401, 403, 404)}
    )
    def get(self, request):
        """Every user, by email (staff only)."""
        return paginate(
            view=self,
            request=request,
            queryset=user_list(),
            serializer_class=UserOutputSerializer,
        )


def _user_for(request, user_id: str) -> User:
    """The user behind the URL when the caller is that user or staff; anyone else gets the same 404 as for no user."""
    if not (is_shop_staff(request.user) or same_user(request.user, user_id)):
        raise Http404("No such user.")
    user = user_by_id(user_id=user_id)
    if user is None:
        raise Http404("No such user.")
    return user


class UserDetailApi(ShopApi):
    @extend_schema(tags=USERS, parameters=[USER_ID], responses={200: UserOutputSerializer, **errors(401, 404)})
    def get(self, request, user_id: str):
        """One user: the caller themselves, or anyone for staff."""
        return Response(UserOutputSerializer(_user_for(request, user_id)).data)

    @extend_schema(
        tags=USERS,
        parameters=[USER_ID],
        request=UserUpdateInputSerializer,
        responses={200: UserOutputSerializer, **errors(400, 401, 403, 404, 415)},
    )
    def put(self, request, user_id: str):
        """Replaces the profile (email, names); roles (is_seller, is_staff) change only when staff send them."""
        return self._update(request, user_id, partial=False)

    @extend_schema(
        tags=USERS,
        parameters=[USER_ID],
        request=UserUpdateInputSerializer(partial=True),
        responses={200: UserOutputSerializer, **errors(400, 401, 403, 404, 415)},
    )
    def patch(self, request, user_id: str):
        """Changes some profile fields or, for staff, roles. Making someone a seller also grants the seller group."""
        return self._update(request, user_id, partial=True)

    def _update(self, request, user_id: str, *, partial: bool) -> Response:
        user = _user_for(request, user_id)
        data = UserUpdateInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        user = update_user(user=user, actor=request.user, **data.validated_data)
        return Response(UserOutputSerializer(user).data)

    @extend_schema(tags=USERS, parameters=[USER_ID], responses={200: UserDeleteOutputSerializer, **errors(401, 404)})
    def delete(self, request, user_id: str):
        """Deactivates the account (it can no longer sign in); its orders are kept."""
        user = deactivate_user(user=_user_for(request, user_id))
        body = {"detail": "The account is deactivated; its orders are kept.", "user": user}
        return Response(UserDeleteOutputSerializer(body).data)
