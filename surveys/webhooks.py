"""Webhooks: a city's other systems subscribe to events and receive them signed.

Each delivery is an outbox message (surveys/outbox.py) written in the transaction of the
event, one per subscribed webhook, all carrying the event's one id.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import outbox
from surveys.models import Webhook

SIGNATURE_HEADER = "X-HaiLong-Signature"
EVENTS = ("alert.raised", "alert.acknowledged")


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
