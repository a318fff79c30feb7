"""Staff accounts administered from the web: invite, change role and scope, deactivate,
reset a password by a one-time link, and each user's own API tokens.

Nobody ever chooses a password for someone else: a new account and a reset both get a
one-time link (valid PASSWORD_LINK_TTL) through which the person chooses their own. Every
change is recorded in the audit log. A deactivated user's sessions and tokens stop at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from surveys import audit, mfa, sessions
from surveys.accounts import hash_password
from surveys.errors import InvalidTransition, NotFound, PermissionDenied, Reason, ValidationError
from surveys.models import ApiToken, Office, Unit, User
from surveys.models.account import LANGUAGES, ROLES
from surveys.passwords import check_password
from surveys.tokens import hash_secret, new_secret

PASSWORD_LINK_TTL = timedelta(hours=24)


def _require_admin(actor: User) -> None:
    if actor.role != "admin":
        raise PermissionDenied("Only administrators manage accounts.")


def user_facts(user: User) -> dict:
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "scope": user.scope_unit.code
        if user.scope_unit
        else (user.scope_office.code if user.scope_office else None),
        "active": user.is_active,
        "language": user.language,
    }


def _scope(session: Session, code: str | None) -> tuple[Unit | None, Office | None]:
    if not code:
        return None, None
    code = code.strip().upper()
    unit = session.scalar(select(Unit).where(Unit.code == code))
    office = None if unit else session.scalar(select(Office).where(Office.code == code))
    if unit is None and office is None:
        raise ValidationError("Unknown scope.", {"scope": Reason.UNKNOWN_CODE})
    return unit, office


def _within(actor: User, unit: Unit | None, office: Office | None) -> bool:
    """Whether a scoped administrator may give this scope (a whole-city one may give any)."""
    if actor.scope_unit_id is None and actor.scope_office_id is None:
        return True
    if actor.scope_office_id is not None:
        return office is not None and office.id == actor.scope_office_id
    path = actor.scope_unit.path
    if unit is not None:
        return unit.path.startswith(path)
    return office is not None and office.unit.path.startswith(path)


def _new_link(user: User, now: datetime) -> str:
    secret = new_secret("pw_")
    user.password_link_hash = hash_secret(secret)
    user.password_link_expires_at = now + PASSWORD_LINK_TTL
    return secret


def invite_user(
    session: Session,
    actor: User,
    *,
    email: str,
    role: str,
    scope: str | None,
    name: str = "",
    language: str = "vi",
    now: datetime,
) -> tuple[User, str]:
    """Create an account; return it with the secret of its one-time "choose a password" link."""
    _require_admin(actor)
    email = (email or "").strip().lower()
    errors: dict[str, Reason] = {}
    if "@" not in email or len(email) > 254 or " " in email:
        errors["email"] = Reason.INVALID
    if role not in ROLES:
        errors["role"] = Reason.INVALID
    if role != "admin" and not scope:
        errors["scope"] = Reason.REQUIRED
    name = " ".join((name or "").split())
    if len(name) > 200:
        errors["name"] = Reason.TOO_LONG
    if language not in LANGUAGES:
        errors["language"] = Reason.UNKNOWN_LOCALE
    if not errors and session.scalar(select(User.id).where(User.email == email)):
        errors["email"] = Reason.ALREADY_USED
    if errors:
        raise ValidationError("The account cannot be created.", errors)
    unit, office = _scope(session, scope)
    if not _within(actor, unit, office) or (
        role == "admin" and not scope and not _within(actor, None, None)
    ):
        raise PermissionDenied("This scope is outside yours.", {"scope": Reason.NOT_IN_SCOPE})
    # No password works until the person chooses theirs through the link.
    user = User(
        email=email,
        name=name,
        role=role,
        password_hash=hash_password(secrets.token_urlsafe(32)),
        scope_unit=unit,
        scope_office=office,
        created_at=now,
        language=language,
    )
    session.add(user)
    session.flush()
    secret = _new_link(user, now)
    audit.record(
        session,
        actor,
        "user.create",
        now=now,
        subject_type="user",
        subject=email,
        after=user_facts(user),
    )
    return user, secret


def get_user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None:
        raise NotFound("No account has this email.", {"email": Reason.UNKNOWN_CODE})
    return user


def update_user(
    session: Session,
    actor: User,
    email: str,
    *,
    now: datetime,
    role: str | None = None,
    scope: str | None = None,
    name: str | None = None,
    active: bool | None = None,
    clear_scope: bool = False,
    language: str | None = None,
) -> User:
    """Change an account's role, scope, name, e-mail language, or switch it off (and back on).

    Switching it off, or changing its role or scope, ends its sessions at once (its tokens
    stop working while it is off: they answer only for an active user).
    """
    _require_admin(actor)
    user = get_user(session, email)
    if not _within(actor, user.scope_unit, user.scope_office):
        raise PermissionDenied("This account is outside your scope.")
    before = user_facts(user)
    if role is not None:
        if role not in ROLES:
            raise ValidationError("Unknown role.", {"role": Reason.INVALID})
        user.role = role
    if scope is not None or clear_scope:
        unit, office = _scope(session, None if clear_scope else scope)
        if not _within(actor, unit, office):
            raise PermissionDenied("This scope is outside yours.", {"scope": Reason.NOT_IN_SCOPE})
        user.scope_unit, user.scope_office = unit, office
    if user.role != "admin" and user.scope_unit is None and user.scope_office is None:
        raise ValidationError("Managers and viewers need a scope.", {"scope": Reason.REQUIRED})
    if name is not None:
        user.name = " ".join(name.split())[:200]
    if language is not None:
        if language not in LANGUAGES:
            raise ValidationError("Unknown language.", {"language": Reason.UNKNOWN_LOCALE})
        user.language = language
    if active is not None:
        if not active and user.id == actor.id:
            raise InvalidTransition(
                "You cannot switch off your own account.", {"active": Reason.INVALID}
            )
        user.is_active = active
    after = user_facts(user)
    if (
        before["role"] == "admin"
        and before["active"]
        and not (after["role"] == "admin" and after["active"])
    ):
        _keep_an_admin(session, user)
    if any(before[k] != after[k] for k in ("role", "scope", "active")):
        # A change of privilege: the person signs in again, and gets a new session.
        sessions.end_all_sessions(session, user, now=now)
    session.flush()
    if before != after:
        old, new = audit.changes(before, after)
        audit.record(
            session,
            actor,
            "user.update",
            now=now,
            subject_type="user",
            subject=user.email,
            before=old,
            after=new,
        )
    return user


def set_language(session: Session, user: User, language: str, *, now: datetime) -> User:
    """Choose the language of one's own e-mails (audited when it changes)."""
    if language not in LANGUAGES:
        raise ValidationError("Unknown language.", {"language": Reason.UNKNOWN_LOCALE})
    if language == user.language:
        return user
    before = user.language
    user.language = language
    session.flush()
    audit.record(
        session,
        user,
        "user.language_changed",
        now=now,
        subject_type="user",
        subject=user.email,
        before={"language": before},
        after={"language": language},
    )
    return user


