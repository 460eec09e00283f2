from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from orders.models import Order, OrderStatus
from payments.models import PaymentStatus
from payments.services import start_payment
from tests.orders.helpers import place, stock_of
from tests.payments.conftest import SITE

pytestmark = pytest.mark.django_db


def age(order, minutes: int) -> None:
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))


def test_expire_orders_expires_stale_unpaid_orders_and_releases_stock(user, item, capsys):
    stale = place(user, (item, 3))
    start_payment(order=stale, site_url=SITE)  # an open demo session
    fresh = place(user, (item, 2))
    age(stale, 61)

    call_command("expire_orders")

    out = capsys.readouterr().out
    assert f"{stale.number}: expired" in out and "Expired 1 order(s)" in out
    assert Order.objects.get(pk=stale.pk).status == OrderStatus.EXPIRED
    assert Order.objects.get(pk=fresh.pk).status == OrderStatus.PENDING_PAYMENT
    assert stock_of(item) == 8
    call_command("expire_orders", "--minutes", "1")  # a second run: the stale one is done, the fresh one too young
    assert stock_of(item) == 8 and Order.objects.get(pk=fresh.pk).status == OrderStatus.PENDING_PAYMENT


def test_expire_orders_expires_the_stripe_session_and_fulfils_one_paid_meanwhile(user, item, fake_stripe, capsys):
    unpaid = place(user, (item, 1))
    unpaid_payment = start_payment(order=unpaid, site_url=SITE)
    paid = place(user, (item, 1))
    paid_payment = start_payment(order=paid, site_url=SITE)
    fake_stripe.complete_session(paid_payment.session_id)  # the webhook has not arrived yet
    age(unpaid, 90)
    age(paid, 90)

    call_command("expire_orders", "--minutes", "60")

    assert fake_stripe.requests_to(f"/v1/checkout/sessions/{unpaid_payment.session_id}/expire", "POST")
    assert fake_stripe.sessions[unpaid_payment.session_id]["status"] == "expired"
    unpaid_payment.refresh_from_db()
    assert unpaid_payment.status == PaymentStatus.EXPIRED
    assert Order.objects.get(pk=unpaid.pk).status == OrderStatus.EXPIRED
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.PAID
    assert stock_of(item) == 9
    assert f"{paid.number}: skipped: now paid" in capsys.readouterr().out


def test_expire_orders_fails_clearly_when_stripe_is_down_and_keeps_the_order(user, item, fake_stripe):
    order = place(user, (item, 1))
    start_payment(order=order, site_url=SITE)
    age(order, 61)
    fake_stripe.fail_next(status=500)

    with pytest.raises(CommandError, match=f"Could not expire 1 order.*{order.number}"):
        call_command("expire_orders")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT and stock_of(item) == 9


def test_expire_orders_refuses_a_bad_age(db):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("expire_orders", "--minutes", "0")


def test_one_order_whose_expiry_breaks_does_not_hold_back_the_others(user, item, monkeypatch):
    from payments import services
    from payments.services import expire_stale_orders

    broken, fine = place(user, (item, 1)), place(user, (item, 2))
    age(broken, 61)
    age(fine, 61)
    expire_one = services._expire_one

    def breaks_on_the_first(order):
        if order.pk == broken.pk:
            raise RuntimeError("a row nobody expected")
        return expire_one(order)

    monkeypatch.setattr(services, "_expire_one", breaks_on_the_first)
    report = expire_stale_orders(older_than=timedelta(minutes=60))
    assert report.expired == [fine.number]
    assert report.failed == [(broken.number, "failed: RuntimeError: a row nobody expected")]
    assert Order.objects.get(pk=broken.pk).status == OrderStatus.PENDING_PAYMENT and stock_of(item) == 9
