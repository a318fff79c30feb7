"""The outbox and its worker: at-least-once delivery, one worker per message at a time,
exponential backoff for 24 hours, and a dead worker's claims taken over after the lease."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, text

from kiosk.worker import Worker
from surveys import outbox
from surveys.db import make_engine, make_sessionmaker, utcnow
from surveys.models import OutboxMessage, Webhook
from surveys.outbox import RetryPolicy
from surveys.schema import downgrade, upgrade
from tests.receivers import HttpReceiver

T0 = utcnow().replace(microsecond=0)


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture()
def receiver():
    server = HttpReceiver().start()
    yield server
    server.stop()


def _webhook_message(db, url: str, *, now=T0) -> int:
    hook = Webhook(url=url, events=["alert.raised"], secret="s3cret", created_at=now)
    db.add(hook)
    db.flush()
    message = outbox.enqueue(
        db, "webhook", {"n": 1}, now=now, event="alert.raised", webhook_id=hook.id
    )
    db.commit()
    return message.id


def _state(db, message_id):
    db.expire_all()
    return db.get(OutboxMessage, message_id)


def test_nothing_is_queued_when_the_cause_rolls_back(db):
    outbox.enqueue(db, "email", {"to": "a@example.vn", "template": "test"}, now=T0)
    db.rollback()
    assert db.scalars(select(OutboxMessage)).all() == []


def test_a_worker_sends_a_due_message_once(app, db, receiver):
    message_id = _webhook_message(db, receiver.url)
    worker = Worker(app, name="w1", clock=Clock(T0))
    assert worker.send_due() == 1
    assert worker.send_due() == 0
    assert len(receiver.deliveries) == 1
    stored = _state(db, message_id)
    assert (stored.status, stored.attempts, stored.last_status) == ("sent", 1, 200)


def test_two_workers_never_claim_the_same_message(db):
    ids = [_webhook_message(db, "http://127.0.0.1:9/") for _ in range(3)]
    lease = timedelta(minutes=2)
    first = outbox.claim_due(db, worker="a", now=T0, lease=lease)
    db.commit()
    second = outbox.claim_due(db, worker="b", now=T0, lease=lease)
    db.commit()
    assert sorted(first) == sorted(ids)
    assert second == []


def test_a_claim_in_progress_is_skipped_not_waited_for(engine):
    """On PostgreSQL a worker skips the rows another is claiming (SKIP LOCKED) at once."""
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite has one writer at a time")
    maker = make_sessionmaker(engine)
    with maker() as setup:
        ids = [_webhook_message(setup, "http://127.0.0.1:9/") for _ in range(4)]
    lease = timedelta(minutes=2)
    first = maker()
    try:
        held = outbox.claim_due(first, worker="a", now=T0, lease=lease, limit=2)
        found: list[int] = []
        # Another worker while the first one's claim is not yet committed: not blocked.
        thread = threading.Thread(
            target=lambda: found.extend(_claim_apart(maker, "b", lease)), daemon=True
        )
        thread.start()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the second worker waited for the first one's lock"
        first.commit()
    finally:
        first.close()
    assert len(held) == 2 and len(found) == 2
    assert set(held) | set(found) == set(ids)


def _claim_apart(maker, name, lease):
    with maker() as session, session.begin():
        return outbox.claim_due(session, worker=name, now=T0, lease=lease)


def test_failures_back_off_exponentially_then_succeed(app, db, receiver):
    receiver.script = [500, 500]
    message_id = _webhook_message(db, receiver.url)
    clock = Clock(T0)
    worker = Worker(app, name="w1", clock=clock)
    assert worker.send_due() == 0
    stored = _state(db, message_id)
    assert (stored.status, stored.attempts, stored.last_status) == ("pending", 1, 500)
    # The first retry comes within a minute, the second twice as late.
    assert stored.due_at == T0 + timedelta(seconds=30)
    clock.now = T0 + timedelta(seconds=29)
    assert worker.send_due() == 0 and len(receiver.deliveries) == 1
    clock.now = T0 + timedelta(seconds=30)
    assert worker.send_due() == 0
    assert _state(db, message_id).due_at == clock.now + timedelta(seconds=60)
    clock.now += timedelta(seconds=60)
    assert worker.send_due() == 1
    assert len(receiver.deliveries) == 3
    assert _state(db, message_id).status == "sent"


def test_a_message_is_given_up_after_a_day(app, db):
    message_id = _webhook_message(db, "http://127.0.0.1:9/unreachable")
    clock = Clock(T0)
    worker = Worker(app, name="w1", clock=clock)
    tries = 0
    while _state(db, message_id).status == "pending":
        clock.now = max(clock.now, _state(db, message_id).due_at)
        worker.send_due()
        tries += 1
        assert tries < 40
    stored = _state(db, message_id)
    assert stored.status == "failed"
    assert stored.due_at <= T0 + timedelta(hours=24)
    assert "Error" in stored.last_error


def test_backoff_waits_double_up_to_an_hour():
    policy = RetryPolicy()
    waits = [policy.wait_after(n).total_seconds() for n in range(1, 10)]
    assert waits[:4] == [30, 60, 120, 240]
    assert max(waits) == 3600


def test_a_dead_workers_claim_is_taken_over_after_the_lease(app, db, receiver):
    message_id = _webhook_message(db, receiver.url)
    lease = timedelta(minutes=2)
    # Worker "dead" claimed the message and was killed before sending it.
    assert outbox.claim_due(db, worker="dead", now=T0, lease=lease) == [message_id]
    db.commit()
    clock = Clock(T0 + lease - timedelta(seconds=1))
    survivor = Worker(app, name="alive", clock=clock)
    assert survivor.send_due() == 0 and receiver.deliveries == []
    clock.now = T0 + lease + timedelta(seconds=1)
    assert survivor.send_due() == 1
    assert len(receiver.deliveries) == 1
    assert _state(db, message_id).claimed_by == "alive"


def test_worker_once_from_the_command_line(app, db, receiver):
    _webhook_message(db, receiver.url, now=utcnow())
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "Sent 1 message(s)." in result.output
    assert len(receiver.deliveries) == 1


def test_the_migration_goes_down_and_up(engine, database_url):
    """0008 downgrades to 0007 and upgrades again on this engine (a private copy)."""
    if engine.dialect.name == "sqlite":
        url = database_url.replace("test.db", "migrate-0008.db")
    else:
        schema = "hl_m8_" + str(abs(hash(database_url)) % 10**6)
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = database_url.split("?")[0] + f"?options=-csearch_path%3D{schema}"
    try:
        upgrade(url)
        own = make_engine(url)
        assert {"outbox_message", "alert", "alert_rule", "webhook"} <= set(
            inspect(own).get_table_names()
        )
        downgrade(url, "0007")
        assert "outbox_message" not in inspect(own).get_table_names()
        upgrade(url)
        assert "outbox_message" in inspect(own).get_table_names()
        own.dispose()
    finally:
        if engine.dialect.name != "sqlite":
            with engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
