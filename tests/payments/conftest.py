import json

import pytest

from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe, sign_payload

WEBHOOK_URL = "/payments/stripe/webhook/"
SITE = "http://testserver/"


@pytest.fixture
def item(db):
    """10 in stock at 12.50."""
    return ItemFactory(stock=10, price_minor=1250)


@pytest.fixture
def fake_stripe(settings):
    """The real stripe library pointed at the fake Stripe server, without retries."""
    with FakeStripe() as fake:
        settings.STRIPE_SECRET_KEY = "sk_test_shop"
        settings.STRIPE_API_BASE = fake.base_url
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        settings.STRIPE_TIMEOUT_SECONDS = 5
        yield fake


def post_event(client, event: dict, *, secret: str = "whsec_test_secret", timestamp: int | None = None, header=None):
    """POSTs the event to the webhook, signed over the exact bytes sent (or with the given header)."""
    payload = json.dumps(event)
    signature = sign_payload(payload, secret, timestamp=timestamp) if header is None else header
    extra = {"HTTP_STRIPE_SIGNATURE": signature} if signature else {}
    return client.post(WEBHOOK_URL, data=payload, content_type="application/json", **extra)


def demo_paid(user, *lines, **choices):
    """An order of `lines` ((item, quantity), ...) placed by `user` and paid through the demo gateway, as read back."""
    from orders.models import Order
    from payments.services import pay_demo_session, start_payment
    from tests.orders.helpers import place

    payment = start_payment(order=place(user, *lines, **choices), site_url=SITE)
    pay_demo_session(session_id=payment.session_id)
    return Order.objects.get(pk=payment.order_id)
