from django.http import Http404
from django.utils import timezone
from django.utils.cache import patch_cache_control
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from accounts.api.auth_serializers import (
    LoginInputSerializer,
    LoginOutputSerializer,
    LogoutOutputSerializer,
    RefreshInputSerializer,
    RefreshOutputSerializer,
)
from accounts.api.serializers import (
    EMAIL_CHANGE_DETAIL,
    SIGNUP_DETAIL,
    PersonalDataSerializer,
    SignupInputSerializer,
    SignupOutputSerializer,
    UserDeleteOutputSerializer,
    UserEmailChangeOutputSerializer,
    UserOutputSerializer,
    UserUpdateInputSerializer,
)
from accounts.models import User
from accounts.security import authenticate_for_api
from accounts.selectors import export_personal_data, user_by_id, user_list
from accounts.services import erase_personal_data, sign_up, update_user
from accounts.tokens import issue_tokens, log_out, refresh_tokens
from shop.api import (
    PAGE_PARAMETERS,
    AuthRateThrottle,
    IsShopStaff,
    ShopApi,
    TokenRateThrottle,
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
        responses={201: SignupOutputSerializer, **errors(400, 415, 429)},
        auth=[],
    )
    def post(self, request):
        """Creates a shopper account with the web signup's rules (email in any case, password validators) and mails
        a link to confirm the address. The answer is the same when the address already has an account (its owner is
        mailed that instead), so it carries no id: log in for the account and its tokens."""
        data = SignupInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sign_up(request=request._request, **data.validated_data)
        body = {
            **data.validated_data,
            "detail": SIGNUP_DETAIL.format(email=data.validated_data["email"]),
            "role": "shopper",
        }
        return Response(SignupOutputSerializer(body).data, status=status.HTTP_201_CREATED)


class LoginApi(PublicAuthApi):
    @extend_schema(
        tags=AUTH,
        operation_id="auth_login",
        request=LoginInputSerializer,
        responses={200: LoginOutputSerializer, **errors(400, 401, 403, 415, 429)},
        auth=[],
    )
    def post(self, request):
        """Exchanges email and password (and, for an account with two-factor authentication, `otp`) for an access
        and a refresh token. Failed passwords count against the account as on the web: after too many it answers
        429 from any address for a while. Staff and sellers without two-factor authentication get a 403 when the
        shop requires it."""
        data = LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # A refusal answers with its class's status and code (accounts.security.LoginRefused): 401 (otp_required,
        # otp_incorrect, login_refused), 429 login_locked, 403 mfa_setup_required.
        user = authenticate_for_api(
            request=request._request,
            email=data.validated_data["email"],
            password=data.validated_data["password"],
            otp=data.validated_data.get("otp"),
        )
        body = {**issue_tokens(user=user), "user": user}
        return Response(LoginOutputSerializer(body).data)


class RefreshApi(PublicAuthApi):
    throttle_classes = [TokenRateThrottle]

    @extend_schema(
        tags=AUTH,
        operation_id="auth_refresh",
        request=RefreshInputSerializer,
        responses={200: RefreshOutputSerializer, **errors(400, 401, 415, 429)},
        auth=[],
    )
    def post(self, request):
        """A new access token and a new refresh token for a valid refresh token, which is spent: sending it again,
        after a logout, a password change or the account's deactivation, answers 401."""
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            tokens = refresh_tokens(refresh=data.validated_data["refresh"])
        except TokenError as err:
            raise InvalidToken(err.args[0]) from err
        return Response(RefreshOutputSerializer(tokens).data)


class LogoutApi(PublicAuthApi):
    throttle_classes = [TokenRateThrottle]

    @extend_schema(
        tags=AUTH,
        operation_id="auth_logout",
        request=RefreshInputSerializer,
        responses={200: LogoutOutputSerializer, **errors(400, 401, 415, 429)},
        auth=[],
    )
    def post(self, request):
        """Blacklists the refresh token: it can no longer mint access tokens. Access tokens already issued from it
        expire on their own within minutes (SIMPLE_JWT ACCESS_TOKEN_LIFETIME)."""
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            log_out(refresh=data.validated_data["refresh"])
        except TokenError as err:
            raise InvalidToken(err.args[0]) from err
        return Response(LogoutOutputSerializer({"detail": "Logged out: the refresh token is revoked."}).data)


