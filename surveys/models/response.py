"""One citizen's answers to a survey, and the answers themselves."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, ForeignKey, Index, SmallInteger, String, Text, Uuid, false
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base

CHANNELS = ("kiosk", "qr", "ticket")


class Response(Base):
    __tablename__ = "response"
    __table_args__ = (
        # The dashboard counts by office and time; with the polarity in the index it never
        # reads the table itself (an index-only scan).
        Index(
            "ix_response_office_submitted",
            "office_id",
            "submitted_at",
            "headline_polarity",
            "is_suspect",
        ),
        # Ratings held back for review, for the administrators' queue.
        Index("ix_response_suspect_pending", "is_suspect", "suspect_reviewed_at", "target_id"),
        Index("ix_response_counter_submitted", "counter_id", "submitted_at"),
        Index("ix_response_officer_submitted", "officer_id", "submitted_at"),
    )

    #: The client's UUID; being the primary key makes a replay impossible to store twice.
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id"))
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"))
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counter.id"))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("kiosk_device.id"))
    channel: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(8))
    #: When the citizen answered (the kiosk's clock for offline replays), UTC.
    submitted_at: Mapped[datetime]
    #: When the server stored it, UTC.
    received_at: Mapped[datetime]
    #: Polarity of the headline answer: 1 positive, 0 neutral, -1 negative.
    headline_polarity: Mapped[int] = mapped_column(SmallInteger)
    is_verified: Mapped[bool] = mapped_column(default=False)
    #: The one-time ticket this response redeemed; unique, so a ticket counts once.
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), unique=True)
    #: SHA-256 of the canonical request body, to tell a replay from a conflicting reuse of an id.
    body_hash: Mapped[str] = mapped_column(String(64))
    #: Arrived while its code was over its hourly ceiling: stored, but left out of every
    #: figure until an administrator accepts it.
    is_suspect: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: When and by whom a suspect rating was accepted (is_suspect cleared) or rejected (kept).
    suspect_reviewed_at: Mapped[datetime | None]
    suspect_reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    answers: Mapped[list[Answer]] = relationship(back_populates="response")

    @hybrid_property
    def is_counted(self) -> bool:
        """Whether the rating counts in the figures: every one but those held as suspect."""
        return not self.is_suspect

    @is_counted.inplace.expression
    @classmethod
    def _is_counted_expression(cls) -> ColumnElement[bool]:
        return cls.is_suspect.is_(False)


class Answer(Base):
    __tablename__ = "answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("response.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    #: Set for scale, choice and multi answers (one row per chosen choice).
    choice_id: Mapped[int | None] = mapped_column(ForeignKey("choice.id"))
    #: Set for free-text answers.
    text: Mapped[str | None] = mapped_column(Text)

    response: Mapped[Response] = relationship(back_populates="answers")
