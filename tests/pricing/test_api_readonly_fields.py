"""Issue 14, "Also seen", for discount codes: the API refused `id`, `used_count` and `created_at` outright
("Read-only."), so a code read from the API could not be sent back as it was. They are now ignored when they equal the
code's own values (a new code's `used_count` is 0) and refused, naming the field, when they differ."""

import pytest

from pricing.models import DiscountCode
from tests.api.conftest import People
from tests.orders.helpers import place

pytestmark = pytest.mark.django_db

CODES = "/api/discount-codes"


@pytest.fixture
def people(db) -> People:
    return People()


@pytest.fixture
def welcome(db) -> DiscountCode:
    return DiscountCode.objects.create(code="WELCOME10", kind="percent", value=10)


def test_a_code_read_and_sent_back_whole_with_put_is_accepted_and_its_read_only_fields_ignored(people, welcome):
    staff = people.client("staff")
    read = staff.get(f"{CODES}/{welcome.pk}").json()
    assert {"id", "used_count", "created_at"} <= set(read)

    response = staff.put(f"{CODES}/{welcome.pk}", {**read, "value": 15}, format="json")

    assert response.status_code == 200, response.json()
    welcome.refresh_from_db()
    assert (welcome.value, welcome.used_count) == (15, 0)
    assert response.json()["created_at"] == read["created_at"]


def test_a_patch_with_the_stored_used_count_of_a_used_code_is_accepted(people, welcome, make_item):
    place(people.buyer, (make_item(stock=5), 1), discount_code="WELCOME10")
    staff = people.client("staff")
    read = staff.get(f"{CODES}/{welcome.pk}").json()
    assert read["used_count"] == 1

    response = staff.patch(
        f"{CODES}/{welcome.pk}", {"id": read["id"], "used_count": 1, "is_active": False}, format="json"
    )

    assert response.status_code == 200, response.json()
    welcome.refresh_from_db()
    assert (welcome.is_active, welcome.used_count) == (False, 1)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("used_count", 5, "used_count is read-only: it is 0 here, so leave it out or send that value."),
        ("id", "999999", "id is read-only: it is"),
        ("created_at", "2020-01-01T00:00:00Z", "created_at is read-only: it is"),
    ],
)
def test_a_different_read_only_value_is_refused_naming_the_field_and_nothing_changes(
    people, welcome, field, value, message
):
    response = people.client("staff").patch(f"{CODES}/{welcome.pk}", {"value": 20, field: value}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field] and response.json()[field][0].startswith(message)
    welcome.refresh_from_db()
    assert (welcome.value, welcome.used_count) == (10, 0)


def test_a_new_code_may_carry_a_zero_used_count_and_no_id_but_not_another_count_or_an_id(people):
    staff = people.client("staff")

    created = staff.post(
        CODES, {"code": "SPRING", "kind": "percent", "value": 5, "used_count": 0, "id": None}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert DiscountCode.objects.get(code="SPRING").used_count == 0

    refused = staff.post(
        CODES, {"code": "AUTUMN", "kind": "percent", "value": 5, "used_count": 3, "id": "12"}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json() == {
        "id": ["id is read-only and set by the shop: leave it out."],
        "used_count": ["used_count is read-only: it is 0 here, so leave it out or send that value."],
    }
    assert not DiscountCode.objects.filter(code="AUTUMN").exists()
