"""Reads on accounts."""

from accounts.models import User, normalize_email


def user_by_email(*, email: str) -> User | None:
    """The user with this email in any letter case, or None."""
    return User.objects.filter(email=normalize_email(email)).first()
