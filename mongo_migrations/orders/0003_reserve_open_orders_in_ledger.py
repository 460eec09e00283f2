# Gives the orders open when the stock ledger began their reservation moves: each unit such an order holds is
# recorded as stock the item had (an opening move) and then reserved by that order, so that `check_stock` finds the
# units held by every order in the ledger. Orders closed by then hold nothing and need no move.
# The same operation is in orders/migrations/0003_reserve_open_orders_in_ledger.py: keep the two identical.

from django.db import migrations

CLOSED = ("cancelled", "expired")
NOTE = "held by an order when the ledger began"


def reserve_open_orders(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    OrderLine = apps.get_model("orders", "OrderLine")
    StockMove = apps.get_model("catalog", "StockMove")
    numbers = dict(Order.objects.exclude(status__in=CLOSED).values_list("pk", "number"))
    moves = []
    lines = OrderLine.objects.filter(order_id__in=list(numbers), item_id__isnull=False)
    for order_id, item_id, quantity in lines.values_list("order_id", "item_id", "quantity").iterator():
        moves.append(StockMove(item_id=item_id, delta=quantity, reason="opening", note=NOTE))
        moves.append(
            StockMove(item_id=item_id, delta=-quantity, reason="reserved", order_number=numbers[order_id], note=NOTE)
        )
    StockMove.objects.bulk_create(moves, batch_size=1000)


def unreserve_open_orders(apps, schema_editor):
    apps.get_model("catalog", "StockMove").objects.filter(note=NOTE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_order_restocked_at"),
        ("catalog", "0006_open_stock_ledger"),
    ]

    operations = [
        migrations.RunPython(reserve_open_orders, unreserve_open_orders),
    ]
