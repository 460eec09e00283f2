import pytest

from tests.factories import ItemFactory


@pytest.fixture
def item(db):
    """10 in stock at 12.50."""
    return ItemFactory(stock=10, price_minor=1250)


@pytest.fixture
def concurrent_db(transactional_db, tmp_path):
    """A database that threads can share for real.

    SQLite's in-memory test database is shared between connections through SQLite's shared cache, where a write
    conflict fails at once with "database table is locked" instead of waiting on the busy timeout. Production runs
    on a WAL file with a 20 s timeout, so on SQLite this fixture points every connection at a migrated scratch file
    for the test's duration. MongoDB needs nothing.
    """
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    settings_dict = connection.settings_dict  # the very dict new threads' connections are made from
    in_memory = settings_dict["NAME"]
    # Set the in-memory connection aside without closing it: closing the last one would drop that database.
    kept, connection.connection = connection.connection, None
    settings_dict["NAME"] = str(tmp_path / "concurrent.sqlite3")
    try:
        call_command("migrate", verbosity=0, interactive=False)
        yield
    finally:
        connection.close()
        settings_dict["NAME"] = in_memory
        connection.connection = kept
