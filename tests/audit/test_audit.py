import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from audit import context as audit_context
from audit.exceptions import AuditLogIsAppendOnly
from audit.models import AuditEntry
from catalog.models import Item
from catalog.services import record_bulk_item_writes, update_items
from tests.api.conftest import client_for
from tests.factories import ItemFactory, SellerFactory, UserFactory
from tests.orders.helpers import ADDRESS_FORM

pytestmark = pytest.mark.django_db

AUDIT_LIST = reverse("admin:audit_auditentry_changelist")


def entry_for(obj, *, changing: str | None = None, **filters) -> AuditEntry:
    """The one entry of `obj` (matching `filters`, and changing the field `changing` when given)."""
    entries = AuditEntry.objects.filter(model=obj._meta.label_lower, object_id=str(obj.pk), **filters)
    [entry] = [entry for entry in entries if changing is None or changing in entry.changes]
    return entry


def item_post(item, **overrides) -> dict:
    data = {
        "title": item.title,
        "slug": item.slug,
        "sku": item.sku,
        "seller": item.seller_id,
        "category": item.category_id,
        "description": item.description,
        "price_minor": "12.50",
        "tax_class": "",
        "weight_grams": "0",
        "stock": item.stock,
        "initial-stock": item.stock,
        "is_active": "on",
    }
    data.update(overrides)
    return data


@pytest.fixture
def item(shelf):
    return ItemFactory(seller=shelf["seller"], category=shelf["child"], title="Blue kettle", price_minor=1250, stock=4)


def test_an_admin_form_change_records_the_changed_fields_before_and_after_with_the_staff_user(client, staff, item):
    client.force_login(staff)
    response = client.post(
        reverse("admin:catalog_item_change", args=[item.pk]), item_post(item, price_minor="19.99", stock=6)
    )

    assert response.status_code == 302
    entries = AuditEntry.objects.filter(model="catalog.item", object_id=str(item.pk), action="update")
    changes = {}
    for entry in entries:
        assert (entry.actor, entry.actor_repr, entry.source) == (staff, staff.email, "admin")
        assert entry.origin == f"POST {reverse('admin:catalog_item_change', args=[item.pk])}"
        changes.update(entry.changes)
    # Only what changed; updated_at moves by itself and is left out.
    assert changes == {"price_minor": [1250, 1999], "stock": [4, 6]}


def test_an_admin_add_and_delete_record_the_values_created_and_deleted(client, staff, shelf):
    client.force_login(staff)
    new = ItemFactory.build(seller=shelf["seller"], category=shelf["child"], title="Pan", slug="pan", sku="P-1")
    client.post(reverse("admin:catalog_item_add"), item_post(new, price_minor="5.00", stock=2))
    item = Item.objects.get(sku="P-1")
    client.post(reverse("admin:catalog_item_delete", args=[item.pk]), {"post": "yes"})

    created, deleted = entry_for(item, action="create"), entry_for(item, action="delete")
    assert created.changes["price_minor"] == [None, 500] and created.changes["title"] == [None, "Pan"]
    assert deleted.changes["price_minor"] == [500, None] and deleted.object_repr == "Pan"
    assert not Item.objects.filter(pk=item.pk).exists()


def test_an_admin_bulk_action_records_each_user_it_changed(client, staff):
    shoppers = [UserFactory(), UserFactory()]
    client.force_login(staff)
    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "make_seller", "_selected_action": [user.pk for user in shoppers]},
    )

    assert response.status_code == 302
    for user in shoppers:
        roles = entry_for(user, action="update", changing="is_seller")
        assert roles.changes == {"is_seller": [False, True], "is_staff": [False, True]}
        assert (roles.actor, roles.source) == (staff, "admin")
        groups = entry_for(user, action="update", changing="groups")
        assert groups.changes["groups"][0] == [] and len(groups.changes["groups"][1]) == 1


def test_an_api_patch_by_a_seller_with_a_jwt_records_the_seller(item):
    seller = item.seller
    response = client_for(seller).patch(
        f"/api/items/{item.pk}", {"price": 2600, "stock": 7, "expected_stock": 4}, format="json"
    )

    assert response.status_code == 200
    entries = AuditEntry.objects.filter(model="catalog.item", object_id=str(item.pk))
    assert {(entry.actor_id, entry.actor_repr, entry.source) for entry in entries} == {(seller.pk, seller.email, "api")}
    changes = {name: pair for entry in entries for name, pair in entry.changes.items()}
    assert changes == {"price_minor": [1250, 2600], "stock": [4, 7]}


def test_a_management_command_is_recorded_by_its_name_and_the_os_user(monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "operator")
    call_command("createseller", "new.seller@example.com", "--password", "a-Strong-pass-9173", verbosity=0)

    created = AuditEntry.objects.get(model="accounts.user", action="create")
    assert created.object_repr == "new.seller@example.com"
    assert (created.actor, created.source) == (None, "command")
    assert created.actor_repr == "manage.py createseller (OS user operator)"
    assert created.changes["password"] == [None, "********"]  # never the hash


def test_a_bulk_update_of_items_records_each_item(item, staff):
    other = ItemFactory(seller=item.seller, category=item.category, price_minor=800, stock=1)
    update_items(item_ids=[item.pk, other.pk], actor=staff, price_minor=999, stock=5)

    assert entry_for(item, changing="price_minor").changes == {"price_minor": [1250, 999]}
    assert entry_for(other, changing="price_minor").changes == {"price_minor": [800, 999]}
    assert entry_for(other, changing="stock").changes == {"stock": [1, 5]}
    assert entry_for(other, changing="stock").source == "other"  # not in a request or a command


def test_a_shopper_filling_a_cart_and_ordering_records_nothing(client, user, item):
    client.force_login(user)
    assert client.post(reverse("cart:add"), {"item": item.pk, "quantity": "2"}).status_code == 302
    form = client.get("/checkout/").context["form"]
    data = {**ADDRESS_FORM, **{name: form.initial[name] for name in ("checkout_token", "cart_fingerprint")}}
    client.post("/checkout/", data)

    assert user.orders.count() == 1
    assert not AuditEntry.objects.exists()


def test_a_shoppers_api_writes_record_nothing(user, item):
    api = client_for(user)
    added = api.post(f"/api/carts/{user.pk}/add", {"item": str(item.pk), "quantity": 1}, format="json")
    assert added.status_code in (200, 201)
    assert api.patch(f"/api/items/{item.pk}", {"price": 1}, format="json").status_code == 403

    assert not AuditEntry.objects.exists()


def test_staff_browse_the_log_with_each_filter_and_search(client, staff, item):
    client.force_login(staff)
    client.post(reverse("admin:catalog_item_change", args=[item.pk]), item_post(item, price_minor="19.99"))
    when = timezone.localtime(AuditEntry.objects.get().created_at)

    queries = [
        {},
        {"model": "catalog.item"},
        {"action": "update"},
        {"actor": staff.email},
        {"source": "admin"},
        {"created_at__year": when.year, "created_at__month": when.month, "created_at__day": when.day},
        {"q": str(item.pk)},
        {"q": "kettle"},
    ]
    for query in queries:
        response = client.get(AUDIT_LIST, query)
        assert response.status_code == 200, query
        assert response.context["cl"].result_count == 1, query
        assert "Blue kettle" in response.content.decode()
    assert client.get(AUDIT_LIST, {"source": "api"}).context["cl"].result_count == 0
    assert client.get(AUDIT_LIST, {"model": "pricing.taxrate"}).context["cl"].result_count == 0


def test_sellers_cannot_read_the_log(client, item):
    client.force_login(SellerFactory())
    assert client.get(AUDIT_LIST).status_code == 403


def test_entries_cannot_be_added_changed_or_deleted_in_the_admin_even_by_a_superuser(client, staff, item):
    client.force_login(staff)
    client.post(reverse("admin:catalog_item_change", args=[item.pk]), item_post(item, price_minor="19.99"))
    entry = AuditEntry.objects.get()

    assert client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    assert client.post(reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    detail = client.post(reverse("admin:audit_auditentry_change", args=[entry.pk]), {"object_repr": "forged"})
    assert detail.status_code == 403
    response = client.post(AUDIT_LIST, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})
    assert response.status_code in (200, 302)

    stored = AuditEntry.objects.get()
    assert (stored.pk, stored.object_repr, stored.changes) == (entry.pk, "Blue kettle", {"price_minor": [1250, 1999]})
    page = client.get(reverse("admin:audit_auditentry_change", args=[entry.pk]))
    assert page.status_code == 200 and "1999" in page.content.decode()  # viewable


def test_entries_refuse_to_be_changed_or_deleted_by_the_model(staff, item):
    update_items(item_ids=[item.pk], actor=staff, price_minor=999)
    entry = AuditEntry.objects.get()

    entry.object_repr = "forged"
    with pytest.raises(AuditLogIsAppendOnly):
        entry.save()
    with pytest.raises(AuditLogIsAppendOnly):
        entry.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(object_repr="forged")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get().object_repr == "Blue kettle"


def test_an_entry_outlives_its_actor(staff, item):
    update_items(item_ids=[item.pk], actor=staff, price_minor=999)
    email = staff.email
    staff.delete()

    entry = AuditEntry.objects.get(model="catalog.item")
    assert (entry.actor_id, entry.actor_repr) == (None, email)


def test_bulk_item_writes_of_a_command_are_recorded_with_the_changed_fields_only(item, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "operator")
    stored = {"pk": item.pk, "sku": item.sku, "price_minor": 1250, "category_id": item.category_id, "stock": 4}
    item.price_minor = 1500
    new = ItemFactory(seller=item.seller, category=item.category, title="Lid")
    with audit_context.command("import_items"):
        record_bulk_item_writes(created=[new], updated=[(stored, item)])

    assert entry_for(item).changes == {"price_minor": [1250, 1500]}
    created = entry_for(new, action="create")
    assert created.changes["title"] == [None, "Lid"] and created.source == "command"


def test_bulk_item_writes_outside_staff_work_record_nothing(item):
    record_bulk_item_writes(created=[item], updated=[({"price_minor": 1}, item)])
    assert not AuditEntry.objects.exists()
