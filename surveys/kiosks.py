"""Counter tablets: pairing them, their credentials, administering them, and their health."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session, selectinload

from surveys import audit
from surveys.accounts import visible_offices
from surveys.errors import InvalidTransition, NotFound, PermissionDenied, Reason, ValidationError
from surveys.models import (
    Counter,
    KioskDevice,
    Office,
    Officer,
    OfficerShift,
    PairingCode,
    Target,
    User,
)
from surveys.officers import (
    close_expired_shifts,
    current_shift,
    end_open_shifts,
    is_office_open,
)
from surveys.tokens import hash_secret, new_secret

NUMERIC_CODE_LENGTH = 8
#: Heartbeat limits: the columns' sizes, and a queue no tablet could really hold.
APP_VERSION_MAX = 32
LAST_ERROR_MAX = 500
QUEUE_DEPTH_MAX = 1_000_000
NAME_MAX = 200


# Scope ---------------------------------------------------------------------------------------


def _visible_office_ids(actor: User):
    return visible_offices(actor).with_only_columns(Office.id).order_by(None)


def counter_in_scope(session: Session, actor: User | None, counter_code: str) -> Counter:
    """Return the counter with this code if the actor may manage it (None: the command line)."""
    counter = session.scalar(
        select(Counter).where(Counter.code == (counter_code or "").strip().upper())
    )
    if counter is None:
        raise NotFound("No counter has this code.", {"counter": Reason.UNKNOWN_CODE})
    if (
        actor is not None
        and session.scalar(_visible_office_ids(actor).where(Office.id == counter.office_id)) is None
    ):
        raise PermissionDenied(
            "This counter is outside your scope.", {"counter": Reason.NOT_IN_SCOPE}
        )
    return counter


def counters_in_scope(session: Session, actor: User) -> list[Counter]:
    """Return the counters the actor manages, with their office, by office name then code."""
    return list(
        session.scalars(
            select(Counter)
            .join(Counter.office)
            .options(selectinload(Counter.office))
            .where(Counter.office_id.in_(_visible_office_ids(actor)))
            .order_by(Office.name, Counter.code)
        )
    )


def device_in_scope(session: Session, actor: User, device_id: int) -> KioskDevice:
    """Return an active kiosk the actor manages, or raise NotFound / PermissionDenied."""
    device = session.get(KioskDevice, device_id)
    if device is None or not device.is_active:
        raise NotFound("No kiosk has this number.")
    if (
        session.scalar(_visible_office_ids(actor).where(Office.id == device.counter.office_id))
        is None
    ):
        raise PermissionDenied("This kiosk is outside your scope.")
    return device


# Pairing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedPairing:
    """A new one-time pairing: the link's secret and the numeric code, shown once."""

    pairing: PairingCode
    secret: str
    numeric_code: str
    #: The code is short-lived; the link lasts until ``pairing.expires_at``.
    code_expires_at: datetime

    @property
    def grouped_code(self) -> str:
        """Return the code as two groups of four digits, for reading aloud."""
        return f"{self.numeric_code[:4]} {self.numeric_code[4:]}"


def _live_code(code_hash: str, now: datetime, code_ttl: timedelta):
    """Select the newest unused, unexpired pairing with this numeric code."""
    return (
        select(PairingCode.id)
        .where(
            PairingCode.numeric_code_hash == code_hash,
            PairingCode.used_at.is_(None),
            PairingCode.expires_at > now,
            PairingCode.created_at > now - code_ttl,
        )
        .order_by(PairingCode.id.desc())
        .limit(1)
    )


def _unique_numeric_code(session: Session, now: datetime, code_ttl: timedelta) -> str:
    """Return 8 random digits that no other unused, unexpired code has."""
    for _attempt in range(20):
        code = f"{secrets.randbelow(10**NUMERIC_CODE_LENGTH):0{NUMERIC_CODE_LENGTH}d}"
        if session.scalar(_live_code(hash_secret(code), now, code_ttl)) is None:
            return code
    # 20 collisions in a row means ~10^8 live codes: something else is wrong.
    raise InvalidTransition("No free pairing code is left; try again later.")


