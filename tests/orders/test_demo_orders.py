from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from orders.demo import SHOPPER_EMAILS, demo_orders
from orders.models import OrderEvent, OrderStatus
from orders.services import ORDER_EMAIL, check_stock
from payments.models import Payment, PaymentStatus
from shop.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_catalog(settings):
    """The demo catalog, logins and prices, without orders."""
    settings.DEBUG = True
    call_command("load_demo", "--items", "20", "--orders", "0", stdout=StringIO())


def load_orders(count: int) -> str:
    out = StringIO()
    call_command("load_orders_demo", "--orders", str(count), stdout=out)
    return out.getvalue()


def test_demo_orders_show_every_status_each_with_its_timeline_spread_over_the_past(demo_catalog):
    out = load_orders(16)

    orders = list(demo_orders().prefetch_related("events"))
    assert len(orders) == 16 and "16 created" in out
    assert {order.status for order in orders} == set(OrderStatus.values)
    now = timezone.now()
    assert all(now - timedelta(days=61) < order.created_at < now for order in orders)
    assert max(order.created_at for order in orders) - min(order.created_at for order in orders) > timedelta(days=7)
    for order in orders:
        events = list(order.events.all())
        assert events[0].kind == "placed" and events[0].created_at == order.created_at
        assert all(event.created_at <= now for event in events)
        assert [event.created_at for event in events] == sorted(event.created_at for event in events)
        if order.paid_at:
            assert order.paid_at > order.created_at and any(event.kind == "paid" for event in events)
            payment = Payment.objects.get(order=order)
            assert payment.gateway == "demo" and payment.amount_refunded_minor == order.refunded_minor
            assert payment.status == (PaymentStatus.REFUNDED if order.status == "refunded" else PaymentStatus.PAID)
        if order.shipped_at:
            shipped = next(event for event in events if event.kind == "shipped")
            assert order.carrier and order.tracking_number and shipped.actor.email == "admin@example.com"
            assert shipped.data == {"carrier": order.carrier, "tracking_number": order.tracking_number}
            assert order.shipped_at > order.paid_at
    assert {order.email for order in orders} & set(SHOPPER_EMAILS)
    assert any(order.buyer_id is None for order in orders)  # guests bought too


def test_demo_orders_leave_stock_matching_the_ledger_and_send_no_emails(demo_catalog):
    load_orders(16)

    assert check_stock().clean
    call_command("check_stock", stdout=StringIO())  # exits 1 (CommandError) on any difference
    assert not OutboxMessage.objects.filter(topic=ORDER_EMAIL).exists()
    assert mail.outbox == []


def test_dashboard_shows_the_demo_revenue(demo_catalog, client):
    load_orders(16)
    client.force_login(User.objects.get(email="admin@example.com"))

    response = client.get(reverse("dashboard:index"))

    assert response.status_code == 200
    assert response.context["revenue"].gross_minor > 0


def test_second_run_adds_nothing(demo_catalog):
    load_orders(10)
    counts = (demo_orders().count(), OrderEvent.objects.count(), Payment.objects.count(), User.objects.count())

    out = load_orders(10)

    assert "already there" in out
    assert (demo_orders().count(), OrderEvent.objects.count(), Payment.objects.count(), User.objects.count()) == counts


def test_demo_shoppers_log_in_with_the_demo_password(demo_catalog):
    load_orders(0)

    assert not demo_orders().exists()
    shoppers = User.objects.filter(email__in=SHOPPER_EMAILS)
    assert shoppers.count() == 20
    assert all(shopper.check_password("demo12345") and shopper.first_name for shopper in shoppers)


def test_load_demo_places_the_asked_number_of_orders_and_refuses_a_negative_one(settings):
    settings.DEBUG = True
    call_command("load_demo", "--items", "12", "--orders", "4", stdout=StringIO())
    assert demo_orders().count() == 4

    with pytest.raises(CommandError, match="zero or more"):
        call_command("load_orders_demo", "--orders", "-1", stdout=StringIO())
    with pytest.raises(CommandError, match="zero or more"):
        call_command("load_demo", "--orders", "-1", stdout=StringIO())
