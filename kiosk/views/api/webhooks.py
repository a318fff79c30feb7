"""Webhooks through the API: a city's other systems subscribe to signed events
(city-wide administrators)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from kiosk.auth import api_login_required, current_user
from kiosk.boundary import read_json
from kiosk.database import get_session
from kiosk.views.api.openapi import MANAGER, Answer, error, operation
from kiosk.views.api.schemas import CreatedId, DeliveryOut, WebhookBody, WebhookOut, parse
from surveys import webhooks
from surveys.db import utcnow
from surveys.models import OutboxMessage, Webhook

bp = Blueprint("api_webhooks", __name__, url_prefix="/api/v1")

_ID = {"webhook_id": "The webhook's id"}
_NOT_ADMIN = error("Not a city-wide administrator")


def _time(moment) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def webhook_json(webhook: Webhook) -> dict:
    return {
        "id": webhook.id,
        "url": webhook.url,
        "events": webhook.events,
        "active": webhook.is_active,
        "include_comments": webhook.include_comments,
        "created_at": _time(webhook.created_at),
    }


def delivery_json(message: OutboxMessage) -> dict:
    return {
        "id": message.id,
        "event_id": message.event_id,
        "event": message.event,
        "status": message.status,
        "attempts": message.attempts,
        "created_at": _time(message.created_at),
        "next_attempt_at": _time(message.due_at) if message.status == "pending" else None,
        "sent_at": _time(message.sent_at),
        "last_status": message.last_status,
        "last_error": message.last_error,
    }


@operation(
    method="post",
    path="/webhooks",
    summary="Subscribe a URL to events (city-wide administrators)",
    description="Each delivery is POST url with JSON {id, event, created_at, data}, headers "
    "X-HaiLong-Event and X-HaiLong-Signature: sha256=<hex HMAC-SHA256 of the raw body with the "
    "secret>. 2xx is success; otherwise it is retried with exponential backoff (the first retry "
    "within a minute) for 24 hours. A repeated delivery carries the same id.",
    body=WebhookBody,
    security=MANAGER,
    answers={
        201: Answer("Subscribed", CreatedId),
        400: error("Invalid input; 'fields' names each problem"),
        401: error("Not signed in"),
        403: _NOT_ADMIN,
    },
)
@bp.post("/webhooks")
@api_login_required
def create():
    body = parse(WebhookBody, read_json())
    webhook = webhooks.create_webhook(
        get_session(),
        current_user(),
        url=body.url,
        events=list(body.events),
        secret=body.secret,
        include_comments=body.include_comments,
        now=utcnow(),
    )
    response = jsonify({"id": webhook.id})
    response.status_code = 201
    return response


@operation(
    method="get",
    path="/webhooks",
    summary="The webhooks (city-wide administrators)",
    security=MANAGER,
    answers={
        200: Answer("Webhooks", WebhookOut, many=True),
        401: error("Not signed in"),
        403: _NOT_ADMIN,
    },
)
@bp.get("/webhooks")
@api_login_required
def index():
    return jsonify([webhook_json(w) for w in webhooks.webhooks_of(get_session(), current_user())])


@operation(
    method="get",
    path="/webhooks/{webhook_id}/deliveries",
    summary="A webhook's latest 100 deliveries with their status, newest first",
    path_params=_ID,
    security=MANAGER,
    answers={
        200: Answer("Deliveries", DeliveryOut, many=True),
        401: error("Not signed in"),
        403: _NOT_ADMIN,
        404: error("No such webhook"),
    },
)
@bp.get("/webhooks/<int:webhook_id>/deliveries")
@api_login_required
def deliveries(webhook_id: int):
    found = webhooks.deliveries(get_session(), current_user(), webhook_id)
    return jsonify([delivery_json(m) for m in found])


@operation(
    method="delete",
    path="/webhooks/{webhook_id}",
    summary="Stop deliveries to a webhook (its past deliveries stay listed)",
    path_params=_ID,
    security=MANAGER,
    answers={
        204: Answer("Removed"),
        401: error("Not signed in"),
        403: _NOT_ADMIN,
        404: error("No such webhook"),
    },
)
@bp.delete("/webhooks/<int:webhook_id>")
@api_login_required
def remove(webhook_id: int):
    webhooks.remove_webhook(get_session(), current_user(), webhook_id, now=utcnow())
    return "", 204
