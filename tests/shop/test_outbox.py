"""Side effects through the outbox: recorded with the change, delivered after commit, retried, never lost or doubled."""

import socket
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import send_mail
from django.db import connection
from django.utils import timezone

from audit.models import AuditEntry
from orders.models import Order, OrderStatus
from payments.services import pay_demo_session, start_payment
from shop import db as unit
from shop.models import OutboxMessage, OutboxStatus
from shop.outbox import HANDLERS, deliver, enqueue, messages_retried, retry_failed, sweep
from shop.selectors import health
from tests.factories import ItemFactory
from tests.orders.helpers import place
from tests.payments.conftest import SITE
from tests.shop.conftest import run_queued

SMTP = "django.core.mail.backends.smtp.EmailBackend"
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_due(message: OutboxMessage) -> None:
    """Lets the backoff pass (tests never sleep)."""
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now() - timedelta(seconds=1))


@pytest.fixture
def smtp_down(settings):
    settings.EMAIL_DELIVERY_BACKEND = SMTP
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    return settings


def send_one() -> None:
    send_mail("Hello", "Body", None, ["ann@example.com"])


def test_an_email_of_a_unit_that_rolls_back_is_never_sent(db):
    with pytest.raises(RuntimeError), unit.atomic():
        send_one()
        raise RuntimeError("the change failed")
    assert not mail.outbox and not OutboxMessage.objects.exists()


def test_an_email_is_delivered_once_after_commit(db):
    with unit.atomic():
        send_one()
        assert not mail.outbox  # not before the commit
    assert [message.subject for message in mail.outbox] == ["Hello"]
    assert OutboxMessage.objects.get().status == OutboxStatus.DONE
    assert sweep() == {}  # nothing left to do: no second copy


def test_smtp_down_then_up_delivers_the_email_exactly_once(db, smtp_down):
    send_one()

    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.PENDING and message.attempts == 1
    assert "ConnectionRefusedError" in message.last_error and message.available_at > timezone.now()
    assert sweep() == {}  # backing off: not tried again yet

    make_due(message)
    assert sweep() == {"retry": 1}  # still down

    smtp_down.EMAIL_DELIVERY_BACKEND = LOCMEM  # the mail server is back
    make_due(message)
    assert sweep() == {"done": 1}
    make_due(message)
    assert sweep() == {}
    assert [sent.to for sent in mail.outbox] == [["ann@example.com"]]
    message.refresh_from_db()
    assert message.status == OutboxStatus.DONE and message.attempts == 3


def test_a_payment_succeeds_while_smtp_is_down_and_the_buyer_gets_the_email_later(db, smtp_down):
    order = place(ItemFactory(stock=3).seller, (ItemFactory(stock=3), 1))
    payment = start_payment(order=order, site_url=SITE)

    _, outcome = pay_demo_session(session_id=payment.session_id)

    assert outcome == "paid" and Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    message = OutboxMessage.objects.get(topic="orders.email")
    assert message.status == OutboxStatus.PENDING and not mail.outbox
    smtp_down.EMAIL_DELIVERY_BACKEND = LOCMEM
    make_due(message)
    sweep()
    assert len(mail.outbox) == 1 and order.number in mail.outbox[0].subject


