"""The one unit of work of both backends (`shop.db`): all or nothing, hooks after commit, conflicts retried."""

import pytest
from django.db import OperationalError, connection

from catalog.models import Item
from shop import db as unit
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


def test_unit_of_work_gives_up_after_its_attempts_and_does_not_retry_real_errors(db_item, monkeypatch):
    monkeypatch.setattr(unit, "BACKOFF_SECONDS", 0)
    calls: list[int] = []

    @unit.unit_of_work
    def always_conflicting() -> None:
        calls.append(1)
        raise unit.TransientError("again")

    with pytest.raises(unit.TransientError):
        always_conflicting()
    assert len(calls) == unit.ATTEMPTS

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
