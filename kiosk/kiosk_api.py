"""The JSON API a paired kiosk uses besides posting ratings: heartbeat and officer sign-in.

Every call carries ``Authorization: Bearer DEVICE_TOKEN``; an unknown or revoked token gets a
401, on which the tablet shows its "not connected" screen.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, g, jsonify, request

from kiosk.database import get_session
from kiosk.errors import json_error
from kiosk.extensions import limiter
from surveys import kiosks, officers
from surveys.db import utcnow
from surveys.models import Officer
from surveys.tokens import hash_secret

bp = Blueprint("kiosk_api", __name__, url_prefix="/api/v1/kiosk")


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None


def _device_key() -> str:
    """Rate-limit key: the device credential's hash, never the credential itself."""
    return "kiosk-device:" + hash_secret(_bearer() or "")


@bp.before_request
def authenticate_device():
    device = kiosks.device_for_token(get_session(), _bearer())
    if device is None:
        response, status = json_error(
            401, "unknown_device", "This kiosk is not paired or was revoked."
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="kiosk"'
        return response, status
    g.kiosk_device = device


def _json_body():
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else None


def _not_an_object():
    return json_error(
        400, "malformed_json", "The body must be a JSON object.", {"body": "not JSON"}
    )


def _officer(officer: Officer | None) -> dict | None:
    return None if officer is None else {"code": officer.code, "name": officer.name}


def _iso_utc(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds") + "Z"


def _state_body(state: kiosks.KioskState, now: datetime) -> dict:
    return {
        "status": "ok",
        "server_time": _iso_utc(now),
        "officer": _officer(state.officer),
        "counter": {"code": state.counter.code, "name": state.counter.name},
        "office": {
            "code": state.office.code,
            "name": state.office.name,
            "closes_at": state.office.closes_at.strftime("%H:%M"),
        },
    }


@bp.post("/heartbeat")
def heartbeat():
    data = _json_body()
    if data is None:
        return _not_an_object()
    db, now = get_session(), utcnow()
    state = kiosks.record_heartbeat(
        db,
        g.kiosk_device,
        now=now,
        app_version=data.get("app_version"),
        queue_depth=data.get("queue_depth"),
        oldest_queued_at=data.get("oldest_queued_at"),
        last_error=data.get("last_error"),
    )
    db.commit()
    return jsonify(_state_body(state, now))


@bp.get("/state")
def state():
    db, now = get_session(), utcnow()
    current = kiosks.kiosk_state(db, g.kiosk_device, now=now)
    db.commit()  # keeps a closing-time sign-out it may have applied
    return jsonify(_state_body(current, now))


@bp.post("/officer/sign-in")
@limiter.limit(lambda: current_app.config["OFFICER_SIGNIN_RATE_LIMIT"], key_func=_device_key)
def officer_sign_in():
    data = _json_body()
    if data is None:
        return _not_an_object()
    db = get_session()
    officer = officers.sign_in_officer(
        db,
        g.kiosk_device,
        officer_code=data.get("officer"),
        pin=data.get("pin"),
        badge=data.get("badge"),
        now=utcnow(),
    )
    db.commit()
    return jsonify({"officer": _officer(officer)})


@bp.post("/officer/sign-out")
def officer_sign_out():
    db = get_session()
    officers.sign_out_officer(db, g.kiosk_device, now=utcnow())
    db.commit()
    return jsonify({"officer": None})
