"""Kiosk tablets bound to a counter, and the one-time codes that pair them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, ForeignKey, String, and_, or_
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, utcnow
from surveys.errors import InvalidTransition
from surveys.models.org import Counter, Officer


class KioskDevice(Base):
    __tablename__ = "kiosk_device"

    id: Mapped[int] = mapped_column(primary_key=True)
    counter_id: Mapped[int] = mapped_column(ForeignKey("counter.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    #: SHA-256 of the device credential held by the tablet.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: When the current credential was issued; the heartbeat replaces it once it is older
    #: than KIOSK_CREDENTIAL_ROTATE_HOURS.
    token_issued_at: Mapped[datetime | None]
    #: The credential it replaced, still accepted until ``previous_token_until`` so ratings
    #: already on their way are not refused.
    previous_token_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    previous_token_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    #: From the last heartbeat: the kiosk app's version, ratings waiting on the tablet, the
    #: submitted_at of the oldest of them, and the last error the tablet met.
    app_version: Mapped[str | None] = mapped_column(String(32))
    queue_depth: Mapped[int] = mapped_column(default=0, server_default="0")
    oldest_queued_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    #: The officer signed in on this tablet now; ratings made meanwhile are theirs.
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))

    counter: Mapped[Counter] = relationship()
    officer: Mapped[Officer | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self, now: datetime) -> None:
        if self.revoked_at is not None:
            raise InvalidTransition("This kiosk was already revoked.")
        self.revoked_at = now


class PairingCode(Base):
    """A one-time secret that binds the browser opening it to a counter."""

    __tablename__ = "pairing_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    counter_id: Mapped[int] = mapped_column(ForeignKey("counter.id"), index=True)
    #: SHA-256 of the secret in the pairing URL.
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: SHA-256 of the short numeric code typed on the kiosk keypad (same pairing, other form).
    numeric_code_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    device_id: Mapped[int | None] = mapped_column(ForeignKey("kiosk_device.id"))

    counter: Mapped[Counter] = relationship()

    def redeem(self, now: datetime) -> None:
        """Mark the code as used; a code works once and only before it expires."""
        if self.used_at is not None:
            raise InvalidTransition("This pairing link was already used.")
        if now >= self.expires_at:
            raise InvalidTransition("This pairing link has expired.")
        self.used_at = now


class OfficerShift(Base):
    """An officer signed in on a kiosk, from sign-in to sign-out (an audit trail)."""

    __tablename__ = "officer_shift"

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), index=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("kiosk_device.id"), index=True)
    started_at: Mapped[datetime]
    #: The office's first closing time after the sign-in: the shift ends then at the latest,
    #: whether or not anybody signs out (so reading who is on duty never has to write).
    closes_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    #: "sign_out", "closing_time", "replaced" (another officer signed in), "moved" or "revoked".
    end_reason: Mapped[str | None] = mapped_column(String(32))

    officer: Mapped[Officer] = relationship()
    device: Mapped[KioskDevice] = relationship()

    @hybrid_method
    def covers(self, moment: datetime) -> bool:
        """Whether the officer was on duty at ``moment``: the one rule, in Python and in SQL."""
        return (
            self.started_at <= moment
            and moment < self.closes_at
            and (self.ended_at is None or moment < self.ended_at)
        )

    @covers.inplace.expression
    @classmethod
    def _covers_expression(cls, moment: datetime) -> ColumnElement[bool]:
        return and_(
            cls.started_at <= moment,
            cls.closes_at > moment,
            or_(cls.ended_at.is_(None), cls.ended_at > moment),
        )