@pytest.fixture
def hanging_smtp():
    """A mail server that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for peer in accepted:
        peer.close()
    server.close()


@pytest.mark.django_db(transaction=True)
def test_a_hanging_smtp_server_never_holds_a_request_and_the_worker_gives_up_at_the_timeout(
    concurrent_db, client, settings, hanging_smtp, queued
):
    from tests.factories import UserFactory

    user = UserFactory()
    settings.EMAIL_DELIVERY_BACKEND = SMTP
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", hanging_smtp, 1
    order = place(user, (ItemFactory(stock=3), 1))
    payment = start_payment(order=order, site_url=SITE)
    client.force_login(user)

    from payments.gateways import demo_token

    response = client.post(f"/payments/demo/{demo_token(session_id=payment.session_id)}/")

    # The request answered without touching SMTP: the email waits in the outbox and its id in the queue.
    assert response.status_code == 302 and Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert OutboxMessage.objects.get(topic="orders.email").status == OutboxStatus.PENDING
    assert queued.pending_count() == 1
    # The worker's attempt ends at EMAIL_TIMEOUT (run in a thread: a missing timeout would hang here, not the suite).
    outcome: list = []

    def work() -> None:
        try:
            outcome.extend(run_queued(queued))
        finally:
            connection.close()

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive() and outcome == ["retry"]
    message = OutboxMessage.objects.get(topic="orders.email")
    assert "timed out" in message.last_error.lower() and message.status == OutboxStatus.PENDING


def test_a_message_that_keeps_failing_is_flagged_to_staff_and_can_be_retried(db, smtp_down, caplog):
    smtp_down.OUTBOX_MAX_ATTEMPTS = 3
    send_one()
    message = OutboxMessage.objects.get()
    for _ in range(2):
        make_due(message)
        sweep()

    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED and message.attempts == 3
    assert any(record.levelname == "ERROR" and "needs staff" in record.message for record in caplog.records)
    assert health().outbox == {"pending": 0, "failed": 1} and "failed" in health().worker

    smtp_down.EMAIL_DELIVERY_BACKEND = LOCMEM
    assert retry_failed(message_ids=[message.pk]) == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.DONE and len(mail.outbox) == 1


def test_a_message_held_by_one_worker_is_not_run_by_another(db, queued):
    send_one()
    message = OutboxMessage.objects.get()
    assert deliver(message_id=str(message.pk)) == "done"
    assert deliver(message_id=str(message.pk)) == "skipped"
    assert len(mail.outbox) == 1


def test_a_lost_push_is_delivered_by_the_sweep(db, queued):
    send_one()  # queued for a worker that never comes (the queue lost it)
    queued.storage.flush_queue()
    assert not mail.outbox
    assert sweep() == {"done": 1}
    assert len(mail.outbox) == 1


def test_enqueue_refuses_a_topic_nobody_handles(db):
    with pytest.raises(ValueError, match="no outbox handler"):
        enqueue("nobody.home")


def test_staff_see_failed_messages_in_the_admin_and_retry_them(client, staff, smtp_down):
    smtp_down.OUTBOX_MAX_ATTEMPTS = 1
    send_one()
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.FAILED
    client.force_login(staff)

    listing = client.get("/admin/shop/outboxmessage/?status__exact=failed").content.decode()
    assert "mail.send" in listing and "ConnectionRefusedError" in listing

    smtp_down.EMAIL_DELIVERY_BACKEND = LOCMEM
    response = client.post(
        "/admin/shop/outboxmessage/", {"action": "retry_messages", "_selected_action": [message.pk]}, follow=True
    )
    assert "1 failed message(s) queued again." in response.content.decode()
    message.refresh_from_db()
    assert message.status == OutboxStatus.DONE and len(mail.outbox) == 1
    [entry] = AuditEntry.objects.filter(model="shop.outboxmessage", object_id=str(message.pk))
    assert (entry.actor, entry.action, entry.source, entry.object_repr) == (staff, "update", "admin", "mail.send")
    assert entry.changes == {"status": ["failed", "pending"], "attempts": [1, 0]}


def test_a_retry_that_dies_before_its_audit_entry_puts_nothing_back(db, smtp_down):
    smtp_down.OUTBOX_MAX_ATTEMPTS = 1
    send_one()
    message = OutboxMessage.objects.get()
    smtp_down.EMAIL_DELIVERY_BACKEND = LOCMEM

    def crash(**kwargs):  # after the messages were marked pending, inside the retry's transaction
        raise RuntimeError("the process dies here")

    messages_retried.connect(crash, dispatch_uid="test.crash")
    try:
        with pytest.raises(RuntimeError):
            retry_failed(message_ids=[message.pk])
    finally:
        messages_retried.disconnect(dispatch_uid="test.crash")
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 1) and not mail.outbox


def test_sellers_do_not_see_the_outbox(client, seller):
    client.force_login(seller)
    assert client.get("/admin/shop/outboxmessage/").status_code == 403


def test_an_effect_asked_for_while_its_twin_runs_is_not_swallowed(db, monkeypatch):
    runs: list[str] = []

    def replace_token(payload: dict) -> None:
        runs.append(payload["n"])
        if payload["n"] == "first":  # a change commits while this run is under way: it asks again
            enqueue("test.token", dedupe_key="token", n="second")

    monkeypatch.setitem(HANDLERS, "test.token", replace_token)
    enqueue("test.token", dedupe_key="token", n="first")

    assert runs == ["first", "second"]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.DONE}


def test_asks_for_an_effect_waiting_for_its_retry_are_one(db, monkeypatch):
    attempts: list[int] = []

    def failing(payload: dict) -> None:
        attempts.append(1)
        raise ConnectionError("the cache is down")

    monkeypatch.setitem(HANDLERS, "test.token", failing)
    enqueue("test.token", dedupe_key="token")
    enqueue("test.token", dedupe_key="token")

    assert OutboxMessage.objects.filter(status=OutboxStatus.PENDING).count() == 1 and len(attempts) == 1


def _past_its_lease() -> None:
    """The clock as another worker's sweep sees it once a run outlived its lease."""
    OutboxMessage.objects.filter(status=OutboxStatus.PENDING).update(available_at=timezone.now() - timedelta(1))


def test_a_run_that_outlived_its_lease_never_overwrites_the_outcome_of_the_worker_that_took_it_over(db, monkeypatch):
    runs = []

    def slow_then_failing(payload):
        runs.append("run")
        if len(runs) == 1:  # worker A, stuck in a slow call past its lease; worker B's sweep takes the message
            _past_its_lease()
            assert sweep() == {"done": 1}
            raise ConnectionError("A's slow call finally fails")

    monkeypatch.setitem(HANDLERS, "test.slow", slow_then_failing)
    message = enqueue("test.slow")
    assert deliver(message_id=str(message.pk)) == "skipped"  # A's failure lands on nothing: B holds it
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error, len(runs)) == (OutboxStatus.DONE, 2, "", 2)


def test_a_run_that_outlived_its_lease_leaves_the_retry_to_the_worker_that_took_it_over(db, monkeypatch):
    runs = []

    def slow(payload):
        runs.append("run")
        if len(runs) == 1:
            _past_its_lease()
            assert sweep() == {"retry": 1}  # B's try fails and is due again later
        else:
            raise ConnectionError("B's try fails")

    monkeypatch.setitem(HANDLERS, "test.slow", slow)
    message = enqueue("test.slow")
    deliver(message_id=str(message.pk))  # A finishes last
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (
        OutboxStatus.PENDING, 2, "ConnectionError: B's try fails"
    )  # fmt: skip


def test_a_message_whose_tries_never_come_back_is_failed_for_staff_not_tried_forever(db, monkeypatch, settings):
    """Each try ended with its process (it ran out of memory, say): no error ever came back to count."""
    ran = []
    monkeypatch.setitem(HANDLERS, "test.deadly", ran.append)
    message = enqueue("test.deadly")
    ran.clear()
    OutboxMessage.objects.filter(pk=message.pk).update(  # each take counted, none came back
        status=OutboxStatus.PENDING, attempts=settings.OUTBOX_MAX_ATTEMPTS, available_at=timezone.now()
    )
    assert deliver(message_id=str(message.pk)) == "failed" and ran == []
    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED and "no try came back" in message.last_error
