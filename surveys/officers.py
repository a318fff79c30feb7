"""Officers at a kiosk: their PIN and badge, signing in and out, and who is on duty.

A rating made on a kiosk is the officer's while they are signed in on it. A shift ends when the
officer signs out, when another officer signs in on the same tablet (or the same officer on
another tablet), when the tablet is moved or revoked, and by itself at the office's first
closing time after it started.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from surveys import audit
from surveys.accounts import visible_offices
from surveys.errors import (
    NotFound,
    PermissionDenied,
    PinLocked,
    PinSetupRequired,
    Reason,
    ValidationError,
    WrongCredentials,
)
from surveys.models import KioskDevice, Office, Officer, OfficerShift, User
from surveys.periods import to_local, zone
from surveys.tokens import hash_secret, new_secret

#: New PINs: 6 to 8 digits (older 4-digit PINs still sign in until they are reset).
PIN_PATTERN = re.compile(r"[0-9]{6,8}")
SETUP_CODE_LENGTH = 6
PIN_SETUP_TTL = timedelta(hours=24)
#: Checked against when the officer code is unknown or has no PIN, so every path costs one scrypt.
_DUMMY_PIN_HASH = generate_password_hash("not a pin", method="scrypt")
#: Badge secrets start with this, so a kiosk can tell a sign-in badge from a survey QR code.
BADGE_PREFIX = "hlb_"
#: A rating reaching the server this soon after it was made is live: whoever is on duty now
#: served that citizen. Older ones are offline replays and go to the shift that covered them.
LIVE_WINDOW = timedelta(minutes=2)
WRONG_CREDENTIALS = "Wrong officer code, PIN or badge."


def officer_in_scope(session: Session, actor: User, officer_code: str) -> Officer:
    """Return the officer with this code if they work in the actor's scope, else raise."""
    officer = session.scalar(select(Officer).where(Officer.code == officer_code.strip().upper()))
    if officer is None:
        raise NotFound("No officer has this code.", {"officer": Reason.UNKNOWN_CODE})
    if session.scalar(visible_offices(actor).where(Office.id == officer.office_id)) is None:
        raise PermissionDenied("This officer works outside your scope.")
    return officer


#: The PINs anyone tries first, besides repeated and consecutive digits.
COMMON_PINS = frozenset(
    {"121212", "112233", "123123", "111222", "101010", "696969", "520520", "131313", "789456",
     "159753", "147258", "123321", "654321", "123654", "000000", "202020", "199999"}
)  # fmt: skip


def check_pin_strength(pin: str) -> None:
    """Refuse a new PIN that is not 6–8 digits, or that anyone would guess first."""
    if not isinstance(pin, str) or not PIN_PATTERN.fullmatch(pin):
        raise ValidationError("A PIN is 6 to 8 digits.", {"pin": Reason.NOT_DIGITS})
    digits = [int(d) for d in pin]
    steps = {b - a for a, b in zip(digits, digits[1:], strict=False)}
    if len(set(digits)) == 1 or steps in ({1}, {-1}) or pin in COMMON_PINS:
        raise ValidationError("This PIN is too easy to guess.", {"pin": Reason.GUESSABLE})


def reset_officer_pin(
    session: Session, actor: User, officer_code: str, *, now: datetime
) -> tuple[Officer, str]:
    """Clear an officer's PIN; return a one-time setup code (valid PIN_SETUP_TTL) with which
    the officer chooses a new PIN on a kiosk. Whoever resets it never learns the PIN."""
    if actor.role not in ("admin", "manager"):
        raise PermissionDenied("Only administrators and managers reset PINs.")
    officer = officer_in_scope(session, actor, officer_code)
    code = f"{secrets.randbelow(10**SETUP_CODE_LENGTH):0{SETUP_CODE_LENGTH}d}"
    officer.pin_hash = None
    officer.pin_setup_hash = generate_password_hash(code, method="scrypt")
    officer.pin_setup_expires_at = now + PIN_SETUP_TTL
    session.flush()
    audit.record(
        session, actor, "officer.pin_reset", now=now, subject_type="officer", subject=officer.code
    )
    return officer, code


