"""Webhooks: a city's other systems subscribe to events and receive them signed.

Each delivery is an outbox message (surveys/outbox.py) written in the transaction of the
event, one per subscribed webhook, all carrying the event's one id.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import audit, outbox
from surveys.errors import NotFound, PermissionDenied, Reason, ValidationError
from surveys.models import OutboxMessage, User, Webhook

SIGNATURE_HEADER = "X-HaiLong-Signature"
EVENTS = ("alert.raised", "alert.acknowledged", "case.opened", "case.updated")


def sign(secret: str, body: bytes) -> str:
    """Return the signature header's value: sha256=<hex HMAC-SHA256 of the raw body>."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def publish(session: Session, event: str, data: dict[str, Any], *, now: datetime) -> int:
    """Queue a delivery of ``event`` to every active webhook subscribed to it; return how many."""
    event_id = outbox.new_event_id()
    count = 0
    for webhook in session.scalars(select(Webhook).where(Webhook.is_active)):
        if event in webhook.events:
            outbox.enqueue(
                session,
                "webhook",
                data,
                now=now,
                event=event,
                event_id=event_id,
                webhook_id=webhook.id,
            )
            count += 1
    return count


def _require_city_admin(actor: User) -> None:
    # A webhook receives events of every office: only a city-wide administrator adds one.
    if actor.role != "admin" or actor.scope_unit_id or actor.scope_office_id:
        raise PermissionDenied("Only city-wide administrators manage webhooks.")


def create_webhook(
    session: Session, actor: User, *, url: str, events: list[str], secret: str, now: datetime
) -> Webhook:
    """Subscribe ``url`` to ``events``; deliveries are signed with ``secret``."""
    _require_city_admin(actor)
    parts = urlsplit(url)
    problems: dict[str, Reason] = {}
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems["url"] = Reason.INVALID
    if not events or any(event not in EVENTS for event in events):
        problems["events"] = Reason.UNKNOWN_CHOICE
    if problems:
        raise ValidationError("The webhook cannot be added.", problems)
    webhook = Webhook(
        url=url,
        events=sorted(set(events)),
        secret=secret,
        created_at=now,
        created_by_id=actor.id,
        is_active=True,
    )
    session.add(webhook)
    session.flush()
    audit.record(
        session,
        actor,
        "webhook.create",
        now=now,
        subject_type="webhook",
        subject=str(webhook.id),
        after={"url": url, "events": webhook.events},
    )
    return webhook


def webhooks_of(session: Session, actor: User) -> list[Webhook]:
    _require_city_admin(actor)
    return list(session.scalars(select(Webhook).order_by(Webhook.id)))


def _webhook(session: Session, actor: User, webhook_id: int) -> Webhook:
    _require_city_admin(actor)
    # An id beyond the column's range is simply unknown (PostgreSQL would refuse the query).
    webhook = session.get(Webhook, webhook_id) if 0 < webhook_id < 2**31 else None
    if webhook is None:
        raise NotFound("No such webhook.")
    return webhook


def remove_webhook(session: Session, actor: User, webhook_id: int, *, now: datetime) -> None:
    """Stop deliveries to a webhook (its past deliveries stay listed)."""
    webhook = _webhook(session, actor, webhook_id)
    webhook.is_active = False
    session.flush()
    audit.record(
        session, actor, "webhook.remove", now=now, subject_type="webhook", subject=str(webhook_id)
    )


def deliveries(
    session: Session, actor: User, webhook_id: int, *, limit: int = 100
) -> list[OutboxMessage]:
    """Return the webhook's latest deliveries, newest first."""
    webhook = _webhook(session, actor, webhook_id)
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.webhook_id == webhook.id)
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )
