"""Issue 14, "Also seen", for users: `PUT/PATCH /api/users/<id>` refused a user's own `id` (and the other fields a
client reads but cannot write) as "Unknown field". They are read-only fields now: ignored when they equal the user's
representation given as `current`, refused with a message naming the field otherwise."""

import pytest

from accounts.api.serializers import UserOutputSerializer, UserUpdateInputSerializer
from tests.api.conftest import People
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_user_read_and_sent_back_is_accepted_with_its_read_only_fields_ignored():
    user = UserFactory(first_name="Ann", last_name="Buyer")
    read = UserOutputSerializer(user).data

    data = UserUpdateInputSerializer(data={**read, "first_name": "Anna"}, context={"current": read})

    assert data.is_valid(), data.errors
    assert data.validated_data == {"email": user.email, "first_name": "Anna", "last_name": "Buyer",
                                   "is_seller": False, "is_staff": False}  # fmt: skip


@pytest.mark.parametrize(("field", "value"), [("id", "999999"), ("role", "staff"), ("is_active", False)])
def test_a_different_read_only_value_is_refused_naming_the_field(field, value):
    read = UserOutputSerializer(UserFactory()).data

    data = UserUpdateInputSerializer(data={field: value}, partial=True, context={"current": read})

    assert not data.is_valid()
    assert list(data.errors) == [field] and str(data.errors[field][0]).startswith(f"{field} is read-only: it is")


def test_the_api_refuses_another_users_id_in_the_body_naming_the_field_and_changes_nothing():
    people = People()
    response = people.client("buyer").patch(
        f"/api/users/{people.buyer.pk}", {"id": "999999", "first_name": "Mallory"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["id"] and response.json()["id"][0].startswith("id is read-only")
    people.buyer.refresh_from_db()
    assert people.buyer.first_name != "Mallory"