def issue_badge(
    session: Session, actor: User, officer_code: str, *, now: datetime
) -> tuple[Officer, str]:
    """Give an officer a new badge secret (the old badge stops working); return it once."""
    officer = officer_in_scope(session, actor, officer_code)
    secret = new_secret(BADGE_PREFIX)
    officer.badge_secret_hash = hash_secret(secret)
    session.flush()
    audit.record(
        session,
        actor,
        "officer.badge_issued",
        now=now,
        subject_type="officer",
        subject=officer.code,
    )
    return officer, secret


def shift_closes_at(started_at: datetime, office: Office) -> datetime:
    """Return the office's first closing time after a shift started (UTC, naive).

    A shift started on a closed day, or after closing, ends at the next day's closing time;
    an office with no opening hours at all ends shifts twelve hours after they start.
    """
    local = to_local(started_at, office.timezone)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        hours = office.hours_on(day.weekday())
        if hours is None:
            continue
        closing = datetime.combine(day, hours[1], tzinfo=zone(office.timezone))
        if closing > local:
            return closing.astimezone(UTC).replace(tzinfo=None)
    return started_at + timedelta(hours=12)


def is_office_open(office: Office, now: datetime) -> bool:
    """Return whether the office is open at ``now`` by its opening hours of that weekday."""
    local = to_local(now, office.timezone)
    hours = office.hours_on(local.weekday())
    return hours is not None and hours[0] <= local.time() < hours[1]


def _end_shift(shift: OfficerShift, at: datetime, reason: str) -> None:
    shift.ended_at = at
    shift.end_reason = reason


def end_open_shifts(session: Session, device: KioskDevice, *, now: datetime, reason: str) -> None:
    """End whatever shift is open on this kiosk, and leave it with nobody on duty."""
    for shift in session.scalars(
        select(OfficerShift).where(
            OfficerShift.device_id == device.id, OfficerShift.ended_at.is_(None)
        )
    ):
        _end_shift(shift, now, reason)
    device.officer_id = None


def current_shift(session: Session, device: KioskDevice, now: datetime) -> OfficerShift | None:
    """Return the shift on duty on this kiosk at ``now``, or None. Reads, never writes.

    A shift past the office's closing time is simply no longer on duty; heartbeats and
    sign-ins record its end later (``close_expired_shifts``). With nobody signed in
    (``device.officer_id`` is None) this runs no query at all.
    """
    if device.officer_id is None:
        return None
    return session.scalar(
        select(OfficerShift)
        .options(selectinload(OfficerShift.officer))
        .where(
            OfficerShift.device_id == device.id,
            OfficerShift.ended_at.is_(None),
            OfficerShift.covers(now),
        )
        .order_by(OfficerShift.started_at.desc(), OfficerShift.id.desc())
        .limit(1)
    )


def close_expired_shifts(session: Session, device: KioskDevice, *, now: datetime) -> None:
    """Record the end, at closing time, of shifts on this kiosk that nobody signed out of."""
    if device.officer_id is None:
        return
    expired = session.scalars(
        select(OfficerShift).where(
            OfficerShift.device_id == device.id,
            OfficerShift.ended_at.is_(None),
            OfficerShift.closes_at <= now,
        )
    ).all()
    for shift in expired:
        _end_shift(shift, shift.closes_at, "closing_time")
    if expired and current_shift(session, device, now) is None:
        device.officer_id = None


def officer_on_duty(session: Session, device: KioskDevice, now: datetime) -> Officer | None:
    """Return the officer signed in on this kiosk now (none after closing time)."""
    shift = current_shift(session, device, now)
    return shift.officer if shift is not None else None


