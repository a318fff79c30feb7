"""Delivering one webhook message: POST the signed JSON body, 2xx is success."""

from __future__ import annotations

import http.client
import json
import ssl
from urllib.parse import urlsplit

from surveys.models import OutboxMessage, Webhook
from surveys.webhooks import SIGNATURE_HEADER, sign


class DeliveryFailed(Exception):
    """The receiver answered other than 2xx, or could not be reached."""

    def __init__(self, message: str, status: int | None = None, *, permanent: bool = False):
        super().__init__(message)
        self.status = status
        #: Retrying cannot help (the webhook was removed): give the message up now.
        self.permanent = permanent


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
    """Send the delivery; return the receiver's status, or raise DeliveryFailed.

    http.client rather than urllib: it sends header names as written (X-HaiLong-Signature),
    where urllib would turn them into X-hailong-signature.
    """
    if webhook is None or not webhook.is_active:
        raise DeliveryFailed("the webhook was removed", permanent=True)
    body = body_of(message)
    url = urlsplit(webhook.url)
    try:
        if url.scheme == "https":
            connection = http.client.HTTPSConnection(
                url.hostname, url.port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
        try:
            connection.request(
                "POST",
                (url.path or "/") + (f"?{url.query}" if url.query else ""),
                body=body,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "HaiLong-Webhooks/1",
                    "X-HaiLong-Event": message.event,
                    "X-HaiLong-Delivery": str(message.id),
                    SIGNATURE_HEADER: sign(webhook.secret, body),
                },
            )
            status = connection.getresponse().status
        finally:
            connection.close()
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise DeliveryFailed(f"{type(error).__name__}: {error}") from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status}", status)
    return status
