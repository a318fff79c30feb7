"""The organisation: a tree of units, offices with counters, and officers.

Nothing here is ever deleted once it has ratings: a unit, office, counter or officer is retired
(``is_active`` False) and keeps its history and figures; the survey codes of a retired place
answer like paused ones.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import JSON, Column, ForeignKey, LargeBinary, String, Table, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Monday to Friday, 07:30–17:00: the hours of most one-stop shops.
DEFAULT_HOURS: list[list[str] | None] = [["07:30", "17:00"]] * 5 + [None, None]


class Unit(Base):
    """A node of the organisation tree (city, department, district, ward...)."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    #: Materialised path of ids, "/1/4/9/", so a subtree is one indexed LIKE query.
    path: Mapped[str] = mapped_column(String(400), index=True, default="/")
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())

    parent: Mapped[Unit | None] = relationship(remote_side=[id])
    offices: Mapped[list[Office]] = relationship(back_populates="unit")

    def place_under(self, parent: Unit | None) -> None:
        """Set the parent and recompute the path (the unit must have an id)."""
        self.parent = parent
        self.path = f"{parent.path if parent else '/'}{self.id}/"


#: The counters an officer usually serves (shown on the officer's page, offered on the kiosk).
officer_counter = Table(
    "officer_counter",
    Base.metadata,
    Column("officer_id", ForeignKey("officer.id", ondelete="CASCADE"), primary_key=True),
    Column("counter_id", ForeignKey("counter.id", ondelete="CASCADE"), primary_key=True),
)


class Office(Base):
    """A place where citizens are served (bộ phận một cửa)."""

    __tablename__ = "office"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    #: Local opening hours, Monday first: ["07:30", "17:00"], or null on a closed day.
    #: Officers on duty are signed out at the day's closing time.
    opening_hours: Mapped[list] = mapped_column(JSON, default=lambda: list(DEFAULT_HOURS))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: The survey versions the office's kiosks and tickets ask (see surveys/survey_admin.py);
    #: None means the default survey. The codes carry their own (Target.survey_id).
    kiosk_survey_id: Mapped[int | None] = mapped_column(ForeignKey("survey.id"))
    ticket_survey_id: Mapped[int | None] = mapped_column(ForeignKey("survey.id"))

    unit: Mapped[Unit] = relationship(back_populates="offices")
    counters: Mapped[list[Counter]] = relationship(back_populates="office", order_by="Counter.code")
    officers: Mapped[list[Officer]] = relationship(back_populates="office", order_by="Officer.code")

    def hours_on(self, weekday: int) -> tuple[time, time] | None:
        """Return (opens, closes) on a weekday (0 is Monday), or None when closed."""
        hours = (self.opening_hours or DEFAULT_HOURS)[weekday]
        if not hours:
            return None
        return time.fromisoformat(hours[0]), time.fromisoformat(hours[1])


class Counter(Base):
    """A desk in an office (quầy)."""

    __tablename__ = "counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())

    office: Mapped[Office] = relationship(back_populates="counters")


class Officer(Base):
    """A staff member who serves citizens at an office (cán bộ)."""

    __tablename__ = "officer"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default="")
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), index=True)
    #: Hash of the PIN the officer chose to sign in on a kiosk; None until one is chosen.
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    #: After a reset: the hash of a one-time setup code (shown to whoever reset it), with
    #: which the officer chooses a new PIN on a kiosk; nobody else ever sees the PIN.
    pin_setup_hash: Mapped[str | None] = mapped_column(String(255))
    pin_setup_expires_at: Mapped[datetime | None]
    #: SHA-256 of the secret printed as a QR on the officer's badge, for signing in by scan.
    badge_secret_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: An optional small photo (JPEG/PNG/WebP), shown to staff only.
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    photo_type: Mapped[str | None] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Wrong PINs since the last success or lock, from any kiosk; at PIN_MAX_FAILURES the PIN
    #: sign-in is locked until ``pin_locked_until`` (a badge still works).
    pin_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    pin_locked_until: Mapped[datetime | None]

    office: Mapped[Office] = relationship(back_populates="officers")
    counters: Mapped[list[Counter]] = relationship(
        secondary=officer_counter, order_by="Counter.code"
    )
