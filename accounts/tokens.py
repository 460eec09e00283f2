"""JWTs for the API: issuing, refreshing with rotation, logging out, and the one rule that refuses a token.

A token is refused (`token_refusal`) when its user is gone or inactive, or when the user's password changed after it
was issued: simplejwt's CHECK_REVOKE_TOKEN writes a digest of the password hash into every token (`hash_password`),
so any password change (web, API, admin, a reset, `changepassword`, an unusable password on account deletion)
revokes every token issued before, and deactivating an account refuses them for as long as it stays inactive. A staff
member or seller who must set up a second factor (`accounts.security.must_set_up_second_factor`: promoted, or their
TOTP removed, since they logged in) has their tokens refused until they do, as the API login refuses them.
Both access tokens (`JWTAuthentication`) and refresh tokens (`refresh_tokens`) go through that rule.

A refresh token is spent on use: refreshing blacklists it and hands out a new one, and logging out blacklists it.
The blacklist is `accounts.models.BlacklistedToken`, ours rather than simplejwt's token_blacklist app, whose models
hard-code a BigAutoField primary key (django-mongodb-backend refuses any AutoField but its ObjectIdAutoField) and
check then write (two concurrent refreshes could both spend one token); ours inserts the token id under a unique
index, so exactly one of them wins.
"""

from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken, Token
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import BlacklistedToken, User
from accounts.security import SecondFactorSetupRequired, must_set_up_second_factor
from accounts.selectors import signed_in_user


def issue_tokens(*, user: User) -> dict[str, str]:
    """A new refresh token and an access token for `user`, both carrying the current password's digest."""
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def token_refusal(*, token: Token, user: User | None) -> str | None:
    """Why `token` may not be used for `user` (None: it may). The one revocation rule of the API."""
    if user is None:
        return "The token's user does not exist."
    if not user.is_active:
        return "The account is deactivated."
    if token.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
        return "The password was changed after this token was issued; log in again."
    if must_set_up_second_factor(user):  # made staff or a seller, or their second factor removed, since the login
        return SecondFactorSetupRequired.message
    return None


def _user_of(token: Token) -> User | None:
    user_id = token.get(api_settings.USER_ID_CLAIM)
    if not user_id:
        return None
    try:
        return signed_in_user(user_id=user_id)  # settings.SIMPLE_JWT: the claim holds the primary key
    except (TypeError, ValueError, ValidationError):  # an id in another backend's form
        return None


def _blacklist(*, token: Token, user: User) -> bool:
    """Spends `token`; False when it was spent already. Also drops the user's rows of tokens expired by now."""
    now = timezone.now()
    BlacklistedToken.objects.filter(user_id=user.pk, expires_at__lt=now).delete()
    try:
        with transaction.atomic():  # a savepoint on SQLite: a duplicate must not spoil an enclosing transaction
            BlacklistedToken.objects.create(
                jti=token[api_settings.JTI_CLAIM],
                user=user,
                expires_at=datetime.fromtimestamp(token["exp"], tz=UTC),
            )
    except IntegrityError:
        return False
    return True


def _verified_refresh(raw: str) -> tuple[RefreshToken, User]:
    token = RefreshToken(raw)  # signature, expiry and type; raises TokenError
    user = _user_of(token)
    reason = token_refusal(token=token, user=user)
    if reason:
        raise TokenError(reason)
    return token, user


def refresh_tokens(*, refresh: str) -> dict[str, str]:
    """A new access token and a new refresh token for a valid refresh token, which is spent.

    Raises: TokenError (malformed, expired, spent or revoked: see `token_refusal`).
    """
    token, user = _verified_refresh(refresh)
    if not _blacklist(token=token, user=user):
        raise TokenError("This refresh token was already used or given up at logout.")
    return issue_tokens(user=user)


def log_out(*, refresh: str) -> None:
    """Blacklists a refresh token, so it can never mint an access token again; a spent one is left as it is.

    Raises: TokenError (malformed, expired, or revoked already).
    """
    token, user = _verified_refresh(refresh)
    _blacklist(token=token, user=user)


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's bearer authentication, refusing tokens by `token_refusal`."""

    def get_user(self, validated_token: Token) -> User:
        if api_settings.USER_ID_CLAIM not in validated_token:
            raise InvalidToken(_("Token contained no recognizable user identification"))
        user = _user_of(validated_token)
        reason = token_refusal(token=validated_token, user=user)
        if reason == SecondFactorSetupRequired.message:
            raise SecondFactorSetupRequired()  # 403 with its code, as the API login answers
        if reason:
            raise AuthenticationFailed(reason, code="token_revoked")
        return user


class JWTAuthenticationScheme(SimpleJWTScheme):
    """The schema's `jwtAuth` bearer scheme for our subclass (drf-spectacular matches exact classes)."""

    target_class = "accounts.tokens.JWTAuthentication"
