"""The weekly digest: each manager's offices, this week against the week before, and the
alerts still open; one e-mail per manager per week, with an unsubscribe link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from surveys import outbox
from surveys.accounts import visible_offices
from surveys.alerts import Z_95, alerts_query, two_proportion_z
from surveys.models import Alert, DigestOptOut, JobRun, Office, Response, User
from surveys.periods import to_local
from surveys.stats import Rate, satisfaction_rate

#: Offices listed in one e-mail (largest changes first); the rest are counted.
MAX_OFFICES = 25


def claim_run(session: Session, job: str, period: str, *, now: datetime) -> bool:
    """Claim ``job`` for ``period`` for this worker; False if another already has it."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    statement = (
        dialect_insert(JobRun)
        .values(job=job, period=period, started_at=now)
        .on_conflict_do_nothing(index_elements=["job", "period"])
        .execution_options(preserve_rowcount=True)
    )
    return session.execute(statement).rowcount == 1


def week_of(now: datetime, timezone: str) -> str:
    """Return the ISO week of ``now`` in the city's time zone, e.g. "2026-W49"."""
    year, week, _ = to_local(now, timezone).isocalendar()
    return f"{year}-W{week:02d}"


def queue_weekly_digests(session: Session, *, now: datetime, timezone: str) -> int:
    """Queue this week's digest to every active manager who did not opt out, each in their own
    language; return how many.

    Safe in several workers: the first to claim the week queues them, the others nothing.
    """
    period = week_of(now, timezone)
    if not claim_run(session, "weekly_digest", period, now=now):
        return 0
    opted_out = select(DigestOptOut.user_id)
    managers = session.scalars(
        select(User)
        .where(User.role == "manager", User.is_active, User.id.not_in(opted_out))
        .order_by(User.id)
    ).all()
    for manager in managers:
        outbox.enqueue(
            session,
            "email",
            {
                "to": manager.email,
                "template": "digest",
                "user_id": manager.id,
                "week": period,
                "until": now.isoformat(timespec="seconds"),
                "locale": manager.language,
            },
            now=now,
        )
    return len(managers)


@dataclass(frozen=True)
class OfficeWeek:
    office: Office
    this_week: Rate
    last_week: Rate
    #: "up", "down" or "" when the two-proportion test finds no change at 95 %.
    change: str
    open_alerts: int


@dataclass(frozen=True)
class Digest:
    user: User
    offices: list[OfficeWeek]
    #: Offices in scope beyond those listed.
    more: int
    open_alerts: int


def digest_for(session: Session, user: User, *, until: datetime, min_n: int) -> Digest:
    """Return a manager's week: each office's satisfaction against the week before."""
    start, middle = until - timedelta(days=14), until - timedelta(days=7)
    offices = {o.id: o for o in session.scalars(visible_offices(user).where(Office.is_active))}
    is_this = Response.submitted_at >= middle
    counts = {
        row[0]: row[1:]
        for row in session.execute(
            select(
                Response.office_id,
                func.count(case((is_this, 1))),
                func.count(case((is_this & (Response.headline_polarity > 0), 1))),
                func.count(case((~is_this, 1))),
                func.count(case((~is_this & (Response.headline_polarity > 0), 1))),
            )
            .where(
                Response.office_id.in_(offices),
                Response.submitted_at >= start,
                Response.submitted_at < until,
                Response.is_counted,
            )
            .group_by(Response.office_id)
        )
    }
    open_by_office = dict(
        session.execute(
            alerts_query(user)
            .where(Alert.acknowledged_at.is_(None))
            .with_only_columns(Alert.office_id, func.count())
            .group_by(Alert.office_id)
            .order_by(None)
        ).all()
    )
    weeks = []
    for office_id, office in offices.items():
        n_this, pos_this, n_last, pos_last = counts.get(office_id, (0, 0, 0, 0))
        change = ""
        if n_this >= min_n and n_last >= min_n:
            z = two_proportion_z(pos_this, n_this, pos_last, n_last)
            change = "up" if z > Z_95 else ("down" if z < -Z_95 else "")
        weeks.append(
            OfficeWeek(
                office,
                satisfaction_rate(pos_this, n_this, min_n),
                satisfaction_rate(pos_last, n_last, min_n),
                change,
                open_by_office.get(office_id, 0),
            )
        )
    # Falls first, then open alerts, then the busiest.
    weeks.sort(key=lambda w: (w.change != "down", -w.open_alerts, -w.this_week.n, w.office.name))
    return Digest(
        user,
        weeks[:MAX_OFFICES],
        max(len(weeks) - MAX_OFFICES, 0),
        sum(open_by_office.values()),
    )


def opt_out(session: Session, user_id: int, *, now: datetime) -> bool:
    """Stop the digest for a user; False if they had already opted out."""
    if session.get(DigestOptOut, user_id) is not None:
        return False
    session.add(DigestOptOut(user_id=user_id, created_at=now))
    session.flush()
    return True
