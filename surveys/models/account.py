"""People who sign in to the dashboard, and their API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, utcnow
from surveys.models.org import Office, Unit

ROLES = ("admin", "manager", "viewer")


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    #: The user sees this unit's subtree; with neither scope set, everything.
    scope_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    #: The user sees only this office.
    scope_office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id"))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Bumped on password change or forced logout; sessions carrying an older value end.
    session_version: Mapped[int] = mapped_column(default=1)
    #: A one-time link to choose a password (a new account, or a reset by an administrator):
    #: the hash of its secret and when it stops working. Nobody ever chooses another's password.
    password_link_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_link_expires_at: Mapped[datetime | None]

    scope_unit: Mapped[Unit | None] = relationship()
    scope_office: Mapped[Office | None] = relationship()


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: SHA-256 of the token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: What its owner calls it ("queue system", "monthly export"...).
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
