"""The audit log: who changed what, when, from which role, before and after. Append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from surveys.db import Base


class AuditEntry(Base):
    """One recorded action. The app has no way to change or remove an entry."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_at", "at"),
        Index("ix_audit_entry_action_at", "action", "at"),
        Index("ix_audit_entry_actor_at", "actor_email", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    #: The user who acted; None for the command line, a kiosk or a failed sign-in.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: Kept as text: the log must read the same after the account changes.
    actor_email: Mapped[str] = mapped_column(String(254), default="")
    actor_role: Mapped[str] = mapped_column(String(16), default="")
    #: What was done, "noun.verb": "office.create", "auth.sign_in_failed", "code.rotate"...
    action: Mapped[str] = mapped_column(String(64))
    #: What it was done to: a kind ("office", "user", "kiosk"...) and its code or id.
    subject_type: Mapped[str] = mapped_column(String(32), default="")
    subject: Mapped[str] = mapped_column(String(254), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
