"""Retention of personal data citizens may have typed: comments older than the configured
number of days lose their text; the ratings of the same responses stay and keep counting."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from surveys.models import Answer, Response


def erase_old_comments(session: Session, *, now: datetime, older_than: timedelta) -> int:
    """Delete the free-text answers of responses received before ``now - older_than``;
    return how many were erased."""
    old = select(Response.id).where(Response.received_at < now - older_than)
    result = session.execute(
        delete(Answer)
        .where(Answer.text.is_not(None), Answer.response_id.in_(old))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
