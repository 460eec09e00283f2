"""The one unit of work of both backends (`shop.db`): all or nothing, hooks after commit, conflicts retried."""

import pytest
from django.db import OperationalError, connection

from catalog.models import Item
from shop import db as unit
from shop.exceptions import ShopBusy
from tests.factories import ItemFactory


class Boom(Exception):
    pass


def test_a_unit_that_raises_leaves_no_write_behind(db_item):
    with pytest.raises(Boom), unit.atomic():
        Item.objects.filter(pk=db_item.pk).update(stock=0)
        raise Boom
    db_item.refresh_from_db()
    assert db_item.stock == 10


def test_on_commit_runs_after_the_unit_commits_and_never_after_a_rollback(db_item):
    ran: list[str] = []
    with unit.atomic():
        unit.on_commit(lambda: ran.append("committed"))
        assert ran == []  # not before the commit
    assert ran == ["committed"]
    with pytest.raises(Boom), unit.atomic():
        unit.on_commit(lambda: ran.append("rolled back"))
        raise Boom
    assert ran == ["committed"]


def test_on_commit_outside_a_unit_runs_at_once(db):
    ran: list[int] = []
    unit.on_commit(lambda: ran.append(1))
    assert ran == [1]


def test_unit_of_work_runs_again_after_a_transient_conflict(db_item):
    attempts: list[int] = []

    @unit.unit_of_work
    def take_one() -> int:
        attempts.append(1)
        Item.objects.filter(pk=db_item.pk).update(stock=db_item.stock - len(attempts))
        if len(attempts) < 3:
            raise unit.TransientError("lost a write conflict")
        return len(attempts)

    assert take_one() == 3
    db_item.refresh_from_db()
    assert db_item.stock == 7  # only the third attempt's write survived


def test_unit_of_work_answers_busy_after_its_time_and_does_not_retry_real_errors(db_item, monkeypatch):
    monkeypatch.setattr(unit, "RETRY_SECONDS", 0.05)
    monkeypatch.setattr(unit, "BACKOFF_CAP_SECONDS", 0.001)
    calls: list[int] = []

    @unit.unit_of_work
    def always_conflicting() -> None:
        calls.append(1)
        raise unit.TransientError("again")

    with pytest.raises(ShopBusy) as busy:
        always_conflicting()
    assert len(calls) > 1 and isinstance(busy.value.__cause__, unit.TransientError)

    @unit.unit_of_work
    def broken() -> None:
        calls.append(1)
        raise Boom

    calls.clear()
    with pytest.raises(Boom):
        broken()
    assert len(calls) == 1


def test_a_nested_unit_joins_the_outer_one(db_item):
    @unit.unit_of_work
    def inner() -> None:
        Item.objects.filter(pk=db_item.pk).update(stock=1)

    with pytest.raises(Boom), unit.atomic():
        inner()
        raise Boom
    db_item.refresh_from_db()
    assert db_item.stock == 10


def test_transient_errors_are_recognised_on_both_backends():
    from pymongo.errors import OperationFailure

    conflict = OperationFailure("WriteConflict", code=112, details={"errorLabels": ["TransientTransactionError"]})
    wrapped = Exception("database error")
    wrapped.__cause__ = conflict
    assert unit.is_transient(wrapped)
    assert unit.is_transient(OperationalError("database is locked"))
    assert not unit.is_transient(OperationFailure("bad value", code=2))
    assert not unit.is_transient(ValueError("no"))


def test_a_standalone_mongodb_is_refused_by_a_system_check(db, monkeypatch):
    from django.core.checks import run_checks

    assert not [error for error in run_checks(databases=["default"]) if error.id == "shop.E001"]
    if connection.vendor != "mongodb":
        return
    monkeypatch.setattr(connection.features, "_supports_transactions", False)
    errors = [error for error in run_checks(databases=["default"]) if error.id == "shop.E001"]
    assert len(errors) == 1 and "replica set" in errors[0].msg


@pytest.fixture
def db_item(db):
    return ItemFactory(stock=10)


def test_a_failing_hook_after_commit_never_runs_the_committed_unit_again(db_item, caplog):
    runs: list[int] = []

    def conflicting_hook() -> None:
        raise unit.TransientError("a write conflict after the commit")

    @unit.unit_of_work
    def take_one() -> None:
        runs.append(1)
        Item.objects.filter(pk=db_item.pk).update(stock=db_item.stock - 1)
        unit.on_commit(conflicting_hook)

    take_one()

    db_item.refresh_from_db()
    assert runs == [1] and db_item.stock == 9
    assert any("conflicting_hook" in record.getMessage() for record in caplog.records)  # logged, not raised


def test_a_unit_that_keeps_conflicting_answers_busy_and_the_api_says_503(client, user, monkeypatch):
    from orders.models import Order
    from tests.orders.helpers import fill_cart

    item = ItemFactory(stock=5)
    fill_cart(user, (item, 1))
    monkeypatch.setattr(unit, "RETRY_SECONDS", 0.02)
    monkeypatch.setattr(unit, "BACKOFF_CAP_SECONDS", 0.001)

    def always_conflicting(**kwargs):
        raise unit.TransientError("a write conflict")

    monkeypatch.setattr("orders.services._insert_lines", always_conflicting)
    client.force_login(user)
    response = client.post("/api/orders", {}, content_type="application/json")

    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert response.json()["code"] == ShopBusy.code
    assert not Order.objects.exists() and Item.objects.get(pk=item.pk).stock == 5
