# Starts the stock ledger: one opening move per item that has stock, so that every item's stock equals the sum of its
# moves from here on. Orders open at this moment hold no reservation moves yet; the orders app adds those.
# The same operation is in mongo_migrations/catalog/0006_open_stock_ledger.py: keep the two identical.

from django.db import migrations

BATCH_SIZE = 1000
NOTE = "ledger started"


def open_ledger(apps, schema_editor):
    Item = apps.get_model("catalog", "Item")
    StockMove = apps.get_model("catalog", "StockMove")
    batch = []
    for pk, stock in Item.objects.filter(stock__gt=0).values_list("pk", "stock").iterator():
        batch.append(StockMove(item_id=pk, delta=stock, reason="opening", note=NOTE))
        if len(batch) >= BATCH_SIZE:
            StockMove.objects.bulk_create(batch)
            batch = []
    if batch:
        StockMove.objects.bulk_create(batch)


def close_ledger(apps, schema_editor):
    apps.get_model("catalog", "StockMove").objects.filter(reason="opening", note=NOTE).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0005_stockmove'),
    ]

    operations = [
        migrations.RunPython(open_ledger, close_ledger),
    ]