def _keep_an_admin(session: Session, leaving: User) -> None:
    """Refuse to demote, scope down or switch off the last active whole-city administrator."""
    others = session.scalar(
        select(func.count(User.id)).where(
            User.role == "admin",
            User.is_active.is_(True),
            User.id != leaving.id,
            User.scope_unit_id.is_(None),
            User.scope_office_id.is_(None),
        )
    )
    if not others:
        raise InvalidTransition(
            "The last administrator of the whole city cannot be switched off or demoted.",
            {"role": Reason.LAST_ADMIN},
        )


def reset_password(session: Session, actor: User, email: str, *, now: datetime) -> str:
    """Give an account a new one-time link to choose its password; the old password stops
    working and its sessions end at once (a reset usually means it is no longer secret)."""
    _require_admin(actor)
    user = get_user(session, email)
    if not _within(actor, user.scope_unit, user.scope_office):
        raise PermissionDenied("This account is outside your scope.")
    user.password_hash = hash_password(secrets.token_urlsafe(32))
    secret = _new_link(user, now)
    sessions.end_all_sessions(session, user, now=now)
    session.flush()
    audit.record(
        session, actor, "user.password_reset", now=now, subject_type="user", subject=user.email
    )
    return secret


def user_for_password_link(session: Session, secret: str, now: datetime) -> User:
    """Return the account a one-time password link belongs to, or raise if it is not valid."""
    user = session.scalar(select(User).where(User.password_link_hash == hash_secret(secret or "")))
    if (
        user is None
        or user.password_link_expires_at is None
        or now >= user.password_link_expires_at
    ):
        raise InvalidTransition("This link is not valid any more.", {"link": Reason.EXPIRED})
    return user


