"""Looking up the public survey codes of offices and counters."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Target


def public_codes(session: Session, office_ids: Iterable[int]) -> dict[tuple[int, int | None], str]:
    """Return {(office_id, counter_id or None): code} for the active office and counter codes."""
    ids = list(office_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Target.office_id, Target.counter_id, Target.code)
        .where(
            Target.office_id.in_(ids),
            Target.kind.in_(("office", "counter")),
            Target.is_enabled.is_(True),
            Target.rotated_at.is_(None),
        )
        .order_by(Target.id.desc())
    ).all()
    # Oldest last, so the first-created code of each place wins.
    return {(office_id, counter_id): code for office_id, counter_id, code in rows}
