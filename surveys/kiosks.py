"""Binding counter tablets: one-time pairing links and device credentials."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.errors import InvalidTransition, NotFound
from surveys.models import Counter, KioskDevice, PairingCode, Target
from surveys.tokens import hash_secret, new_secret

PAIRING_TTL = timedelta(hours=24)


def _counter(session: Session, counter_code: str) -> Counter:
    counter = session.scalar(select(Counter).where(Counter.code == counter_code.strip().upper()))
    if counter is None:
        raise NotFound("No counter has this code.", {"counter": "unknown"})
    return counter


def create_pairing(
    session: Session, counter_code: str, *, now: datetime, ttl: timedelta = PAIRING_TTL
) -> tuple[PairingCode, str]:
    """Create a one-time pairing secret for a counter; return it with its record."""
    counter = _counter(session, counter_code)
    secret = new_secret()
    pairing = PairingCode(
        counter=counter, secret_hash=hash_secret(secret), created_at=now, expires_at=now + ttl
    )
    session.add(pairing)
    session.flush()
    return pairing, secret


def _new_device(
    session: Session, counter: Counter, now: datetime, name: str
) -> tuple[KioskDevice, str]:
    token = new_secret("kd_")
    device = KioskDevice(
        counter=counter, name=name or counter.name, token_hash=hash_secret(token), created_at=now
    )
    session.add(device)
    session.flush()
    return device, token


def pair_device(
    session: Session, secret: str, *, now: datetime, name: str = ""
) -> tuple[KioskDevice, str]:
    """Redeem a pairing secret: create the device and return it with its credential."""
    pairing = session.scalar(
        select(PairingCode).where(PairingCode.secret_hash == hash_secret(secret))
    )
    if pairing is None:
        raise InvalidTransition("This pairing link is not valid.")
    pairing.redeem(now)
    device, token = _new_device(session, pairing.counter, now, name)
    pairing.device_id = device.id
    return device, token


def enroll_device_token(
    session: Session, counter_code: str, *, now: datetime, name: str = ""
) -> str:
    """Create a device for a scripted client and return its credential."""
    device, token = _new_device(session, _counter(session, counter_code), now, name)
    return token


def device_for_token(session: Session, token: str | None) -> KioskDevice | None:
    """Return the active device holding this credential, or None."""
    if not token:
        return None
    device = session.scalar(select(KioskDevice).where(KioskDevice.token_hash == hash_secret(token)))
    if device is None or not device.is_active:
        return None
    return device


def counter_target(session: Session, counter_id: int) -> Target | None:
    """Return the active survey code of a counter (not of an officer at it)."""
    return session.scalar(
        select(Target)
        .where(
            Target.counter_id == counter_id,
            Target.kind == "counter",
            Target.is_enabled.is_(True),
            Target.rotated_at.is_(None),
        )
        .order_by(Target.id)
    )
