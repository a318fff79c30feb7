"""The worker: sends what the outbox holds, and runs the periodic checks on a schedule.

``flask --app wsgi worker`` runs until stopped (SIGINT or SIGTERM); ``--once`` sends what is
due and exits. Run as many as you like, on as many machines, against one database: a message
is claimed by one worker at a time (surveys/outbox.py). Scheduling is APScheduler's: each job
runs at most once at a time per worker, a late run is coalesced instead of piling up, and the
daily checks follow a cron-like trigger in the city's time zone.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from collections.abc import Callable
from datetime import datetime

from flask import Flask

from kiosk import mail, webhook_delivery
from kiosk.settings import settings
from surveys import alerts, cases, digest, outbox
from surveys.db import make_sessionmaker, utcnow
from surveys.models import OutboxMessage, Webhook

log = logging.getLogger(__name__)


class Worker:
    """Sends due outbox messages; one instance per process."""

    def __init__(
        self,
        app: Flask,
        *,
        name: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        batch: int = 20,
    ):
        self.app = app
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.clock = clock
        self.batch = batch
        self.sessions = make_sessionmaker(app.extensions["hailong.engine"])

    def send_due(self) -> int:
        """Send every message due now, batch by batch; return how many were delivered."""
        with self.app.app_context():
            config = settings()
            delivered = 0
            while True:
                with self.sessions() as session, session.begin():
                    ids = outbox.claim_due(
                        session,
                        worker=self.name,
                        now=self.clock(),
                        lease=config.outbox_retry.lease,
                        limit=self.batch,
                    )
                if not ids:
                    return delivered
                for message_id in ids:
                    delivered += self._send_one(message_id)

    def _send_one(self, message_id: int) -> int:
        config = settings()
        with self.sessions() as session:
            message = session.get(OutboxMessage, message_id)
            try:
                status = self._deliver(session, message)
            except (mail.MailFailed, webhook_delivery.DeliveryFailed) as error:
                failure, status, permanent = str(error), error.status, error.permanent
            except Exception as error:  # a bug in rendering must not stop the other messages
                log.exception("outbox message %s could not be sent", message_id)
                failure, status, permanent = f"{type(error).__name__}: {error}", None, False
            else:
                session.rollback()  # end the read before writing in a transaction of its own
                with session.begin():
                    outbox.record_sent(
                        session, message_id, worker=self.name, now=self.clock(), status=status
                    )
                return 1
            session.rollback()
            with session.begin():
                outbox.record_failure(
                    session,
                    message,
                    now=self.clock(),
                    error=failure,
                    status=status,
                    policy=config.outbox_retry,
                    give_up=permanent,
                )
            log.warning(
                "outbox message %s failed (attempt %s): %s",
                message_id,
                message.attempts + 1,
                failure,
            )
            return 0

    def _deliver(self, session, message: OutboxMessage) -> int | None:
        config = settings()
        if message.kind == "email":
            email = mail.render_email(self.app, session, message.payload)
            mail.send_email(email, config.mail, timeout=config.delivery_timeout)
            return None
        if message.kind == "webhook":
            webhook = session.get(Webhook, message.webhook_id)
            return webhook_delivery.post(message, webhook, timeout=config.delivery_timeout)
        raise ValueError(f"unknown outbox kind {message.kind!r}")


def run_forever(worker: Worker, jobs: list[tuple[Callable[[], object], dict]]) -> None:
    """Send and check on a schedule until SIGINT or SIGTERM."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    with worker.app.app_context():
        config = settings()
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(
        worker.send_due,
        "interval",
        seconds=config.outbox_poll.total_seconds(),
        id="send_due",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now().astimezone(),
    )
    for function, trigger in jobs:
        scheduler.add_job(function, max_instances=1, coalesce=True, **trigger)

    def stop(_signum, _frame):
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.start()


def periodic_jobs(app: Flask) -> list[tuple[Callable[[], object], dict]]:
    """Return the periodic checks and their APScheduler triggers."""
    with app.app_context():
        timezone = settings().default_timezone
    checks = Checks(app)
    return [
        (checks.silent_kiosks, {"trigger": "interval", "minutes": 1, "id": "kiosk_silent"}),
        (
            checks.falls,
            {"trigger": "cron", "hour": 6, "minute": 0, "timezone": timezone, "id": "fall"},
        ),
        (checks.cases, {"trigger": "interval", "minutes": 15, "id": "cases"}),
        (
            checks.purge_outbox,
            {
                "trigger": "cron",
                "hour": 3,
                "minute": 30,
                "timezone": timezone,
                "id": "purge_outbox",
            },
        ),
        (
            checks.weekly_digest,
            {
                "trigger": "cron",
                "day_of_week": "mon",
                "hour": 7,
                "minute": 0,
                "timezone": timezone,
                "id": "weekly_digest",
            },
        ),
    ]


class Checks:
    """The periodic alert rules, each in a transaction of its own."""

    def __init__(self, app: Flask, *, clock: Callable[[], datetime] = utcnow):
        self.app = app
        self.clock = clock
        self.sessions = make_sessionmaker(app.extensions["hailong.engine"])

    def silent_kiosks(self) -> int:
        """Rule 4: kiosks silent during opening hours; return how many alerts were raised."""
        with self.app.app_context(), self.sessions() as session, session.begin():
            raised = alerts.check_silent_kiosks(
                session, now=self.clock(), silent_after=settings().kiosk_silent
            )
            return len(raised)

    def falls(self) -> int:
        """Rule 3: significant falls in satisfaction; return how many alerts were raised."""
        with self.app.app_context(), self.sessions() as session, session.begin():
            raised = alerts.check_falls(session, now=self.clock(), min_n=settings().min_responses)
            return len(raised)

    def weekly_digest(self) -> int:
        """Queue the week's digest to every manager, once whatever the number of workers."""
        with self.app.app_context(), self.sessions() as session, session.begin():
            return digest.queue_weekly_digests(
                session, now=self.clock(), timezone=settings().default_timezone
            )

    def purge_outbox(self, *, batch: int = 500) -> int:
        """Delete old sent and given-up outbox messages, a batch per transaction (a short lock
        each time, however many there are); return how many."""
        with self.app.app_context():
            retention = settings().outbox_retention
        purged = 0
        while True:
            with self.sessions() as session, session.begin():
                deleted = outbox.purge_batch(
                    session, now=self.clock(), retention=retention, limit=batch
                )
            purged += deleted
            if deleted < batch:
                return purged

    def cases(self) -> tuple[int, int]:
        """Rule 5 (overdue call-backs) and the erasure of old contacts; return both counts."""
        with self.app.app_context(), self.sessions() as session, session.begin():
            now = self.clock()
            raised = cases.check_overdue(session, now=now)
            erased = cases.erase_contacts(session, now=now, policy=settings().cases)
            return raised, erased
