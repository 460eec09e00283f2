"""Property-based checks of the whole API against its own OpenAPI schema, with a signed-in staff caller: no 5xx, and
every status, content type and body is one the schema documents."""

import pytest
import schemathesis
from django.conf import settings as django_settings
from hypothesis import HealthCheck, settings

from shop.wsgi import application
from tests.api.conftest import bearer
from tests.factories import ItemFactory, UserFactory

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]
# The MongoDB test server is slow per request: fewer examples there, still every operation.
MAX_EXAMPLES = 2 if django_settings.USE_MONGODB else 5


# Generating the schema reads no database, so it can be loaded while tests are collected.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def staff_header(db) -> dict:
    ItemFactory()  # something to find, order and refer to
    return {"Authorization": bearer(UserFactory(is_staff=True))}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema(case, staff_header):
    case.call_and_validate(headers=staff_header, checks=CHECKS)