def choose_password(
    session: Session, secret: str, password: str, again: str, *, now: datetime
) -> User:
    """Set the password through a one-time link (which then stops working)."""
    user = user_for_password_link(session, secret, now)
    check_password(password)
    if password != again:
        raise ValidationError("The two passwords differ.", {"again": Reason.INVALID})
    user.password_hash = hash_password(password)
    user.password_link_hash = None
    user.password_link_expires_at = None
    sessions.end_all_sessions(session, user, now=now)
    session.flush()
    audit.record(
        session, user, "user.password_chosen", now=now, subject_type="user", subject=user.email
    )
    return user


def change_password(
    session: Session,
    user: User,
    current: str,
    password: str,
    again: str,
    *,
    now: datetime,
    keep_secret: str | None,
) -> None:
    """Change one's own password (the current one is required); every other session of the
    account ends, the one of ``keep_secret`` (this browser) stays."""
    if not check_password_hash(user.password_hash, current or ""):
        raise ValidationError("Wrong current password.", {"current": Reason.WRONG_PASSWORD})
    check_password(password)
    if password != again:
        raise ValidationError("The two passwords differ.", {"again": Reason.INVALID})
    user.password_hash = hash_password(password)
    sessions.end_all_sessions(session, user, now=now, keep_secret=keep_secret)
    session.flush()
    audit.record(
        session, user, "user.password_changed", now=now, subject_type="user", subject=user.email
    )


def turn_off_second_factor(session: Session, actor: User, email: str, *, now: datetime) -> User:
    """An administrator removes the second factor of an account whose phone was lost; the
    person sets a new one up at their next sign-in (audited)."""
    _require_admin(actor)
    user = get_user(session, email)
    if not _within(actor, user.scope_unit, user.scope_office):
        raise PermissionDenied("This account is outside your scope.")
    mfa.turn_off(session, user, now=now, actor=actor)
    sessions.end_all_sessions(session, user, now=now)
    return user


def end_sessions_of(session: Session, actor: User, email: str, *, now: datetime) -> int:
    """An administrator signs an account out of every browser (audited); return how many."""
    _require_admin(actor)
    user = get_user(session, email)
    if not _within(actor, user.scope_unit, user.scope_office):
        raise PermissionDenied("This account is outside your scope.")
    count = sessions.end_all_sessions(session, user, now=now)
    audit.record(
        session,
        actor,
        "user.sessions_ended",
        now=now,
        subject_type="user",
        subject=user.email,
        after={"sessions": count},
    )
    return count


def end_sessions_in_scope(
    session: Session, actor: User, *, now: datetime, keep_secret: str | None
) -> int:
    """An administrator signs every account of their scope out of every browser at once (a
    leaked password list, a shared computer found signed in): all but their own present
    session. API tokens are left as they are (revoked one by one). Audited; return how many."""
    _require_admin(actor)
    ended = 0
    for user in users_in_scope(session, actor):
        keep = keep_secret if user.id == actor.id else None
        ended += sessions.end_all_sessions(session, user, now=now, keep_secret=keep)
    audit.record(
        session,
        actor,
        "user.sessions_ended_in_scope",
        now=now,
        subject_type="scope",
        subject=user_facts(actor)["scope"] or "city",
        after={"sessions": ended},
    )
    return ended


def users_in_scope(session: Session, actor: User) -> list[User]:
    """Return the accounts an administrator manages, by email."""
    _require_admin(actor)
    users = session.scalars(select(User).order_by(User.email)).all()
    return [u for u in users if _within(actor, u.scope_unit, u.scope_office) or u.id == actor.id]


# API tokens --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenInfo:
    id: int
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    scope: str
    expires_at: datetime


def tokens_of(session: Session, user: User) -> list[TokenInfo]:
    """Return a user's API tokens (never the tokens themselves: only their hashes are kept)."""
    return [
        TokenInfo(t.id, t.label, t.created_at, t.last_used_at, t.revoked_at, t.scope, t.expires_at)
        for t in session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    ]


def revoke_token(session: Session, actor: User, token_id: int, *, now: datetime) -> None:
    """Revoke one of the actor's own tokens (an administrator may revoke those of the accounts
    they manage: their scope's)."""
    token = session.get(ApiToken, token_id)
    if token is None or (
        token.user_id != actor.id
        and not (
            actor.role == "admin" and _within(actor, token.user.scope_unit, token.user.scope_office)
        )
    ):
        raise NotFound("No such token.", {"token": Reason.UNKNOWN_CODE})
    if token.revoked_at is not None:
        return
    session.execute(
        update(ApiToken)
        .where(ApiToken.id == token.id)
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(token)
    audit.record(
        session,
        actor,
        "token.revoke",
        now=now,
        subject_type="token",
        subject=str(token.id),
        before={"owner": token.user.email, "label": token.label},
    )
