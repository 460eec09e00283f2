"""Reads on accounts."""

from accounts.models import User, normalize_email


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
