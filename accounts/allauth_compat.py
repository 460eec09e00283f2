"""allauth 65 turns user primary keys into URL strings with base 36 whenever the pk field is an
IntegerField. django-mongodb-backend's ObjectIdAutoField is one, but its values are 96-bit ObjectIds
(`int()` fails on them, and Django's base 36 helpers stop at 13 digits), so password-reset links and
the login stash would crash on MongoDB. There, the 24-hex ObjectId string is used as it is."""

import importlib

from django.contrib.auth import get_user_model

# Modules that import the two helpers by name, so each one's reference must be replaced.
_MODULES = [
    "allauth.account.utils",
    "allauth.account.models",
    "allauth.account.forms",
    "allauth.account.internal.flows.password_reset",
]


def user_pk_to_url_str(user) -> str:
    return str(user.pk)


def url_str_to_user_pk(pk_str: str):
    """The pk for a URL string; None when it is not an ObjectId, which finds no user."""
    from bson import ObjectId
    from bson.errors import InvalidId

    try:
        return get_user_model()._meta.pk.to_python(ObjectId(pk_str))
    except (InvalidId, TypeError):
        return None


def install() -> None:
    """Points allauth at the ObjectId-aware helpers (MongoDB only)."""
    for name in _MODULES:
        module = importlib.import_module(name)
        module.user_pk_to_url_str = user_pk_to_url_str
        module.url_str_to_user_pk = url_str_to_user_pk
