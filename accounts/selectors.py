"""Reads on accounts."""

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from accounts.models import Address, User, normalize_email


def user_by_email(*, email: str) -> User | None:
    """The user with this email in any letter case, or None."""
    return User.objects.filter(email=normalize_email(email)).first()


def user_by_id(*, user_id: object) -> User | None:
    """The user with this primary key (active or not), or None. The id must be in the backend's form (the API's path
    converter sees to that)."""
    return User.objects.filter(pk=user_id).first() if user_id else None


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
