"""The probe's finding 5 (issue 14): the payment provider's own words stay in the log, for staff."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_payment_providers_own_error_never_reaches_the_buyer(user, fake_stripe, caplog):
    """Finding 5: `POST /api/orders/<id>/pay` while Stripe refuses the key answered with Stripe's text, naming the
    key. The buyer gets the generic message; the log keeps Stripe's words for staff."""
    from rest_framework.test import APIClient

    from tests.factories import ItemFactory
    from tests.orders.helpers import place

    order = place(user, (ItemFactory(stock=3, price_minor=1000), 1))
    fake_stripe.fail_next(
        status=401, error_type="invalid_request_error", message="Invalid API Key provided: sk_test_****1234"
    )
    api = APIClient()
    api.force_authenticate(user)

    response = api.post(f"/api/orders/{order.pk}/pay")

    assert response.status_code in (502, 503)
    assert "sk_test" not in response.content.decode() and "Invalid API Key" not in response.content.decode()
    assert response.json()["message"].startswith("We could not reach the payment provider")
    assert any("Invalid API Key" in record.getMessage() for record in caplog.records)