def issue_pairing(
    session: Session,
    counter_code: str,
    *,
    now: datetime,
    link_ttl: timedelta,
    code_ttl: timedelta,
    actor: User | None = None,
) -> IssuedPairing:
    """Create a one-time pairing for a counter: a link secret and an 8-digit code.

    Both redeem the same pairing, so using one spends the other. The code lives ``code_ttl``
    from now (short: eight digits can be guessed), the link ``link_ttl``. ``actor`` None means
    the command line, which may pair any counter.
    """
    counter = counter_in_scope(session, actor, counter_code)
    secret = new_secret()
    numeric_code = _unique_numeric_code(session, now, code_ttl)
    pairing = PairingCode(
        counter=counter,
        secret_hash=hash_secret(secret),
        numeric_code_hash=hash_secret(numeric_code),
        created_at=now,
        expires_at=now + link_ttl,
    )
    session.add(pairing)
    session.flush()
    audit.record(
        session,
        actor,
        "kiosk.pairing_issued",
        now=now,
        subject_type="counter",
        subject=counter.code,
        after={"expires_at": pairing.expires_at},
    )
    return IssuedPairing(pairing, secret, numeric_code, min(now + code_ttl, pairing.expires_at))


def withdraw_open_pairings(
    session: Session, counter_code: str, *, now: datetime, actor: User | None = None
) -> int:
    """End every unused, unexpired pairing of a counter now; return how many were open.

    ``make run`` prints a fresh code on each start: the codes it printed before stop working,
    so only the newest one can pair the tablet.
    """
    counter = counter_in_scope(session, actor, counter_code)
    open_pairings = session.scalars(
        select(PairingCode).where(
            PairingCode.counter_id == counter.id,
            PairingCode.used_at.is_(None),
            PairingCode.expires_at > now,
        )
    ).all()
    for pairing in open_pairings:
        pairing.expires_at = now
    if open_pairings:
        audit.record(
            session,
            actor,
            "kiosk.pairing_withdrawn",
            now=now,
            subject_type="counter",
            subject=counter.code,
            after={"withdrawn": len(open_pairings)},
        )
    session.flush()
    return len(open_pairings)


def _new_device(
    session: Session, counter: Counter, now: datetime, name: str
) -> tuple[KioskDevice, str]:
    token = new_secret("kd_")
    device = KioskDevice(
        counter=counter,
        name=(name or counter.name)[:NAME_MAX],
        token_hash=hash_secret(token),
        token_issued_at=now,
        created_at=now,
    )
    session.add(device)
    session.flush()
    return device, token


def _redeem(
    session: Session,
    pairing: PairingCode,
    now: datetime,
    name: str,
    replacing: KioskDevice | None,
) -> tuple[KioskDevice, str]:
    """Spend a pairing and create its device; of two simultaneous redemptions one wins."""
    claim = session.execute(
        update(PairingCode)
        .where(
            PairingCode.id == pairing.id,
            PairingCode.used_at.is_(None),
            PairingCode.expires_at > now,
        )
        .values(used_at=now)
    )
    if claim.rowcount != 1:
        session.refresh(pairing)
        pairing.redeem(now)  # raises with the precise reason
        raise InvalidTransition("This pairing link was already used.")
    if replacing is not None and replacing.is_active:
        # The browser held another kiosk's credential: that kiosk is this tablet, re-paired.
        end_open_shifts(session, replacing, now=now, reason="revoked")
        replacing.revoke(now)
    device, token = _new_device(session, pairing.counter, now, name)
    pairing.device_id = device.id
    session.flush()
    audit.record(
        session,
        None,
        "kiosk.paired",
        now=now,
        subject_type="kiosk",
        subject=str(device.id),
        after={
            "counter": pairing.counter.code,
            "name": device.name,
            "replaces": replacing.id if replacing is not None else None,
        },
    )
    return device, token


def pair_device(
    session: Session,
    secret: str,
    *,
    now: datetime,
    name: str = "",
    replacing: KioskDevice | None = None,
) -> tuple[KioskDevice, str]:
    """Redeem a pairing link's secret: create the device and return it with its credential.

    ``replacing`` is the kiosk this browser was until now, if any; it is revoked.
    """
    pairing = session.scalar(
        select(PairingCode).where(PairingCode.secret_hash == hash_secret(secret))
    )
    if pairing is None:
        raise InvalidTransition("This pairing link is not valid.")
    return _redeem(session, pairing, now, name, replacing)


def normalise_numeric_code(text: str) -> str:
    """Return a typed code without the spaces and dashes people type between groups."""
    return re.sub(r"[\s\-.]", "", text or "")


