"""Each order has a timeline: every change records its event in the same unit of work (a crash before the commit
leaves neither the change nor the event nor its email), staff see all of it in the admin with who and the details,
and the buyer sees only their part (page and API)."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, OrderEvent, OrderStatus
from orders.services import (
    cancel_order,
    clear_flag,
    expire_order,
    flag_order,
    mark_delivered,
    mark_order_paid,
    mark_refunded,
    mark_shipped,
)
from payments.exceptions import PaymentGatewayError
from payments.gateways import DemoGateway
from payments.services import refund_payment
from shop.models import OutboxMessage
from tests.conftest import Crash
from tests.factories import UserFactory
from tests.orders.helpers import PARCEL, place
from tests.payments.conftest import demo_paid

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:orders_order_changelist")


def kinds(order: Order) -> list[str]:
    return list(
        OrderEvent.objects.filter(order_id=order.pk).order_by("created_at", "pk").values_list("kind", flat=True)
    )


def event(order: Order, kind: str) -> OrderEvent:
    return OrderEvent.objects.get(order_id=order.pk, kind=kind)


@pytest.fixture
def sam():
    return UserFactory(first_name="Sam", last_name="Staff", is_staff=True, is_superuser=True)


def test_an_order_life_is_recorded_step_by_step_with_who_and_the_details(user, item, sam):
    order = demo_paid(user, (item, 2))
    mark_shipped(order=order, actor=sam, **PARCEL)
    mark_delivered(order=order, actor=sam)

    assert kinds(order) == ["placed", "payment_started", "paid", "email_sent", "shipped", "email_sent", "delivered"]
    placed = event(order, "placed")
    assert placed.actor == user and placed.actor_name == "Ann Buyer" and placed.data == {"total_minor": 2500}
    started = event(order, "payment_started")
    assert started.actor is None and started.data["gateway"] == "demo" and started.data["attempt"] == 1
    assert event(order, "paid").data["reference"]  # the gateway's payment reference
    shipped = event(order, "shipped")
    assert (shipped.actor, shipped.actor_name, shipped.data) == (sam, "Sam Staff", PARCEL)
    assert event(order, "delivered").actor_name == "Sam Staff"
    sent = OrderEvent.objects.filter(order_id=order.pk, kind="email_sent").order_by("created_at", "pk")
    assert [e.data["email"] for e in sent] == ["order_paid", "order_shipped"]
    assert sent[0].data["to"] == [user.email]
    order.refresh_from_db()
    assert (order.carrier, order.tracking_number) == (PARCEL["carrier"], PARCEL["tracking_number"])


def test_the_actor_name_outlives_the_actor(user, item):
    clerk = UserFactory(first_name="Kim", last_name="Clerk", is_staff=True)
    order = place(user, (item, 1))
    cancel_order(order=order, actor=clerk)
    clerk.delete()

    cancelled = event(order, "cancelled")
    assert cancelled.actor is None and cancelled.actor_name == "Kim Clerk"


def test_cancel_and_expiry_are_recorded_by_their_actor_or_the_shop(user, item):
    by_buyer, by_clock = place(user, (item, 1)), place(user, (item, 1))
    cancel_order(order=by_buyer, actor=user)
    expire_order(order=by_clock)

    assert event(by_buyer, "cancelled").actor == user
    expired = event(by_clock, "expired")
    assert expired.actor is None and expired.actor_name == ""


def test_refunds_record_the_request_the_money_and_who_asked(user, item, sam):
    order = demo_paid(user, (item, 2))
    first_line = order.lines.get()

    refund_payment(order=order, actor=sam, lines=[(first_line.pk, 1)], note="scratched")
    refund_payment(order=Order.objects.get(pk=order.pk), actor=sam, in_full=True)

    requested = OrderEvent.objects.filter(order_id=order.pk, kind="refund_requested").order_by("created_at", "pk")
    refunded = OrderEvent.objects.filter(order_id=order.pk, kind="refunded").order_by("created_at", "pk")
    assert [e.data["amount_minor"] for e in requested] == [1250, 1250]
    assert [(e.data["amount_minor"], e.actor_name) for e in refunded] == [(1250, "Sam Staff"), (1250, "Sam Staff")]
    assert requested[0].data["note"] == "scratched"


def test_a_refund_the_gateway_refuses_records_the_failure_and_the_flag(user, item, sam, monkeypatch):
    order = demo_paid(user, (item, 2))

    def refuse(self, **kwargs):
        raise PaymentGatewayError(retryable=False, detail="card closed")

    monkeypatch.setattr(DemoGateway, "refund", refuse)
    with pytest.raises(PaymentGatewayError):
        refund_payment(order=order, actor=sam, amount_minor=500)

    assert kinds(order)[-3:] == ["refund_requested", "refund_failed", "flagged"]
    assert event(order, "refund_failed").data["reason"] == "card closed"
    assert "refunded" not in kinds(order)


def test_a_full_refund_reported_by_the_gateway_is_recorded_with_its_amount(user, item):
    order = mark_refunded(order=demo_paid(user, (item, 2)))

    assert event(order, "refunded").data["amount_minor"] == 2500 and event(order, "refunded").actor is None


def test_flags_and_their_clearing_are_recorded(user, item, sam):
    order = flag_order(order=place(user, (item, 1)), reason="Paid twice")
    clear_flag(order=order, actor=sam)

    assert kinds(order)[-2:] == ["flagged", "flag_cleared"]
    assert event(order, "flagged").data == {"reason": "Paid twice"}
    assert event(order, "flag_cleared").actor_name == "Sam Staff"


def test_a_crash_after_shipping_but_before_commit_records_no_event_and_no_email(user, item, sam, crash_at):
    order = demo_paid(user, (item, 2))
    mail.outbox.clear()
    crash_at("mark_shipped.status_changed")

    with pytest.raises(Crash):
        mark_shipped(order=order, actor=sam, **PARCEL)

    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.carrier, stored.tracking_number) == (OrderStatus.PAID, "", "")
    assert "shipped" not in kinds(order)
    assert not mail.outbox and not OutboxMessage.objects.filter(payload__email="order_shipped").exists()


def test_a_crash_after_cancelling_but_before_commit_records_no_event_and_no_email(user, item, crash_at):
    order = place(user, (item, 1))
    crash_at("cancel_order.status_changed")

    with pytest.raises(Crash):
        cancel_order(order=order, actor=user)

    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT
    assert kinds(order) == ["placed"] and not mail.outbox


def test_a_crash_after_a_refund_completed_but_before_commit_records_no_refund(user, item, sam, crash_at):
    order = demo_paid(user, (item, 2))
    mail.outbox.clear()
    crash_at("complete_refund.recorded")

    with pytest.raises(Crash):
        refund_payment(order=order, actor=sam, amount_minor=500)

    assert "refunded" not in kinds(order) and not mail.outbox
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert order.refunds.get().status == "pending"  # under way: the worker finishes it, and records it then


def test_a_crash_after_placing_records_no_placed_event(user, item, crash_at):
    crash_at("place_order.lines_inserted")
    with pytest.raises(Crash):
        place(user, (item, 1))
    assert not OrderEvent.objects.exists()


# -- the admin ---------------------------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, sam):
    client.force_login(sam)
    return client


def ship_post(client, orders, **fields):
    data = {"action": "mark_shipped", "_selected_action": [order.pk for order in orders], "ship": "yes", **fields}
    return client.post(CHANGELIST, data)


def test_the_admin_ship_form_asks_for_carrier_and_tracking(staff_client, user, item):
    order = demo_paid(user, (item, 2))

    page = staff_client.post(CHANGELIST, {"action": "mark_shipped", "_selected_action": [order.pk]})
    assert page.status_code == 200 and 'name="carrier"' in page.content.decode()
    assert f'name="tracking_{order.pk}"' in page.content.decode()

    for fields in ({"carrier": "", f"tracking_{order.pk}": "T1"}, {"carrier": "DHL", f"tracking_{order.pk}": " "}):
        response = ship_post(staff_client, [order], **fields)
        assert response.status_code == 200 and response.context["form"].errors
        assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert "Enter the carrier that takes the parcels." in str(ship_post(staff_client, [order]).content)
    assert "shipped" not in kinds(order)

    response = ship_post(staff_client, [order], carrier="DHL", **{f"tracking_{order.pk}": "T1"})
    assert response.status_code == 302
    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.carrier, stored.tracking_number) == (OrderStatus.SHIPPED, "DHL", "T1")
    assert event(order, "shipped").actor_name == "Sam Staff"


def test_shipping_several_orders_takes_one_carrier_and_a_tracking_number_each(staff_client, user, item):
    first, second = demo_paid(user, (item, 2)), demo_paid(user, (item, 2))

    ship_post(
        staff_client, [first, second], carrier="UPS", **{f"tracking_{first.pk}": "A1", f"tracking_{second.pk}": "B2"}
    )

    assert {o.number: (o.carrier, o.tracking_number) for o in Order.objects.filter(status="shipped")} == {
        first.number: ("UPS", "A1"),
        second.number: ("UPS", "B2"),
    }


def test_the_order_admin_shows_the_timeline_with_actor_and_details(staff_client, user, item, sam):
    order = demo_paid(user, (item, 2))
    mark_shipped(order=order, actor=sam, carrier="DHL", tracking_number="JJD000390007")
    flag_order(order=order, reason="Address looks odd")

    html = staff_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()

    assert "Timeline" in html or "timeline" in html
    assert "Sam Staff" in html and "JJD000390007" in html and "Address looks odd" in html
    assert "Email sent" in html and "Payment started" in html and "total: €25.00" in html


# -- the buyer ---------------------------------------------------------------------------------------------------


def test_the_buyer_page_shows_the_visible_events_only(client, user, item, sam, monkeypatch):
    order = demo_paid(user, (item, 2))
    mark_shipped(order=order, actor=sam, carrier="DHL", tracking_number="JJD000390007")
    flag_order(order=order, reason="Address looks odd")
    refund_payment(order=Order.objects.get(pk=order.pk), actor=sam, amount_minor=300)
    client.force_login(user)

    html = client.get(order.get_absolute_url()).content.decode()

    assert "Order placed" in html and "Shipped with DHL, tracking number JJD000390007" in html
    assert "Refunded €3.00" in html
    for hidden in ("Sam Staff", "Address looks odd", "Flagged", "Email sent", "Payment started", "Refund requested"):
        assert hidden not in html


def test_the_order_json_carries_the_buyer_timeline(user, item, sam):
    from rest_framework.test import APIClient

    order = demo_paid(user, (item, 2))
    mark_shipped(order=order, actor=sam, carrier="DHL", tracking_number="T9")
    flag_order(order=order, reason="odd")
    api = APIClient()
    api.force_authenticate(user)

    timeline = api.get(f"/api/orders/{order.pk}").json()["timeline"]

    assert [entry["kind"] for entry in timeline] == ["placed", "paid", "shipped"]
    shipped = timeline[-1]
    assert (shipped["carrier"], shipped["tracking_number"], shipped["amount"]) == ("DHL", "T9", None)
    assert shipped["label"] == "Shipped" and "actor" not in shipped


def test_staff_ship_over_the_api_needs_carrier_and_tracking(user, item, sam):
    from rest_framework.test import APIClient

    order = demo_paid(user, (item, 2))
    api = APIClient()
    api.force_authenticate(sam)
    url = f"/api/orders/{order.pk}"

    refused = api.patch(url, {"status": "shipped", "carrier": "DHL"}, format="json")
    assert refused.status_code == 400 and "tracking_number" in refused.json()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID and "shipped" not in kinds(order)

    shipped = api.patch(url, {"status": "shipped", "carrier": "DHL", "tracking_number": "T1"}, format="json")
    assert shipped.status_code == 200
    assert (shipped.json()["carrier"], shipped.json()["tracking_number"]) == ("DHL", "T1")
    assert event(order, "shipped").actor == sam


def test_the_paid_path_records_the_paid_event_once(user, item):
    order = demo_paid(user, (item, 2))
    mark_order_paid(order=order)  # a replay changes nothing
    assert kinds(order).count("paid") == 1


def test_orders_from_before_the_timeline_get_one_from_their_timestamps(user, item):
    import importlib

    from django.apps import apps

    backfill = importlib.import_module("orders.migrations.0008_backfill_timelines").backfill_timelines
    old = demo_paid(user, (item, 2))
    mark_shipped(order=old, **PARCEL)
    OrderEvent.objects.all().delete()  # as before the timeline
    Order.objects.filter(pk=old.pk).update(refunded_minor=500, refunded_at=timezone.now())
    recorded = place(user, (item, 1))  # placed with the timeline: left alone

    backfill(apps, None)

    assert kinds(old) == ["placed", "paid", "shipped", "refunded"]
    assert event(old, "refunded").data == {"amount_minor": 500, "backfilled": True}
    assert event(old, "placed").created_at == Order.objects.get(pk=old.pk).created_at
    assert kinds(recorded) == ["placed"] and "backfilled" not in event(recorded, "placed").data


def test_staff_moving_an_order_goes_on_the_audit_trail_and_the_buyer_paying_does_not(staff_client, user, item, sam):
    from audit.models import AuditEntry

    order = demo_paid(user, (item, 2))
    entries = AuditEntry.objects.filter(model="orders.order", object_id=str(order.pk))
    assert not entries.exists()  # the buyer's own checkout and payment are no staff writes

    ship_post(staff_client, [order], carrier="DHL", **{f"tracking_{order.pk}": "T1"})

    [entry] = entries
    assert (entry.actor, entry.source, entry.action) == (sam, "admin", "update")
    assert entry.changes == {"status": ["paid", "shipped"], "carrier": ["", "DHL"], "tracking_number": ["", "T1"]}


def test_a_carrier_or_tracking_number_with_control_characters_is_refused_and_ships_nothing(user, item, sam):
    from django.core.exceptions import ValidationError

    order = demo_paid(user, (item, 2))
    with pytest.raises(ValidationError) as refused:
        mark_shipped(order=order, actor=sam, carrier="DHL\x1b[31m", tracking_number="T\u202e1")
    assert set(refused.value.message_dict) == {"carrier", "tracking_number"}
    assert "U+202E" in refused.value.message_dict["tracking_number"][0]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID and "shipped" not in kinds(order)

    mark_shipped(order=order, actor=sam, carrier=" DHL\n Express ", tracking_number="T1")
    assert Order.objects.get(pk=order.pk).carrier == "DHL Express"
