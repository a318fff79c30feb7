"""Ratings held back for review: those a code took while over its hourly ceiling.

They are stored like any other but left out of every figure (``Response.is_counted``) until an
administrator accepts them; a rejected batch stays out, and leaves the queue.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from surveys.accounts import visible_offices
from surveys.errors import NotFound, PermissionDenied, Reason
from surveys.models import Office, Response, Target, User
from surveys.rollups import add_stored_responses

#: The most held ratings one look at the queue reads.
QUEUE_LIMIT = 20_000


@dataclass(frozen=True)
class HeldBatch:
    """The held ratings of one code in one hour (UTC), with how they split."""

    target: Target
    hour: datetime
    count: int
    positive: int
    negative: int


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def held_batches(session: Session, actor: User) -> list[HeldBatch]:
    """Return the pending held ratings in the actor's scope, by code and hour, newest first."""
    offices = visible_offices(actor).with_only_columns(Office.id).order_by(None)
    rows = session.execute(
        select(Response.target_id, Response.submitted_at, Response.headline_polarity)
        .where(
            Response.is_suspect.is_(True),
            Response.suspect_reviewed_at.is_(None),
            Response.office_id.in_(offices),
        )
        .limit(QUEUE_LIMIT)
    ).all()
    groups: dict[tuple[int, datetime], list[int]] = defaultdict(lambda: [0, 0, 0])
    for target_id, submitted_at, polarity in rows:
        counts = groups[(target_id, _hour(submitted_at))]
        counts[0] += 1
        counts[1] += polarity == 1
        counts[2] += polarity == -1
    targets = {
        t.id: t
        for t in session.scalars(select(Target).where(Target.id.in_({k[0] for k in groups})))
    }
    batches = [
        HeldBatch(targets[target_id], hour, *counts) for (target_id, hour), counts in groups.items()
    ]
    return sorted(batches, key=lambda b: (b.hour, b.target.code), reverse=True)


def review_held(
    session: Session, actor: User, target_code: str, hour: datetime, *, accept: bool, now: datetime
) -> int:
    """Accept (count them from now on) or reject (keep them out) one batch; return its size."""
    if actor.role != "admin":
        raise PermissionDenied("Only administrators review held ratings.")
    target = session.scalar(select(Target).where(Target.code == target_code))
    if target is None:
        raise NotFound("No survey has this code.", {"target": Reason.UNKNOWN_CODE})
    visible = session.scalar(visible_offices(actor).where(Office.id == target.office_id))
    if visible is None:
        raise PermissionDenied("This code is outside your scope.", {"target": Reason.NOT_IN_SCOPE})
    start = _hour(hour)
    batch = (
        Response.target_id == target.id,
        Response.is_suspect.is_(True),
        Response.suspect_reviewed_at.is_(None),
        Response.submitted_at >= start,
        Response.submitted_at < start + timedelta(hours=1),
    )
    values = {"suspect_reviewed_at": now, "suspect_reviewed_by_id": actor.id}
    if not accept:
        # Kept out: they never entered the rollups, and stay out of them.
        return session.execute(
            update(Response)
            .where(*batch)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
    # Read the batch's ids with a row lock (PostgreSQL), so a concurrent review of the same
    # batch waits and then finds nothing left to accept: each rating enters the rollups once.
    ids = session.scalars(select(Response.id).where(*batch).with_for_update()).all()
    if not ids:
        return 0
    session.execute(
        update(Response)
        .where(Response.id.in_(ids))
        .values(**values, is_suspect=False)
        .execution_options(synchronize_session=False)
    )
    add_stored_responses(session, ids)
    return len(ids)