def pair_by_numeric_code(
    session: Session,
    code: str,
    *,
    now: datetime,
    code_ttl: timedelta,
    name: str = "",
    replacing: KioskDevice | None = None,
) -> tuple[KioskDevice, str]:
    """Redeem an 8-digit pairing code typed on the kiosk; like ``pair_device`` otherwise."""
    code = normalise_numeric_code(code)
    if not re.fullmatch(rf"[0-9]{{{NUMERIC_CODE_LENGTH}}}", code):
        raise ValidationError("A pairing code is 8 digits.", {"code": Reason.NOT_DIGITS})
    pairing_id = session.scalar(_live_code(hash_secret(code), now, code_ttl))
    if pairing_id is None:
        raise InvalidTransition(
            "This pairing code is wrong, used or expired.", {"code": Reason.INVALID}
        )
    return _redeem(session, session.get(PairingCode, pairing_id), now, name, replacing)


def enroll_device_token(
    session: Session, counter_code: str, *, now: datetime, name: str = ""
) -> str:
    """Create a device for a scripted client and return its credential."""
    device, token = _new_device(session, counter_in_scope(session, None, counter_code), now, name)
    return token


def device_for_token(
    session: Session, token: str | None, now: datetime | None = None
) -> KioskDevice | None:
    """Return the active device holding this credential, or None.

    With ``now``, the credential a rotation just replaced is still accepted until its overlap
    ends, so ratings sent just before the rotation are not refused.
    """
    if not token:
        return None
    digest = hash_secret(token)
    device = session.scalar(select(KioskDevice).where(KioskDevice.token_hash == digest))
    if device is None and now is not None:
        device = session.scalar(
            select(KioskDevice).where(
                KioskDevice.previous_token_hash == digest,
                KioskDevice.previous_token_until > now,
            )
        )
    if device is None or not device.is_active:
        return None
    return device


def rotate_credential(
    session: Session,
    device: KioskDevice,
    presented: str,
    *,
    now: datetime,
    every: timedelta,
    overlap: timedelta,
) -> str | None:
    """Replace a kiosk's credential once it is ``every`` old; return the new one, or None.

    Only the current credential rotates (not one still accepted during an overlap); the one
    replaced keeps working for ``overlap``.
    """
    issued_at = device.token_issued_at or device.created_at
    if hash_secret(presented or "") != device.token_hash or now - issued_at < every:
        return None
    token = new_secret("kd_")
    device.previous_token_hash = device.token_hash
    device.previous_token_until = now + overlap
    device.token_hash = hash_secret(token)
    device.token_issued_at = now
    session.flush()
    return token


def counter_target(session: Session, counter_id: int) -> Target | None:
    """Return the active survey code of a counter (not of an officer at it)."""
    return session.scalar(
        select(Target)
        .where(
            Target.counter_id == counter_id,
            Target.kind == "counter",
            Target.is_active,
        )
        .order_by(Target.id)
    )


# Administration ------------------------------------------------------------------------------


def rename_device(
    session: Session, actor: User, device_id: int, name: str, *, now: datetime
) -> KioskDevice:
    """Give a kiosk a name administrators recognise it by."""
    device = device_in_scope(session, actor, device_id)
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise ValidationError(
            "A kiosk needs a name.", {"name": Reason.REQUIRED if not name else Reason.TOO_LONG}
        )
    before = device.name
    device.name = name
    session.flush()
    audit.record(
        session,
        actor,
        "kiosk.rename",
        now=now,
        subject_type="kiosk",
        subject=str(device.id),
        before={"name": before},
        after={"name": name},
    )
    return device


def move_device(
    session: Session, actor: User, device_id: int, counter_code: str, *, now: datetime
) -> KioskDevice:
    """Bind a kiosk to another counter; whoever was signed in on it is signed out."""
    device = device_in_scope(session, actor, device_id)
    counter = counter_in_scope(session, actor, counter_code)
    if counter.id != device.counter_id:
        before = device.counter.code
        end_open_shifts(session, device, now=now, reason="moved")
        device.counter = counter
        audit.record(
            session,
            actor,
            "kiosk.move",
            now=now,
            subject_type="kiosk",
            subject=str(device.id),
            before={"counter": before},
            after={"counter": counter.code},
        )
    session.flush()
    return device


