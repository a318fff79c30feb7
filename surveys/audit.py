"""The audit log: every change to the organisation, surveys, accounts, codes, kiosks and
tickets, and every sign-in, with who, when, from which role, and the values before and after.

Append-only: this module can add and read entries, nothing can change or remove one. Citizens'
answers and comments never go into it, nor do secrets (PINs, passwords, tokens, pairing codes):
``record`` drops any value whose key names one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from surveys.models import AuditEntry, User
from surveys.periods import DateRange

#: Keys whose values are secrets and are never written into the log.
SECRET_KEYS = frozenset({"pin", "pin_hash", "password", "password_hash", "token", "secret"})


def _clean(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {
        key: (None if key in SECRET_KEYS else _jsonable(value))
        for key, value in values.items()
        if key not in SECRET_KEYS
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds") + "Z"
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def record(
    session: Session,
    actor: User | None,
    action: str,
    *,
    now: datetime,
    subject_type: str = "",
    subject: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_email: str | None = None,
) -> AuditEntry:
    """Add one entry; flushes with the change it records, so both commit or neither does.

    ``actor`` None is the command line, a kiosk, or someone not signed in (then
    ``actor_email`` says who they claimed to be, for a failed sign-in).
    """
    entry = AuditEntry(
        at=now,
        actor_id=actor.id if actor is not None else None,
        actor_email=(actor.email if actor is not None else (actor_email or ""))[:254],
        actor_role=actor.role if actor is not None else "",
        action=action,
        subject_type=subject_type,
        subject=str(subject)[:254],
        before=_clean(before),
        after=_clean(after),
    )
    session.add(entry)
    session.flush()
    return entry


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Return only what differs between two snapshots, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


@dataclass(frozen=True)
class AuditFilter:
    """What to look for: inclusive days in ``timezone``, an actor's email, an action or prefix."""

    period: DateRange | None = None
    actor: str | None = None
    action: str | None = None
    timezone: str = "UTC"

    def apply(self, query: Select) -> Select:
        if self.period is not None:
            start, end = self.period.utc_bounds(self.timezone)
            query = query.where(AuditEntry.at >= start, AuditEntry.at < end)
        if self.actor:
            query = query.where(AuditEntry.actor_email == self.actor.strip().lower())
        if self.action:
            action = self.action.strip()
            if action.endswith("."):
                query = query.where(AuditEntry.action.startswith(action, autoescape=True))
            else:
                query = query.where(AuditEntry.action == action)
        return query


#: The largest id an entry can have (a 32-bit INTEGER column on PostgreSQL). A larger
#: ``before_id`` bounds nothing, and PostgreSQL would refuse it as an INTEGER parameter.
MAX_ENTRY_ID = 2**31 - 1


def entries(
    session: Session, where: AuditFilter, *, limit: int = 200, before_id: int | None = None
) -> list[AuditEntry]:
    """Return entries, newest first, a page at a time (``before_id``: the last one seen)."""
    query = where.apply(select(AuditEntry)).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id is not None and before_id <= MAX_ENTRY_ID:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query))


CSV_COLUMNS = ["at", "actor", "role", "action", "subject_type", "subject", "before", "after"]


def csv_rows(session: Session, where: AuditFilter, *, batch: int = 2000) -> Iterator[list[str]]:
    """Yield a header, then every matching entry oldest first, in batches by id."""
    import json

    yield CSV_COLUMNS
    last = 0
    while True:
        rows = session.scalars(
            where.apply(select(AuditEntry))
            .where(AuditEntry.id > last)
            .order_by(AuditEntry.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for entry in rows:
            yield [
                entry.at.isoformat(timespec="seconds") + "Z",
                entry.actor_email,
                entry.actor_role,
                entry.action,
                entry.subject_type,
                entry.subject,
                json.dumps(entry.before, ensure_ascii=False) if entry.before is not None else "",
                json.dumps(entry.after, ensure_ascii=False) if entry.after is not None else "",
            ]
        last = rows[-1].id


def actions(session: Session) -> list[str]:
    """Return the actions recorded so far, for a filter's choices."""
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
