"""People who sign in to the dashboard, and their API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, utcnow
from surveys.models.org import Office, Unit

ROLES = ("admin", "manager", "viewer")
#: What an API token may do: read, read and mint tickets, or everything its owner may.
TOKEN_SCOPES = ("read", "read+tickets", "admin")
#: The languages a user may receive e-mail in.
LANGUAGES = ("vi", "en")


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
    #: The language of the e-mails the user receives (alerts, digest, security notices).
    language: Mapped[str] = mapped_column(String(8), default="vi", server_default="vi")
    #: The base32 key of the user's authenticator app (TOTP), once enrolment began; it
    #: counts only from ``totp_enabled_at`` on.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None]
    #: The last 30-second step whose code was accepted: the same code never works twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
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
    #: One of TOKEN_SCOPES; within it, the owner's role and scope still apply.
    scope: Mapped[str] = mapped_column(String(16), default="read")
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship()


class UserSession(Base):
    """A signed-in browser: the cookie holds a random secret, this row its hash.

    Ending the row signs the browser out at once, whatever its cookie says.
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: SHA-256 of the secret in the session cookie.
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: "full" (signed in), "second_factor" (password given, code awaited) or "enrol" (password
    #: given, a role that needs a second factor, none set up yet).
    stage: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    #: Refreshed at most once a minute, in a transaction of its own (a GET stays a read).
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    #: Shown to the user in their list of sessions; shortened.
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")

    user: Mapped[User] = relationship()


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator app once."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: scrypt hash (salted): a code has about 50 bits, too few for a plain digest.
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None]


class SignInThrottle(Base):
    """Failed sign-ins of one login (known account or not), and until when it must wait."""

    __tablename__ = "sign_in_throttle"

    #: SHA-256 of the normalised login, so unknown and known addresses are kept alike.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    wait_until: Mapped[datetime | None]
