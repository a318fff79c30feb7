"""The outbox: what must leave the process (e-mails, webhook deliveries) is written in the same
transaction as what caused it, then sent by a worker, at least once.

Claiming is safe with several workers on several machines: on PostgreSQL the due rows are
selected ``FOR UPDATE SKIP LOCKED`` (a row another worker is claiming is skipped, not waited
for); on SQLite one conditional UPDATE claims them. A claim is a lease: the worker sends
outside any transaction and records the result; if it dies first, the lease runs out and the
next worker sends the message again (a receiver ignores the repeat by the event id).

Sent and given-up messages are kept a while (they are a webhook's list of deliveries), then
purged in small batches (``purge_batch``), never a pending or claimed one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from surveys.models import OutboxMessage
from surveys.models.alerts import FAILED, PENDING, SENT


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed delivery is tried again, and when it is given up."""

    #: The first retry comes this long after the first failure; each next waits twice as long.
    first_retry: timedelta = timedelta(seconds=30)
    longest_wait: timedelta = timedelta(hours=1)
    #: A message not delivered this long after it was written is marked failed.
    give_up_after: timedelta = timedelta(hours=24)
    #: How long a claim holds: a worker killed mid-send blocks its messages this long at most.
    lease: timedelta = timedelta(minutes=2)

    def wait_after(self, attempts: int) -> timedelta:
        """Return the wait before the next try, after ``attempts`` failed ones (1 or more)."""
        return min(self.first_retry * 2 ** max(attempts - 1, 0), self.longest_wait)


@dataclass(frozen=True)
class OutboxRetention:
    """How long delivered and given-up messages are kept before they are purged."""

    keep_sent: timedelta = timedelta(days=30)
    #: Longer: a failure is what someone may come looking for.
    keep_failed: timedelta = timedelta(days=90)


def new_event_id() -> str:
    return str(uuid.uuid4())


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    now: datetime,
    event: str = "",
    event_id: str | None = None,
    webhook_id: int | None = None,
) -> OutboxMessage:
    """Add one message to send; flush, never commit (it leaves with the caller's transaction)."""
    message = OutboxMessage(
        kind=kind,
        event=event,
        event_id=event_id or new_event_id(),
        payload=payload,
        webhook_id=webhook_id,
        status=PENDING,
        created_at=now,
        due_at=now,
        attempts=0,
    )
    session.add(message)
    session.flush()
    return message


def _claimable(now: datetime):
    return and_(
        OutboxMessage.status == PENDING,
        OutboxMessage.due_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )


def claim_due(
    session: Session, *, worker: str, now: datetime, lease: timedelta, limit: int = 20
) -> list[int]:
    """Claim up to ``limit`` due messages for ``worker`` until ``now + lease``; return their ids.

    The caller commits at once, so the claim is visible to the other workers before sending.
    """
    due = (
        select(OutboxMessage.id)
        .where(_claimable(now))
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
        .limit(limit)
    )
    claim = {"claimed_by": worker, "claimed_until": now + lease}
    if session.get_bind().dialect.name == "postgresql":
        ids = list(session.scalars(due.with_for_update(skip_locked=True)))
        if ids:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(**claim)
                .execution_options(synchronize_session=False)
            )
        return ids
    # SQLite has one writer at a time: a single conditional UPDATE is the claim, and the
    # loser of two simultaneous ones finds the rows already leased.
    return list(
        session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due.scalar_subquery()), _claimable(now))
            .values(**claim)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
    )


def record_sent(
    session: Session, message_id: int, *, worker: str, now: datetime, status: int | None = None
) -> None:
    """Mark a claimed message sent."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == PENDING)
        .values(
            status=SENT,
            sent_at=now,
            attempts=OutboxMessage.attempts + 1,
            claimed_until=None,
            last_status=status,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )


def record_failure(
    session: Session,
    message: OutboxMessage,
    *,
    now: datetime,
    error: str,
    status: int | None = None,
    policy: RetryPolicy = RetryPolicy(),
    give_up: bool = False,
) -> None:
    """Schedule the next try of a claimed message with exponential backoff, or give it up
    (past the retry period, or at once with ``give_up``)."""
    attempts = message.attempts + 1
    next_try = now + policy.wait_after(attempts)
    gives_up = give_up or next_try > message.created_at + policy.give_up_after
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status == PENDING)
        .values(
            status=FAILED if gives_up else PENDING,
            attempts=attempts,
            due_at=message.due_at if gives_up else next_try,
            claimed_until=None,
            last_status=status,
            last_error=error[:500],
        )
        .execution_options(synchronize_session=False)
    )


def purge_batch(
    session: Session, *, now: datetime, retention: OutboxRetention, limit: int = 500
) -> int:
    """Delete up to ``limit`` messages sent more than ``keep_sent`` ago or given up more than
    ``keep_failed`` ago; return how many. Flush, never commit: the caller commits each batch,
    so no lock is held on many rows for long.

    A given-up message's last try is its ``due_at``; a sent one went at or after its
    ``due_at``, so both conditions also bound ``due_at`` and use the (status, due_at) index.
    """
    sent_before, failed_before = now - retention.keep_sent, now - retention.keep_failed
    old = (
        select(OutboxMessage.id)
        .where(
            or_(
                and_(
                    OutboxMessage.status == SENT,
                    OutboxMessage.due_at < sent_before,
                    OutboxMessage.sent_at < sent_before,
                ),
                and_(OutboxMessage.status == FAILED, OutboxMessage.due_at < failed_before),
            )
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Another worker purging at the same moment takes other rows instead of waiting.
        old = old.with_for_update(skip_locked=True)
    ids = list(session.scalars(old))
    if not ids:
        return 0
    session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status.in_((SENT, FAILED)))
        .execution_options(synchronize_session=False)
    )
    return len(ids)