def officer_for_rating(
    session: Session, device: KioskDevice, *, submitted_at: datetime, now: datetime
) -> int | None:
    """Return the id of the officer on duty when a kiosk rating was made, or None.

    A live rating costs no query when nobody is signed in, one when somebody is. A rating
    replayed from the tablet's offline queue belongs to the shift that covered its time.
    """
    is_live = now - submitted_at <= LIVE_WINDOW
    if device.officer_id is None and is_live:
        return None
    covering = session.scalar(
        select(OfficerShift.officer_id)
        .where(OfficerShift.device_id == device.id, OfficerShift.covers(submitted_at))
        .order_by(OfficerShift.started_at.desc(), OfficerShift.id.desc())
        .limit(1)
    )
    if covering is None and is_live:
        # A live rating stamped just before the sign-in: the tablet's clock runs behind.
        shift = current_shift(session, device, now)
        return shift.officer_id if shift is not None else None
    return covering


def _identify(
    session: Session, officer_code: str | None, pin: str | None, badge: str | None, now: datetime
) -> tuple[Officer | None, bool]:
    """Return the officer the credentials name and whether they prove it (one scrypt or none).

    A setup code given as the PIN raises PinSetupRequired: the officer chooses a PIN first.
    """
    if badge:
        officer = session.scalar(
            select(Officer).where(Officer.badge_secret_hash == hash_secret(badge.strip()))
        )
        return officer, officer is not None
    if not officer_code or not pin:
        fields = {
            name: Reason.REQUIRED for name, v in (("officer", officer_code), ("pin", pin)) if not v
        }
        raise ValidationError("Send an officer code and PIN, or a badge.", fields)
    officer = session.scalar(select(Officer).where(Officer.code == officer_code.strip().upper()))
    if officer is not None and officer.pin_locked_until and now < officer.pin_locked_until:
        wait = officer.pin_locked_until - now
        raise PinLocked("PIN sign-in is locked for now.", int(wait.total_seconds()) + 1)
    if officer is not None and officer.pin_setup_hash and officer.pin_setup_expires_at:
        if now < officer.pin_setup_expires_at and check_password_hash(officer.pin_setup_hash, pin):
            raise PinSetupRequired("Choose your own PIN.", {"pin": Reason.REQUIRED})
    stored = officer.pin_hash if officer is not None and officer.pin_hash else _DUMMY_PIN_HASH
    proven = check_password_hash(stored, pin) and stored is not _DUMMY_PIN_HASH
    return officer, proven


def choose_officer_pin(
    session: Session,
    device: KioskDevice,
    *,
    officer_code: str,
    setup_code: str,
    pin: str,
    pin_again: str,
    now: datetime,
) -> Officer:
    """An officer chooses their own PIN on a kiosk with their setup code, then is signed in."""
    officer = session.scalar(
        select(Officer).where(Officer.code == (officer_code or "").strip().upper())
    )
    valid = (
        officer is not None
        and officer.pin_setup_hash is not None
        and officer.pin_setup_expires_at is not None
        and now < officer.pin_setup_expires_at
        and check_password_hash(officer.pin_setup_hash, setup_code or "")
        and officer.is_active
        and officer.office_id == device.counter.office_id
    )
    if not valid:
        raise WrongCredentials(WRONG_CREDENTIALS)
    check_pin_strength(pin)
    if pin != pin_again:
        raise ValidationError("The two PINs differ.", {"pin_again": Reason.INVALID})
    officer.pin_hash = generate_password_hash(pin, method="scrypt")
    officer.pin_setup_hash = None
    officer.pin_setup_expires_at = None
    session.flush()
    audit.record(
        session,
        None,
        "officer.pin_chosen",
        now=now,
        subject_type="officer",
        subject=officer.code,
        after={"kiosk": device.id},
    )
    _start_shift(session, device, officer, now)
    return officer


