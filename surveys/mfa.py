"""The second factor: a TOTP authenticator app (RFC 6238, through pyotp) and ten one-time
recovery codes.

A code is accepted for the current 30-second step or the one before or after (clocks drift),
and never for a step at or before the last one accepted, so a code seen over someone's
shoulder cannot be used again. Recovery codes are stored hashed and work once each.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime

import pyotp
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from surveys import audit
from surveys.errors import InvalidTransition, Reason, ValidationError
from surveys.models import RecoveryCode, User

ISSUER = "Hài Lòng"
STEP_SECONDS = 30
#: Steps accepted either side of the current one.
WINDOW = 1
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def is_enabled(user: User) -> bool:
    return user.totp_enabled_at is not None


def _step(now: datetime) -> int:
    """Return the TOTP step of ``now`` (naive datetimes are UTC, as everywhere here)."""
    moment = now if now.tzinfo else now.replace(tzinfo=UTC)
    return int(moment.timestamp()) // STEP_SECONDS


def begin_enrolment(session: Session, user: User, *, now: datetime) -> str:
    """Give the user a new authenticator key (not in force until a code from it is confirmed)."""
    if is_enabled(user):
        raise InvalidTransition("A second factor is already set up.", {"code": Reason.INVALID})
    user.totp_secret = pyotp.random_base32()
    user.totp_last_step = None
    session.flush()
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    """Return the otpauth:// URI the authenticator app reads from the QR code."""
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _matching_step(user: User, code: str, now: datetime) -> int | None:
    if not user.totp_secret or len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(user.totp_secret)
    current = _step(now)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue  # a code used once never works again
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _normalise(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(
        delete(RecoveryCode)
        .where(RecoveryCode.user_id == user.id)
        .execution_options(synchronize_session=False)
    )
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        # About 50 bits each: hashed like a password (scrypt, salted), not with a plain digest.
        session.add(
            RecoveryCode(user_id=user.id, code_hash=generate_password_hash(raw, method="scrypt"))
        )
    session.flush()
    return codes


def confirm_enrolment(session: Session, user: User, code: str, *, now: datetime) -> list[str]:
    """Turn the second factor on with a first code from the app; return the recovery codes
    (shown once: only their hashes are kept)."""
    if is_enabled(user):
        raise InvalidTransition("A second factor is already set up.", {"code": Reason.INVALID})
    step = _matching_step(user, _normalise(code), now)
    if step is None:
        raise ValidationError("This code does not match.", {"code": Reason.WRONG_CODE})
    user.totp_enabled_at = now
    user.totp_last_step = step
    codes = _new_recovery_codes(session, user)
    audit.record(
        session, user, "user.mfa_enabled", now=now, subject_type="user", subject=user.email
    )
    return codes


def verify(session: Session, user: User, code: str, *, now: datetime) -> bool:
    """Check a code from the app, or a recovery code (used up); record what was accepted."""
    code = _normalise(code)
    step = _matching_step(user, code, now)
    if step is not None:
        user.totp_last_step = step
        session.flush()
        _record(session, user, "auth.second_factor", now, "totp")
        return True
    if len(code) != 10:
        _record(session, user, "auth.second_factor_failed", now, "totp")
        return False
    unused = session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).all()
    recovery = next((r for r in unused if check_password_hash(r.code_hash, code)), None)
    if recovery is None:
        _record(session, user, "auth.second_factor_failed", now, "recovery_code")
        return False
    recovery.used_at = now
    session.flush()
    audit.record(
        session, user, "user.recovery_code_used", now=now, subject_type="user", subject=user.email
    )
    _record(session, user, "auth.second_factor", now, "recovery_code")
    return True


def _record(session: Session, user: User, action: str, now: datetime, method: str) -> None:
    """Audit the second step of a sign-in; a failure is recorded without an actor, as a failed
    password is."""
    audit.record(
        session,
        user if action == "auth.second_factor" else None,
        action,
        now=now,
        subject_type="user",
        subject=user.email,
        actor_email=user.email,
        after={"method": method},
    )


def recovery_codes_left(session: Session, user: User) -> int:
    return len(
        session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def renew_recovery_codes(session: Session, user: User, *, now: datetime) -> list[str]:
    """Replace all of a user's recovery codes with ten new ones (the old ones stop working)."""
    if not is_enabled(user):
        raise InvalidTransition("No second factor is set up.", {"code": Reason.INVALID})
    codes = _new_recovery_codes(session, user)
    audit.record(
        session,
        user,
        "user.recovery_codes_renewed",
        now=now,
        subject_type="user",
        subject=user.email,
    )
    return codes


def turn_off(session: Session, user: User, *, now: datetime, actor: User) -> None:
    """Remove a user's second factor (by themself, or by an administrator for a lost phone)."""
    was_enabled = is_enabled(user)
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(
        delete(RecoveryCode)
        .where(RecoveryCode.user_id == user.id)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    if was_enabled:
        audit.record(
            session, actor, "user.mfa_disabled", now=now, subject_type="user", subject=user.email
        )
