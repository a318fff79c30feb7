"""Delivering one webhook message: POST the signed JSON body, 2xx is success."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from surveys.models import OutboxMessage, Webhook
from surveys.webhooks import SIGNATURE_HEADER, sign


class DeliveryFailed(Exception):
    """The receiver answered other than 2xx, or could not be reached."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def body_of(message: OutboxMessage) -> bytes:
    """Return the exact bytes sent (and signed) for a delivery."""
    envelope = {
        "id": message.event_id,
        "event": message.event,
        "created_at": message.created_at.isoformat(timespec="seconds") + "Z",
        "data": message.payload,
    }
    return json.dumps(envelope, ensure_ascii=False, sort_keys=True).encode("utf-8")


def post(message: OutboxMessage, webhook: Webhook | None, *, timeout: float) -> int:
    """Send the delivery; return the receiver's status, or raise DeliveryFailed."""
    if webhook is None or not webhook.is_active:
        raise DeliveryFailed("the webhook was removed")
    body = body_of(message)
    request = urllib.request.Request(
        webhook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "HaiLong-Webhooks/1",
            "X-HaiLong-Event": message.event,
            "X-HaiLong-Delivery": str(message.id),
            SIGNATURE_HEADER: sign(webhook.secret, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return answer.status
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"HTTP {error.code}", error.code) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise DeliveryFailed(f"{type(error).__name__}: {error}") from None
