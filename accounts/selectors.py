"""Reads on accounts."""

import functools
import pickle
from time import monotonic

from allauth.account.models import EmailAddress
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Address, User, normalize_email
from accounts.signals import personal_data_requested
from shop.fragments import version_token
from shop.moments import iso_moment


def user_by_email(*, email: str) -> User | None:
    """The user with this email in any letter case, or None."""
    return User.objects.filter(email=normalize_email(email)).first()


def may_manage(*, actor: User, user: User) -> bool:
    """Whether `actor` may change `user`'s account (profile, email, roles, password, second factor, erasure): their
    own; any for a superuser; for other staff, shoppers' and sellers' only. An email or password set by a peer would
    hand them that account (a password reset goes to the new address), so staff accounts are a superuser's to manage.
    """
    return actor.pk == user.pk or actor.is_superuser or (actor.is_shop_staff and not user.is_shop_staff)


def user_by_id(*, user_id: object) -> User | None:
    """The user with this primary key (active or not), or None. The id must be in the backend's form (the API's path
    converter sees to that)."""
    return User.objects.filter(pk=user_id).first() if user_id else None


def user_version_key(*, user_id: object) -> str:
    """Where the version token of a user's row lives in the cache (`accounts.receivers` replaces it)."""
    return f"user:version:{user_id}"


def signed_in_user(*, user_id: object) -> User | None:
    """The user behind a session or an API token (active or not; the caller decides), or None: `user_by_id`, without
    a query on every request.

    Each process keeps the rows it read under the user's version token in the shared cache, read *before* the row.
    Every write to the user (a save, a deletion, a queryset update: `accounts.receivers`) replaces that token after
    it commits, so a deactivation, a password change or a deletion is seen by the next request of every process.
    Without a shared cache (`settings.CACHE_IS_SHARED`), or when the cache does not answer, every call reads the
    database. And no row is kept longer than USER_ROW_MAX_AGE seconds, whatever happened to the token (a write the
    cache refused waits for the outbox's retry; a change made past the ORM sends no signal). Each call answers a new
    instance: nothing one request sets on its user reaches another.
    """
    if not user_id:
        return None
    token = version_token(user_version_key(user_id=user_id)) if settings.CACHE_IS_SHARED else None
    if token is None:
        return user_by_id(user_id=user_id)
    period = int(monotonic() // USER_ROW_MAX_AGE)
    return pickle.loads(_user_row(str(user_id), token, period))  # noqa: S301 (our own bytes, never a client's)


USER_ROW_MAX_AGE = 60


@functools.lru_cache(maxsize=4096)
def _user_row(user_id: str, token: str, period: int) -> bytes:
    """The user's row as read under `token` in `period` (the rows of older tokens and periods age out, unused)."""
    return pickle.dumps(user_by_id(user_id=user_id))


def email_in_use(*, email: str, other_than: User | None = None) -> bool:
    """Whether another account holds this address: as its email, or as an address it confirmed. An address someone
    merely asked to change to (unconfirmed) holds nothing: the first to confirm it gets it."""
    email = normalize_email(email)
    other_pk = other_than.pk if other_than is not None else None
    users = User.objects.filter(email=email)
    addresses = EmailAddress.objects.filter(email=email, verified=True)
    if other_pk is not None:
        users, addresses = users.exclude(pk=other_pk), addresses.exclude(user_id=other_pk)
    return users.exists() or addresses.exists()


def verified_emails(*, user: User) -> list[str]:
    """The addresses the user proved they own (allauth's verified addresses), sorted."""
    return sorted(
        {
            normalize_email(e)
            for e in EmailAddress.objects.filter(user_id=user.pk, verified=True).values_list("email", flat=True)
        }
    )


def user_list():
    """Every user, by email then id (a stable order for pages)."""
    return User.objects.order_by("email", "pk")


def _addresses_of(user) -> QuerySet[Address]:
    # Anonymous users have no pk; filtering on None would match nothing anyway, but say so without a query.
    if user is None or user.pk is None:
        return Address.objects.none()
    return Address.objects.filter(user_id=user.pk).order_by("-is_default", "-created_at", "-pk")


def _address_pk(address_id: object):
    """The id in the backend's primary key form, or None when it cannot be one (an int on SQLite, an ObjectId on
    MongoDB: "abc" is neither, and a 30-digit number would overflow SQLite)."""
    if address_id in (None, ""):
        return None
    pk_field = Address._meta.pk
    try:
        pk = pk_field.to_python(str(address_id))
        pk_field.run_validators(pk)
    except (ValidationError, TypeError, ValueError):
        return None
    return pk


def addresses_for(*, user: User) -> list[Address]:
    """The user's addresses, the default first, then the newest (one query); empty for an anonymous user."""
    return list(_addresses_of(user))


def default_address(*, user: User) -> Address | None:
    """The user's default address, or None when they have none."""
    return _addresses_of(user).first()


def address_for(*, user: User, address_id: object) -> Address | None:
    """The user's address with this id, or None: never another user's, and None for an unknown or malformed id."""
    pk = _address_pk(address_id)
    return _addresses_of(user).filter(pk=pk).first() if pk is not None else None


EXPORT_FORMAT = "shop-personal-data/1"


def _iso(value) -> str | None:
    return iso_moment(value)


def _optional_rows(*, user: User, app: str, app_label: str, model_name: str, fields: tuple[str, ...]) -> list[dict]:
    """The user's rows of a model of an optional app (allauth's MFA, social accounts), when it is installed."""
    if not apps.is_installed(app):
        return []
    rows = apps.get_model(app_label, model_name).objects.filter(user_id=user.pk).order_by("pk")
    return [
        {name: _iso(value) if hasattr(value, "isoformat") else value for name, value in zip(fields, row, strict=True)}
        for row in rows.values_list(*fields)
    ]


def export_personal_data(*, user: User) -> dict:
    """Everything the shop holds about the user, as JSON-ready data (GDPR "right of access"): the account, its email
    addresses, saved addresses, MFA authenticators and social accounts (their kind, never their secrets), and what
    the apps above add through `personal_data_requested` (orders with lines, payment state and refunds; the cart).
    Amounts are integers in minor units, times ISO 8601."""
    data = {
        "format": EXPORT_FORMAT,
        "exported_at": iso_moment(timezone.now()),
        "account": {
            "id": str(user.pk),
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "role": user.role,
            "is_active": user.is_active,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
        },
        "email_addresses": [
            {"email": row.email, "verified": row.verified, "primary": row.primary}
            for row in EmailAddress.objects.filter(user_id=user.pk).order_by("-primary", "email")
        ],
        "addresses": [
            {
                "name": address.name,
                "line1": address.line1,
                "line2": address.line2,
                "postal_code": address.postal_code,
                "city": address.city,
                "country": address.country,
                "is_default": address.is_default,
                "created_at": _iso(address.created_at),
            }
            for address in _addresses_of(user)
        ],
        "mfa_authenticators": _optional_rows(
            user=user, app="allauth.mfa", app_label="mfa", model_name="Authenticator", fields=("type", "created_at")
        ),
        "social_accounts": _optional_rows(
            user=user,
            app="allauth.socialaccount",
            app_label="socialaccount",
            model_name="SocialAccount",
            fields=("provider", "uid", "date_joined"),
        ),
    }
    for _receiver, sections in personal_data_requested.send(sender=User, user=user, emails=verified_emails(user=user)):
        data.update(sections or {})
    return data
