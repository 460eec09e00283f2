"""API clients for each kind of caller, authenticated with real JWTs. People are created only when a test asks."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import SellerFactory, UserFactory

CALLERS = ["anonymous", "buyer", "other_buyer", "seller", "other_seller", "staff"]


def bearer(user) -> str:
    return f"Bearer {RefreshToken.for_user(user).access_token}"


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=bearer(user))
    return client


class People:
    """buyer, other_buyer (shoppers), seller, other_seller (sellers), staff (not superuser), made on first use."""

    def __init__(self) -> None:
        self._made: dict = {}

    def __getattr__(self, role: str):
        if role.startswith("_") or role not in CALLERS[1:]:
            raise AttributeError(role)
        if role not in self._made:
            if role in ("seller", "other_seller"):
                self._made[role] = SellerFactory()
            elif role == "staff":
                self._made[role] = UserFactory(is_staff=True)
            else:
                self._made[role] = UserFactory()
        return self._made[role]

    def client(self, role: str) -> APIClient:
        return client_for(None if role == "anonymous" else getattr(self, role))


@pytest.fixture
def people(db) -> People:
    return People()


@pytest.fixture
def anon() -> APIClient:
    return APIClient()
