"""The authentication backends of the shop: Django's and allauth's, reading the signed-in user without a query on
every request (`accounts.selectors.signed_in_user`). Everything else (passwords, permissions) is theirs."""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend

from accounts.selectors import signed_in_user


class SignedInUserMixin:
    def get_user(self, user_id):
        user = signed_in_user(user_id=user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(SignedInUserMixin, DjangoModelBackend):
    pass


class AuthenticationBackend(SignedInUserMixin, AllauthBackend):
    pass
