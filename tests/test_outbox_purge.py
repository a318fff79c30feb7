"""Old outbox rows are purged: sent ones after OUTBOX_KEEP_DAYS, given-up ones after
OUTBOX_KEEP_FAILED_DAYS, in small batches, by the worker daily or from the command line; a
pending or claimed message is never touched, however old."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from kiosk.settings import SettingError
from kiosk.worker import Checks, periodic_jobs
from surveys import outbox
from surveys.db import utcnow
from surveys.models import OutboxMessage, Webhook
from tests.conftest import make_app

NOW = utcnow().replace(microsecond=0)


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def _message(db, *, age: timedelta, state: str, webhook: Webhook | None = None) -> int:
    """Store a message written ``age`` ago and brought to ``state`` as a worker would."""
    created = NOW - age
    kind, payload = ("webhook", {"n": 1}) if webhook else ("email", {"to": "a@example.vn"})
    message = outbox.enqueue(
        db, kind, payload, now=created, event="alert.raised", webhook_id=webhook and webhook.id
    )
    db.commit()
    if state in ("sent", "failed", "claimed"):
        [claimed] = outbox.claim_due(
            db, worker="w", now=created, lease=timedelta(minutes=2), limit=1
        )
        assert claimed == message.id
    if state == "sent":
        outbox.record_sent(db, message.id, worker="w", now=created + timedelta(seconds=1))
    elif state == "failed":
        outbox.record_failure(
            db, message, now=created + timedelta(seconds=1), error="HTTP 410", give_up=True
        )
    elif state == "claimed":  # a worker holds it right now
        message.claimed_until = NOW + timedelta(minutes=1)
    db.commit()
    return message.id


def _left(db) -> set[int]:
    db.expire_all()
    return set(db.scalars(select(OutboxMessage.id)))


@pytest.fixture()
def messages(db):
    """One message of each state, just inside and just past its retention."""
    days = timedelta(days=1)
    return {
        "sent_recent": _message(db, age=29 * days, state="sent"),
        "sent_old": _message(db, age=31 * days, state="sent"),
        "failed_recent": _message(db, age=89 * days, state="failed"),
        "failed_old": _message(db, age=91 * days, state="failed"),
        "claimed_old": _message(db, age=200 * days, state="claimed"),
        # Last: an unsent message would be the next one claimed above.
        "pending_old": _message(db, age=200 * days, state="pending"),
    }


def test_the_worker_purges_what_is_past_its_retention(app, db, messages):
    assert Checks(app, clock=Clock(NOW)).purge_outbox() == 2
    assert _left(db) == {
        messages[name] for name in ("sent_recent", "failed_recent", "pending_old", "claimed_old")
    }
    assert Checks(app, clock=Clock(NOW)).purge_outbox() == 0


def test_it_deletes_in_batches_until_none_is_left(app, db):
    for _ in range(7):
        _message(db, age=timedelta(days=40), state="sent")
    keep = _message(db, age=timedelta(days=40), state="pending")
    assert Checks(app, clock=Clock(NOW)).purge_outbox(batch=3) == 7
    assert _left(db) == {keep}


def test_one_batch_deletes_at_most_its_limit(db):
    for _ in range(5):
        _message(db, age=timedelta(days=40), state="sent")
    retention = outbox.OutboxRetention()
    assert outbox.purge_batch(db, now=NOW, retention=retention, limit=2) == 2
    db.commit()
    assert len(_left(db)) == 3


def test_the_periods_are_settings(database_url, db, messages):
    app = make_app(database_url, OUTBOX_KEEP_DAYS=10, OUTBOX_KEEP_FAILED_DAYS=200)
    try:
        # Both sent messages are older than 10 days; no given-up one is older than 200.
        assert Checks(app, clock=Clock(NOW)).purge_outbox() == 2
    finally:
        app.extensions["hailong.engine"].dispose()
    assert messages["failed_old"] in _left(db)
    assert messages["sent_recent"] not in _left(db)


@pytest.mark.parametrize(
    "overrides", [{"OUTBOX_KEEP_DAYS": 0}, {"OUTBOX_KEEP_FAILED_DAYS": "soon"}]
)
def test_a_bad_period_stops_the_start(database_url, overrides):
    with pytest.raises(SettingError, match="OUTBOX_KEEP"):
        make_app(database_url, **overrides)


def test_purge_outbox_from_the_command_line(app, db, messages):
    result = app.test_cli_runner().invoke(args=["purge-outbox"])
    assert result.exit_code == 0, result.output
    assert "Deleted 2 outbox messages" in result.output
    assert messages["sent_old"] not in _left(db) and messages["failed_old"] not in _left(db)


def test_a_webhooks_delivery_list_loses_the_purged_deliveries(app, client, db, make_token):
    token = make_token("admin@example.vn", "admin", None)
    hook = Webhook(url="http://127.0.0.1:9/", events=["alert.raised"], secret="s", created_at=NOW)
    db.add(hook)
    db.commit()
    _message(db, age=timedelta(days=31), state="sent", webhook=hook)
    recent = _message(db, age=timedelta(days=2), state="sent", webhook=hook)
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get(f"/api/v1/webhooks/{hook.id}/deliveries", headers=headers).json
    assert len(listed) == 2
    Checks(app, clock=Clock(NOW)).purge_outbox()
    [left] = client.get(f"/api/v1/webhooks/{hook.id}/deliveries", headers=headers).json
    assert (left["id"], left["status"]) == (recent, "sent")


def test_the_purge_runs_daily_at_night(app):
    jobs = {trigger["id"]: trigger for _, trigger in periodic_jobs(app)}
    assert (jobs["purge_outbox"]["trigger"], jobs["purge_outbox"]["hour"]) == ("cron", 3)
