"""Issue 14's cleanup: "is this user staff or a seller" is decided once, by the user model's properties, and the API's
permissions, the admin's scoping, the 2FA rule and the audit trail all read them."""

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from audit.services import is_audited
from shop.api import has_back_office_access, is_shop_staff

# (is_staff, is_superuser, is_seller) -> (is_shop_staff, is_scoped_seller, has_back_office_access, role)
ROLES = [
    ((False, False, False), (False, False, False, "shopper")),
    ((True, False, True), (False, True, True, "seller")),  # a seller: Django's is_staff only opens the admin
    ((False, False, True), (False, True, True, "seller")),
    ((True, False, False), (True, False, True, "staff")),
    ((False, True, False), (True, False, True, "staff")),
    ((True, True, True), (True, False, True, "staff")),  # a superuser who also sells sees everything
]


@pytest.mark.parametrize(("flags", "expected"), ROLES)
def test_the_user_model_decides_who_is_staff_or_a_seller(flags, expected):
    is_staff, is_superuser, is_seller = flags
    user = User(email="x@example.com", is_staff=is_staff, is_superuser=is_superuser, is_seller=is_seller)

    assert (user.is_shop_staff, user.is_scoped_seller, user.has_back_office_access, user.role) == expected
    # Below accounts in the layers, the same answers are read off the user.
    assert (is_shop_staff(user), has_back_office_access(user), is_audited(actor=user)) == (
        expected[0],
        expected[2],
        expected[2],
    )


def test_an_anonymous_visitor_is_neither():
    visitor = AnonymousUser()
    assert (is_shop_staff(visitor), has_back_office_access(visitor), is_audited(actor=visitor)) == (False,) * 3
    assert (is_shop_staff(None), has_back_office_access(None), is_audited(actor=None)) == (False,) * 3