class UserListApi(ShopApi):
    permission_classes = [IsShopStaff]

    @extend_schema(
        tags=USERS,
        operation_id="users_list",
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(UserOutputSerializer), **errors(401, 403, 404)},
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
        responses={200: UserOutputSerializer, 202: UserEmailChangeOutputSerializer, **errors(400, 401, 403, 404, 415)},
    )
    def put(self, request, user_id: str):
        """Replaces the profile (email, names); roles (is_seller, is_staff) change only when staff send them. A new
        email of one's own needs `current_password` and answers 202: it takes over once confirmed through the link
        mailed to it."""
        return self._update(request, user_id, partial=False)

    @extend_schema(
        tags=USERS,
        parameters=[USER_ID],
        request=UserUpdateInputSerializer(partial=True),
        responses={200: UserOutputSerializer, 202: UserEmailChangeOutputSerializer, **errors(400, 401, 403, 404, 415)},
    )
    def patch(self, request, user_id: str):
        """Changes some profile fields or, for staff, roles. Making someone a seller also grants the seller group. A
        new email of one's own needs `current_password` (a stolen token must not move the account to another
        mailbox) and answers 202 with `detail` and `pending_email`: the email changes only once the link
        mailed to the new address is opened (then the old address no longer logs in). Staff set another user's
        email at once."""
        return self._update(request, user_id, partial=True)

    def _update(self, request, user_id: str, *, partial: bool) -> Response:
        user = _user_for(request, user_id)
        current = UserOutputSerializer(user).data
        data = UserUpdateInputSerializer(data=request.data, partial=partial, context={"current": current})
        data.is_valid(raise_exception=True)
        done = update_user(user=user, actor=request.user, request=request._request, **data.validated_data)
        if done.confirmation_sent_to is None:
            return Response(UserOutputSerializer(done.user).data)
        body = {
            **UserOutputSerializer(done.user).data,
            "pending_email": done.confirmation_sent_to,
            "detail": EMAIL_CHANGE_DETAIL.format(email=done.confirmation_sent_to, current=done.user.email),
        }
        return Response(UserEmailChangeOutputSerializer(body).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        tags=USERS, parameters=[USER_ID], responses={200: UserDeleteOutputSerializer, **errors(401, 403, 404)}
    )
    def delete(self, request, user_id: str):
        """Deletes the account (GDPR erasure): names, addresses, email addresses and second factors are erased, the
        email replaced by an anonymous one, the account deactivated and its sessions and tokens ended. Its orders
        are kept for the accounts with the buyer anonymised. For the user themselves, or staff on their request."""
        user = erase_personal_data(user=_user_for(request, user_id), actor=request.user)
        body = {
            "detail": "The account is deleted: its personal data is erased; its orders are kept, anonymised.",
            "user": user,
        }
        return Response(UserDeleteOutputSerializer(body).data)


def _personal_data_answer(user: User) -> Response:
    response = Response(PersonalDataSerializer(export_personal_data(user=user)).data)
    response["Content-Disposition"] = f'attachment; filename="personal-data-{timezone.now():%Y-%m-%d}.json"'
    patch_cache_control(response, private=True, no_store=True)
    return response


class MyPersonalDataApi(ShopApi):
    @extend_schema(tags=USERS, operation_id="users_me_export", responses={200: PersonalDataSerializer, **errors(401)})
    def get(self, request):
        """Everything the shop holds about the caller (GDPR export), as a JSON file: the account, email addresses,
        saved addresses, orders with lines, payment state and refunds, the cart."""
        return _personal_data_answer(request.user)


class UserPersonalDataApi(ShopApi):
    @extend_schema(
        tags=USERS,
        operation_id="users_export",
        parameters=[USER_ID],
        responses={200: PersonalDataSerializer, **errors(401, 404)},
    )
    def get(self, request, user_id: str):
        """The GDPR export of one user: the caller themselves, or anyone for staff (on that person's request)."""
        return _personal_data_answer(_user_for(request, user_id))
