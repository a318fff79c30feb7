"""Webhooks: a city's other systems subscribe to events and receive them signed.

Each delivery is an outbox message (surveys/outbox.py) written in the transaction of the
event, one per subscribed webhook, all carrying the event's one id.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import audit, outbox
from surveys.errors import NotFound, PermissionDenied, Reason, ValidationError
from surveys.models import Counter, Office, OutboxMessage, User, Webhook

SIGNATURE_HEADER = "X-HaiLong-Signature"
EVENTS = (
    "alert.raised",
    "alert.acknowledged",
    "case.opened",
    "case.updated",
    "response.created",
)
#: Seconds this process trusts its list of response.created subscribers: every rating asks,
#: so it must not cost a query each time (a new subscriber is served within this delay).
SUBSCRIBERS_TTL = 30.0
_subscribers: dict[str, tuple[float, tuple[tuple[int, bool], ...]]] = {}


def forget_subscribers() -> None:
    """Make the next rating read the subscribers again (after a change on this process)."""
    _subscribers.clear()


def _response_subscribers(session: Session) -> tuple[tuple[int, bool], ...]:
    now = time.monotonic()
    cached = _subscribers.get("response.created")
    if cached is not None and cached[0] > now:
        return cached[1]
    found = tuple(
        (webhook.id, webhook.include_comments)
        for webhook in session.scalars(select(Webhook).where(Webhook.is_active))
        if "response.created" in webhook.events
    )
    _subscribers["response.created"] = (now + SUBSCRIBERS_TTL, found)
    return found


def publish_response(session: Session, rating, *, now: datetime) -> int:
    """Queue response.created for the webhooks that opted in (no comment unless asked)."""
    subscribers = _response_subscribers(session)
    if not subscribers or rating.response_id is None:
        return 0
    office = session.get(Office, rating.office_id)
    counter = session.get(Counter, rating.counter_id) if rating.counter_id else None
    answers: dict[str, Any] = {}
    comment = None
    for question, value in rating.answers:
        if isinstance(value, str):
            comment = value
        else:
            keys = [c.key for c in question.choices if c.id in value]
            answers[question.key] = keys if question.kind == "multi" else keys[0]
    data = {
        "response": str(rating.response_id),
        "office": {"code": office.code, "name": office.name},
        "counter": {"code": counter.code, "name": counter.name} if counter else None,
        "channel": rating.channel,
        "submitted_at": rating.submitted_at.isoformat(timespec="seconds") + "Z",
        "polarity": {1: "positive", 0: "neutral", -1: "negative"}[rating.headline_polarity],
        "answers": answers,
    }
    event_id = outbox.new_event_id()
    for webhook_id, include_comments in subscribers:
        payload = {**data, "comment": comment} if include_comments else data
        outbox.enqueue(
            session,
            "webhook",
            payload,
            now=now,
            event="response.created",
            event_id=event_id,
            webhook_id=webhook_id,
        )
    return len(subscribers)


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
    session: Session,
    actor: User,
    *,
    url: str,
    events: list[str],
    secret: str,
    now: datetime,
    include_comments: bool = False,
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
        include_comments=include_comments,
    )
    session.add(webhook)
    session.flush()
    forget_subscribers()
    audit.record(
        session,
        actor,
        "webhook.create",
        now=now,
        subject_type="webhook",
        subject=str(webhook.id),
        after={"url": url, "events": webhook.events, "include_comments": include_comments},
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
    forget_subscribers()
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
