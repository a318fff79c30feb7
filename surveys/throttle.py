"""Per-account throttling of password guesses: a growing wait, never a lockout.

Kept per login as typed (normalised and hashed), whether or not an account has it, so the
answers for a known and an unknown address are the same. After ``free_failures`` failures the
login must wait ``first_wait``, doubled at each further failure up to ``max_wait``; a success
clears it. Nothing ever locks an account for good: an attacker can slow a manager's sign-in
down, never shut it off — and a browser that signed in to that account before is not slowed
at all (the web layer knows it by a signed cookie).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from surveys import audit, outbox
from surveys.models import SignInThrottle, User
from surveys.tokens import hash_secret


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 5
    first_wait: timedelta = timedelta(seconds=30)
    max_wait: timedelta = timedelta(minutes=15)

    def wait_after(self, failures: int) -> timedelta | None:
        """Return how long a login must wait after this many failures in a row, if at all."""
        if failures < self.free_failures:
            return None
        # Past ~20 doublings the cap has long been reached; bound the exponent.
        doublings = min(failures - self.free_failures, 20)
        return min(self.first_wait * 2**doublings, self.max_wait)


def login_key(login: str) -> str:
    """Return the key under which a login's failures are counted (never the login itself)."""
    return hash_secret("sign-in:" + (login or "").strip().lower())


def wait_left(session: Session, login: str, now: datetime) -> timedelta | None:
    """Return how long this login must still wait before a password is checked, if at all."""
    wait_until = session.scalar(
        select(SignInThrottle.wait_until).where(SignInThrottle.key == login_key(login))
    )
    if wait_until is None or wait_until <= now:
        return None
    return wait_until - now


def note_failure(
    session: Session, login: str, *, now: datetime, policy: ThrottlePolicy
) -> timedelta | None:
    """Count a failed sign-in of ``login``; return the wait it starts, if any (audited)."""
    key = login_key(login)
    row = session.get(SignInThrottle, key)
    if row is None:
        row = SignInThrottle(key=key, failures=0)
        session.add(row)
        session.flush()
    session.execute(
        update(SignInThrottle)
        .where(SignInThrottle.key == key)
        .values(failures=SignInThrottle.failures + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(row)
    wait = policy.wait_after(row.failures)
    if wait is None:
        return None
    row.wait_until = now + wait
    session.flush()
    typed = (login or "").strip().lower()[:254]
    audit.record(
        session,
        None,
        "auth.throttled",
        now=now,
        subject_type="user",
        subject=typed,
        actor_email=typed,
        after={"failures": row.failures, "wait_seconds": int(wait.total_seconds())},
    )
    # The account's owner is told by e-mail (through the outbox, sent by the worker) when
    # the login names an account; an unknown login gets nothing, and answers the same.
    owner = session.execute(
        select(User.email, User.language).where(func.lower(User.email) == typed, User.is_active)
    ).one_or_none()
    if owner is not None:
        outbox.enqueue(
            session,
            "email",
            {
                "to": owner.email,
                "template": "sign_in_throttled",
                "failures": row.failures,
                "wait_seconds": int(wait.total_seconds()),
                "locale": owner.language,
            },
            now=now,
        )
    return wait


def clear(session: Session, login: str) -> None:
    """Forget a login's failures (it signed in)."""
    session.execute(
        delete(SignInThrottle)
        .where(SignInThrottle.key == login_key(login))
        .execution_options(synchronize_session=False)
    )
