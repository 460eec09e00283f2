"""The health check covers the database, the cache and the worker's heartbeat."""

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from shop.models import Heartbeat
from shop.selectors import WORKER
from shop.services import record_heartbeat


def test_health_is_ok_with_a_fresh_heartbeat(client, db):
    record_heartbeat(name=WORKER)
    response = client.get("/health/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "cache": "ok",
        "worker": "ok",
        "outbox": {"pending": 0, "failed": 0},
    }


@pytest.mark.parametrize(("beat_ago", "expected"), [(None, "never seen"), (timedelta(minutes=10), "stale")])
def test_a_missing_or_late_worker_degrades_health_without_failing_it(client, db, beat_ago, expected):
    if beat_ago is not None:
        Heartbeat.objects.create(name=WORKER, beat_at=timezone.now() - beat_ago)
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded" and response.json()["worker"].startswith(expected)


def test_a_database_that_does_not_answer_fails_health(client, db, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("unable to open database file")

    monkeypatch.setattr("shop.selectors.Heartbeat.objects.filter", down)
    response = client.get("/health/")
    assert response.status_code == 503 and response.json()["database"] == "error: OperationalError"


def test_a_cache_that_does_not_answer_degrades_health(client, db, monkeypatch):
    record_heartbeat(name=WORKER)
    monkeypatch.setattr("shop.selectors.cache.set", lambda *args, **kwargs: False)
    body = client.get("/health/").json()
    assert body["status"] == "degraded" and body["cache"].startswith("error")


def test_a_stale_worker_still_shows_beside_failed_messages(client, db):
    from shop.models import OutboxMessage, OutboxStatus

    Heartbeat.objects.create(name=WORKER, beat_at=timezone.now() - timedelta(hours=6))
    OutboxMessage.objects.create(topic="mail.send", status=OutboxStatus.FAILED, available_at=timezone.now())
    worker = client.get("/health/").json()["worker"]
    assert worker.startswith("stale: last heartbeat") and worker.endswith("; 1 failed outbox messages need staff")
