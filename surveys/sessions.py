"""Signed-in browsers, kept on the server so that signing out takes effect at once.

The session cookie carries only a random secret; ``user_session`` keeps its SHA-256. A session
ends on sign-out, on a password change or reset, when its account is switched off or changes
role, after SessionLifetimes.idle without a request, and SessionLifetimes.absolute after it
began, whatever the cookie says. A new secret is issued at sign-in and at every change of
privilege (second factor passed, enrolment done), so a secret seen before never gains rights.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from surveys.models import User, UserSession
from surveys.tokens import hash_secret, new_secret

#: Stages of a session: signed in, or between the password and the second factor.
FULL = "full"
SECOND_FACTOR = "second_factor"
ENROL = "enrol"
#: How stale last_seen_at may get: refreshing it on every request would make each GET write.
TOUCH_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionLifetimes:
    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class Found:
    """A live session, and whether its last-seen time is due a refresh."""

    session: UserSession
    is_touch_due: bool


def start_session(
    session: Session,
    user: User,
    *,
    now: datetime,
    stage: str = FULL,
    user_agent: str = "",
    ip: str = "",
) -> str:
    """Open a session for ``user`` and return its secret (for the cookie; only its hash is kept)."""
    secret = new_secret("s_")
    session.add(
        UserSession(
            user_id=user.id,
            secret_hash=hash_secret(secret),
            stage=stage,
            created_at=now,
            last_seen_at=now,
            user_agent=(user_agent or "")[:200],
            ip=(ip or "")[:64],
        )
    )
    session.flush()
    return secret


def find_session(
    session: Session, secret: str | None, *, now: datetime, lifetimes: SessionLifetimes
) -> Found | None:
    """Return the live session of this secret, or None (ended, idle or too old); reads only."""
    if not secret:
        return None
    row = session.scalar(select(UserSession).where(UserSession.secret_hash == hash_secret(secret)))
    if row is None or row.ended_at is not None or not row.user.is_active:
        return None
    if now - row.last_seen_at >= lifetimes.idle or now - row.created_at >= lifetimes.absolute:
        return None
    return Found(row, now - row.last_seen_at >= TOUCH_RESOLUTION)


def touch_session(session: Session, session_id: int, now: datetime) -> None:
    """Record that a session was used at ``now`` (bookkeeping, run apart from the request)."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.ended_at.is_(None))
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )


def end_session(session: Session, secret: str | None, *, now: datetime) -> None:
    """End the session of this secret (sign-out); an unknown secret is ignored."""
    if not secret:
        return
    session.execute(
        update(UserSession)
        .where(UserSession.secret_hash == hash_secret(secret), UserSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )


def end_session_by_id(session: Session, user: User, session_id: int, *, now: datetime) -> None:
    """End one of ``user``'s own sessions, chosen from their list; another's is ignored."""
    session.execute(
        update(UserSession)
        .where(
            UserSession.id == session_id,
            UserSession.user_id == user.id,
            UserSession.ended_at.is_(None),
        )
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )


def end_all_sessions(
    session: Session, user: User, *, now: datetime, keep_secret: str | None = None
) -> int:
    """End every session of ``user`` (but the one of ``keep_secret``); return how many."""
    query = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    if keep_secret:
        query = query.where(UserSession.secret_hash != hash_secret(keep_secret))
    result = session.execute(
        query.values(ended_at=now).execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def live_sessions(
    session: Session, user: User, *, now: datetime, lifetimes: SessionLifetimes
) -> list[UserSession]:
    """Return a user's sessions that still work, newest first."""
    return list(
        session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.ended_at.is_(None),
                UserSession.last_seen_at > now - lifetimes.idle,
                UserSession.created_at > now - lifetimes.absolute,
            )
            .order_by(UserSession.created_at.desc())
        )
    )


def purge_sessions(
    session: Session, *, now: datetime, lifetimes: SessionLifetimes, keep: timedelta
) -> int:
    """Delete sessions that ended (or expired) more than ``keep`` ago; return how many."""
    cutoff = now - keep
    result = session.execute(
        delete(UserSession)
        .where(
            or_(
                UserSession.ended_at < cutoff,
                UserSession.last_seen_at < cutoff - lifetimes.idle,
                UserSession.created_at < cutoff - lifetimes.absolute,
            )
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
