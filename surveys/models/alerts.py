"""Alerts raised about an office, the rules that raise them, webhooks, and the outbox that
carries every e-mail and webhook delivery out of the process."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base
from surveys.models.account import User
from surveys.models.org import Office

#: Outbox states: waiting to be sent (again), sent, given up after the retry period.
PENDING, SENT, FAILED = "pending", "sent", "failed"


class OutboxMessage(Base):
    """One e-mail or webhook delivery, written in the transaction of what caused it.

    A worker claims it (``claimed_by`` until ``claimed_until``, the lease), sends it outside any
    transaction, and records the result. A worker killed mid-send leaves a lease that expires;
    the next worker takes the message again.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "email" or "webhook": which sender delivers it.
    kind: Mapped[str] = mapped_column(String(16))
    #: The id receivers use to ignore a repeated delivery (a UUID, shared by all the copies
    #: of one event sent to several webhooks).
    event_id: Mapped[str] = mapped_column(String(36))
    #: "alert.raised", "alert.acknowledged"...; "" for mail not tied to an event.
    event: Mapped[str] = mapped_column(String(64), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhook.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    created_at: Mapped[datetime]
    #: Not sent before this time (now for a new message; later after a failed attempt).
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    #: The claim's lease: past this time another worker may take the message.
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    #: The receiver's HTTP status (webhooks) or SMTP reply code of the last attempt.
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


class Webhook(Base):
    """An address of a city's other system that receives signed events."""

    __tablename__ = "webhook"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    #: The events it receives, e.g. ["alert.raised", "alert.acknowledged"].
    events: Mapped[list[str]] = mapped_column(JSON)
    #: The HMAC key of its signatures; kept readable, as signing needs it.
    secret: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    is_active: Mapped[bool] = mapped_column(default=True)
    #: response.created carries the citizen's comment only when this was asked for.
    include_comments: Mapped[bool] = mapped_column(default=False)


class AlertRule(Base):
    """An administrator's adjustment of one rule for a unit's subtree or for one office.

    An office follows its own row, else its nearest unit's, else the built-in defaults; a
    None number means "as inherited".
    """

    __tablename__ = "alert_rule"
    __table_args__ = (UniqueConstraint("unit_id", "office_id", "rule", name="uq_alert_rule_place"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id"), index=True)
    #: "harassment", "burst", "fall" or "kiosk_silent".
    rule: Mapped[str] = mapped_column(String(32))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    #: Burst: negative ratings within the window that raise it.
    burst_count: Mapped[int | None]
    #: Burst: the window, in minutes.
    burst_minutes: Mapped[int | None]
    #: Fall: the recent period compared, in days (the last N days before the check).
    fall_recent_days: Mapped[int | None]
    #: Fall: the baseline it is compared with, in weeks (those just before the recent period).
    fall_baseline_weeks: Mapped[int | None]
    #: Fall: the ratings needed on each side; None all the way up means MIN_RESPONSES.
    fall_min_responses: Mapped[int | None]


class Alert(Base):
    """Something at an office a manager should look at now; one row per episode."""

    __tablename__ = "alert"
    __table_args__ = (
        Index("ix_alert_office_raised", "office_id", "raised_at"),
        # One open episode per rule and subject at an office: two ratings arriving at once
        # cannot raise the same alert twice.
        Index(
            "uq_alert_open_episode",
            "office_id",
            "rule",
            "episode_key",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    rule: Mapped[str] = mapped_column(String(32))
    #: What the episode is about within the office: "" for the office as a whole, else e.g.
    #: "officer:12", "counter:3" or "device:7".
    episode_key: Mapped[str] = mapped_column(String(64), default="")
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counter.id"))
    #: Only for reasons about the person who served (never for procedure or facilities).
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    #: The numbers behind it: counts, window, rates, ratings so far in the episode.
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    raised_at: Mapped[datetime]
    #: The latest rating or check that belonged to the episode.
    last_triggered_at: Mapped[datetime]
    trigger_count: Mapped[int] = mapped_column(default=1)
    #: When the episode ended (quiet long enough, or the cause went away).
    closed_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    acknowledgement_note: Mapped[str | None] = mapped_column(Text)

    office: Mapped[Office] = relationship()
    acknowledged_by: Mapped[User | None] = relationship()


class JobRun(Base):
    """One run of a periodic job for one period, claimed by the first worker to get there:
    with several workers, the weekly digest still goes out once a week."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "period", name="uq_job_run_job"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    #: The period it covers, e.g. "2026-W49".
    period: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime]


class DigestOptOut(Base):
    """A user who asked (by the link in the e-mail) to stop receiving the weekly digest."""

    __tablename__ = "digest_opt_out"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    created_at: Mapped[datetime]


class PublishedAction(Base):
    """What an office did about what citizens said, published by a manager on the office's
    public page ("Ông/Bà góp ý … — chúng tôi đã …")."""

    __tablename__ = "published_action"
    __table_args__ = (Index("ix_published_action_office_published", "office_id", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    #: What citizens said, in the manager's words (contact details are masked on saving).
    said: Mapped[str] = mapped_column(Text)
    #: What the office did about it.
    done: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: Taken off the public page (kept for the record).
    withdrawn_at: Mapped[datetime | None]
