from django.core import checks

from shop.db import requires_replica_set_message


@checks.register(checks.Tags.database)
def mongodb_replica_set(app_configs=None, databases=None, **kwargs) -> list[checks.CheckMessage]:
    """On MongoDB the shop needs transactions, so a replica set: say so at `migrate`/`check --database`, not later."""
    if not databases:
        return []
    message = requires_replica_set_message()
    return [checks.Error(message, id="shop.E001")] if message else []