def revoke_device(session: Session, actor: User, device_id: int, *, now: datetime) -> KioskDevice:
    """Withdraw a kiosk's credential for good; it then shows the "not connected" screen."""
    device = device_in_scope(session, actor, device_id)
    end_open_shifts(session, device, now=now, reason="revoked")
    device.revoke(now)
    device.previous_token_hash = None
    device.previous_token_until = None
    session.flush()
    audit.record(
        session,
        actor,
        "kiosk.revoke",
        now=now,
        subject_type="kiosk",
        subject=str(device.id),
        before={"counter": device.counter.code, "name": device.name},
    )
    return device


# Heartbeat and state -------------------------------------------------------------------------


@dataclass(frozen=True)
class KioskState:
    """What a kiosk needs to know about itself: where it stands and who is on duty."""

    device: KioskDevice
    counter: Counter
    office: Office
    officer: Officer | None


def kiosk_state(session: Session, device: KioskDevice, *, now: datetime) -> KioskState:
    """Return the kiosk's counter, office and officer on duty now; reads, never writes."""
    shift = current_shift(session, device, now)
    counter = device.counter
    return KioskState(device, counter, counter.office, shift.officer if shift else None)


def record_heartbeat(
    session: Session,
    device: KioskDevice,
    *,
    now: datetime,
    app_version: str,
    queue_depth: int,
    oldest_queued_at: datetime | None = None,
    last_error: str | None = None,
) -> KioskState:
    """Note that a kiosk is alive and how its offline queue is doing; return its state.

    An app version or last error longer than its column is cut, not refused: a heartbeat must
    not fail over a text. Shifts that ran past closing time are recorded as ended here.
    """
    if not 0 <= queue_depth <= QUEUE_DEPTH_MAX:
        raise ValidationError("The heartbeat is not valid.", {"queue_depth": Reason.OUT_OF_RANGE})
    device.last_seen_at = now
    device.app_version = app_version.strip()[:APP_VERSION_MAX] or "?"
    device.queue_depth = queue_depth
    device.oldest_queued_at = oldest_queued_at if queue_depth else None
    device.last_error = (last_error.strip()[:LAST_ERROR_MAX] or None) if last_error else None
    close_expired_shifts(session, device, now=now)
    state = kiosk_state(session, device, now=now)
    session.flush()
    return state


# Health --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KioskHealth:
    """One kiosk as the health page shows it."""

    device: KioskDevice
    counter: Counter
    office: Office
    officer: Officer | None
    is_online: bool
    #: Silent for ``silent_after`` or longer while its office is open now.
    is_flagged: bool
    #: Time since the last heartbeat (since pairing, if it never sent one).
    silent_for: timedelta

    @property
    def last_seen_at(self) -> datetime | None:
        return self.device.last_seen_at


def kiosk_health(
    session: Session,
    actor: User,
    *,
    now: datetime,
    silent_after: timedelta,
    heartbeat_interval: timedelta,
    office_code: str | None = None,
) -> list[KioskHealth]:
    """List the active kiosks the actor manages, with what their last heartbeat said.

    Online means heard from within two heartbeat intervals. Flagged means silent for
    ``silent_after`` or more while the office is open (its opening hours, Monday to Friday).
    One query, whatever the number of kiosks.
    """
    query = (
        select(KioskDevice, Counter, Office, OfficerShift, Officer)
        .join(Counter, Counter.id == KioskDevice.counter_id)
        .join(Office, Office.id == Counter.office_id)
        .outerjoin(
            OfficerShift,
            and_(
                OfficerShift.device_id == KioskDevice.id,
                OfficerShift.ended_at.is_(None),
                OfficerShift.covers(now),
            ),
        )
        .outerjoin(Officer, Officer.id == OfficerShift.officer_id)
        .where(KioskDevice.revoked_at.is_(None), Office.id.in_(_visible_office_ids(actor)))
        .order_by(Office.name, Counter.code, KioskDevice.name, KioskDevice.id)
    )
    if office_code:
        query = query.where(Office.code == office_code.strip().upper())
    found: dict[int, KioskHealth] = {}
    for device, counter, office, shift, officer in session.execute(query):
        if device.id in found:
            continue
        on_duty = officer if shift is not None else None
        silent_for = now - (device.last_seen_at or device.created_at)
        found[device.id] = KioskHealth(
            device=device,
            counter=counter,
            office=office,
            officer=on_duty,
            is_online=device.last_seen_at is not None and silent_for <= 2 * heartbeat_interval,
            is_flagged=silent_for >= silent_after and is_office_open(office, now),
            silent_for=silent_for,
        )
    return list(found.values())