def sign_in_officer(
    session: Session,
    device: KioskDevice,
    *,
    officer_code: str | None = None,
    pin: str | None = None,
    badge: str | None = None,
    now: datetime,
) -> Officer:
    """Sign an officer in on a kiosk, with their code and PIN or their badge secret.

    The officer must be active and work at the office of the kiosk's counter. Whoever was
    signed in on this kiosk is signed out ("replaced"), and so is this officer on any other
    kiosk: one person serves at one counter at a time.
    """
    officer, proven = _identify(session, officer_code, pin, badge, now)
    if (
        officer is None
        or not proven
        or not officer.is_active
        or officer.office_id != device.counter.office_id
    ):
        raise WrongCredentials(WRONG_CREDENTIALS)
    if officer.pin_failures:
        officer.pin_failures = 0
    _start_shift(session, device, officer, now)
    return officer


def note_pin_failure(
    session: Session,
    officer_code: str | None,
    *,
    now: datetime,
    max_failures: int,
    lock_for: timedelta,
    device_id: int | None = None,
) -> bool:
    """Count a wrong PIN for this officer code (from any kiosk); at ``max_failures`` lock PIN
    sign-in for ``lock_for`` and audit it. Return whether it locked. An unknown code counts
    nothing (there is nobody to protect).

    Runs in a transaction of its own: the request that carried the wrong PIN fails and rolls
    back, the count must stay.
    """
    code = (officer_code or "").strip().upper()
    if not code:
        return False
    session.execute(
        update(Officer)
        .where(Officer.code == code)
        .values(pin_failures=Officer.pin_failures + 1)
        .execution_options(synchronize_session=False)
    )
    officer = session.scalar(select(Officer).where(Officer.code == code))
    if officer is None or officer.pin_failures < max_failures:
        return False
    officer.pin_failures = 0
    officer.pin_locked_until = now + lock_for
    session.flush()
    audit.record(
        session,
        None,
        "officer.pin_locked",
        now=now,
        subject_type="officer",
        subject=officer.code,
        after={"until": officer.pin_locked_until, "kiosk": device_id},
    )
    # The office's managers hear of it by e-mail, through the outbox of this same transaction.
    from surveys import alerts, outbox  # here: surveys.alerts imports this module's neighbours

    for manager in alerts.managers_of(session, officer.office):
        outbox.enqueue(
            session,
            "email",
            {
                "to": manager.email,
                "template": "pin_locked",
                "officer_id": officer.id,
                "until": officer.pin_locked_until.isoformat(),
                "locale": manager.language,
            },
            now=now,
        )
    return True


def _start_shift(session: Session, device: KioskDevice, officer: Officer, now: datetime) -> None:
    close_expired_shifts(session, device, now=now)
    shift = current_shift(session, device, now)
    if shift is not None and shift.officer_id == officer.id:
        return
    if shift is not None:
        _end_shift(shift, now, "replaced")
    elsewhere = session.scalars(
        select(OfficerShift).where(
            OfficerShift.officer_id == officer.id,
            OfficerShift.ended_at.is_(None),
            OfficerShift.device_id != device.id,
        )
    ).all()
    for other in elsewhere:
        if other.closes_at <= now:
            _end_shift(other, other.closes_at, "closing_time")
        else:
            _end_shift(other, now, "replaced")
        if other.device.officer_id == officer.id:
            other.device.officer_id = None
    session.add(
        OfficerShift(
            officer_id=officer.id,
            device_id=device.id,
            started_at=now,
            closes_at=shift_closes_at(now, officer.office),
        )
    )
    device.officer_id = officer.id
    session.flush()


def sign_out_officer(session: Session, device: KioskDevice, *, now: datetime) -> None:
    """Sign out whoever is on duty on this kiosk (nothing to do when nobody is)."""
    close_expired_shifts(session, device, now=now)
    if current_shift(session, device, now) is not None:
        end_open_shifts(session, device, now=now, reason="sign_out")
    session.flush()
