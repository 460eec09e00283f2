# Gives the orders placed before the timeline began the events their timestamps tell: placed, paid, shipped,
# delivered, cancelled or expired, refunded (what was refunded in all). Who did it was not recorded then, so the events
# name no one; each says it was filled in afterwards. Orders that already have events are left alone.
# The same operation is in mongo_migrations/orders/0008_backfill_timelines.py: keep the two identical.

from django.db import migrations

BACKFILLED = {"backfilled": True}


def backfill_timelines(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    OrderEvent = apps.get_model("orders", "OrderEvent")
    with_events = set(OrderEvent.objects.values_list("order_id", flat=True).distinct())
    events = []
    for order in Order.objects.order_by("created_at").iterator(chunk_size=1000):
        if order.pk in with_events:
            continue
        steps = [("placed", order.created_at, {"total_minor": order.total_minor})]
        steps += [(kind, getattr(order, f"{kind}_at"), {}) for kind in ("paid", "shipped", "delivered")]
        if order.status in ("cancelled", "expired"):
            steps.append((order.status, order.closed_at, {}))
        if order.refunded_minor and order.refunded_at:
            steps.append(("refunded", order.refunded_at, {"amount_minor": order.refunded_minor}))
        events += [
            OrderEvent(order_id=order.pk, kind=kind, created_at=at, data={**data, **BACKFILLED})
            for kind, at, data in steps
            if at is not None
        ]
        if len(events) >= 1000:
            OrderEvent.objects.bulk_create(events)
            events = []
    OrderEvent.objects.bulk_create(events)


def forget_backfilled(apps, schema_editor):
    apps.get_model("orders", "OrderEvent").objects.filter(data__backfilled=True).delete()


class Migration(migrations.Migration):
    dependencies = [("orders", "0007_order_timeline")]

    operations = [migrations.RunPython(backfill_timelines, forget_backfilled)]
