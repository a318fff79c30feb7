"""Call-back cases: a citizen unhappy with a visit asked to be contacted again."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base
from surveys.models.account import User
from surveys.models.org import Office

CASE_STATES = ("open", "contacted", "resolved")


class CallbackCase(Base):
    """One request to be called back, and what the office did: open → contacted → resolved.

    The contact detail is shown only to the office's managers, never exported or sent to a
    webhook, and erased CASE_ERASE_DAYS after the case is resolved.
    """

    __tablename__ = "callback_case"
    __table_args__ = (
        Index("ix_callback_case_status_due", "status", "due_at"),
        Index("ix_callback_case_office_opened", "office_id", "opened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    #: The rating that asked; one case per rating.
    response_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("response.id", ondelete="CASCADE"), unique=True
    )
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counter.id"))
    #: "phone" or "email".
    contact_kind: Mapped[str] = mapped_column(String(8))
    #: None once erased.
    contact: Mapped[str | None] = mapped_column(String(254))
    #: When the citizen ticked the consent sentence.
    consent_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[datetime]
    #: Opened plus CASE_DUE_WORKING_DAYS working days (Monday to Friday, office's time zone).
    due_at: Mapped[datetime]
    contacted_at: Mapped[datetime | None]
    contacted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    contacted_note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_note: Mapped[str | None] = mapped_column(Text)
    erased_at: Mapped[datetime | None]

    office: Mapped[Office] = relationship()
    contacted_by: Mapped[User | None] = relationship(foreign_keys=[contacted_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
