"""The organisation: a tree of units, offices with counters, and officers."""

from __future__ import annotations

from datetime import time

from sqlalchemy import ForeignKey, String, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


class Unit(Base):
    """A node of the organisation tree (city, department, district, ward...)."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    #: Materialised path of ids, "/1/4/9/", so a subtree is one indexed LIKE query.
    path: Mapped[str] = mapped_column(String(400), index=True, default="/")

    parent: Mapped[Unit | None] = relationship(remote_side=[id])
    offices: Mapped[list[Office]] = relationship(back_populates="unit")

    def place_under(self, parent: Unit | None) -> None:
        """Set the parent and recompute the path (the unit must have an id)."""
        self.parent = parent
        self.path = f"{parent.path if parent else '/'}{self.id}/"


class Office(Base):
    """A place where citizens are served (bộ phận một cửa)."""

    __tablename__ = "office"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    #: Local opening hours; kiosks sign officers out at closing time.
    opens_at: Mapped[time] = mapped_column(Time, default=time(7, 30))
    closes_at: Mapped[time] = mapped_column(Time, default=time(17, 0))

    unit: Mapped[Unit] = relationship(back_populates="offices")
    counters: Mapped[list[Counter]] = relationship(back_populates="office", order_by="Counter.code")
    officers: Mapped[list[Officer]] = relationship(back_populates="office", order_by="Officer.code")


class Counter(Base):
    """A desk in an office (quầy)."""

    __tablename__ = "counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), index=True)

    office: Mapped[Office] = relationship(back_populates="counters")


class Officer(Base):
    """A staff member who serves citizens at an office (cán bộ)."""

    __tablename__ = "officer"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default="")
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), index=True)
    #: Hash of the PIN used to sign in on a kiosk; None until one is set.
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    #: SHA-256 of the secret printed as a QR on the officer's badge, for signing in by scan.
    badge_secret_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True)

    office: Mapped[Office] = relationship(back_populates="officers")
