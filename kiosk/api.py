"""The JSON API of the interface contract, under /api/v1."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from kiosk import phone_window
from kiosk.auth import api_login_required, current_user
from kiosk.database import get_session
from kiosk.errors import json_error
from kiosk.extensions import limiter
from kiosk.openapi import openapi_document
from surveys import accounts, kiosks, reports
from surveys.db import utcnow
from surveys.errors import TicketUsed
from surveys.models import Office
from surveys.responses import find_replay, load_target, parse_response_input, record_response
from surveys.targets import public_codes
from surveys.tickets import redeem_ticket

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None


def _is_kiosk_request() -> bool:
    return bool(_bearer())


def _device_key() -> str:
    return "device:" + (_bearer() or "")[-16:]


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(current_app.config["PUBLIC_BASE_URL"]))


@bp.get("/surveys/<code>")
def survey(code: str):
    target, spec = load_target(get_session(), code)
    body = spec.to_dict(target.code)
    body["label"] = target.label
    return jsonify(body)


@bp.post("/responses")
@limiter.limit(lambda: current_app.config["PHONE_RATE_LIMIT"], exempt_when=_is_kiosk_request)
@limiter.limit(
    lambda: current_app.config["KIOSK_RATE_LIMIT"],
    key_func=_device_key,
    exempt_when=lambda: not _is_kiosk_request(),
)
def post_response():
    data = request.get_json(silent=True)
    if data is None:
        return json_error(
            400, "malformed_json", "The body must be a JSON object.", {"body": "not JSON"}
        )
    payload = parse_response_input(data)
    db = get_session()
    device = None
    if (token := _bearer()) is not None:
        device = kiosks.device_for_token(db, token)
        if device is None:
            return json_error(401, "unknown_device", "This kiosk is not paired or was revoked.")
    if payload.ticket_code is not None and device is not None:
        return json_error(
            400, "validation_error", "Kiosks do not redeem tickets.", {"ticket": "not from a kiosk"}
        )
    # Phones count once per code per window; kiosks have their own limits, tickets are single use.
    windowed = device is None and payload.ticket_code is None
    try:
        if (
            windowed
            and phone_window.answered_recently(payload.target_code)
            and find_replay(db, payload.id, payload.body_hash()) is None
        ):
            phone_window.refuse(payload.target_code, "API")
            return json_error(
                429,
                "already_answered",
                "This phone already rated this code a short while ago.",
                {"target": "answered within the window"},
            )
        if payload.ticket_code is not None:
            recorded = redeem_ticket(db, payload, now=utcnow())
        else:
            recorded = record_response(
                db, payload, now=utcnow(), channel="kiosk" if device else "qr", device=device
            )
        db.commit()
    except IntegrityError:
        # Another request stored the same id (or redeemed the ticket) between check and insert.
        db.rollback()
        recorded = find_replay(db, payload.id, payload.body_hash())
        if recorded is None:
            if payload.ticket_code is not None:
                raise TicketUsed("This ticket was already used.", {"ticket": "used"}) from None
            raise
    if windowed and recorded.is_new:
        phone_window.remember(payload.target_code)
    response = jsonify({"id": str(recorded.id)})
    response.status_code = 201
    if not recorded.is_new:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/offices")
@api_login_required
def offices():
    db = get_session()
    found = db.scalars(
        accounts.visible_offices(current_user()).options(
            selectinload(Office.counters), selectinload(Office.unit)
        )
    ).all()
    codes = public_codes(db, [o.id for o in found])
    return jsonify(
        [
            {
                "code": o.code,
                "name": o.name,
                "unit": o.unit.code,
                "timezone": o.timezone,
                "target": codes.get((o.id, None)),
                "counters": [
                    {"code": c.code, "name": c.name, "target": codes.get((o.id, c.id))}
                    for c in o.counters
                ],
            }
            for o in found
        ]
    )


def _office_and_range(code: str):
    db = get_session()
    office = accounts.office_in_scope(db, current_user(), code)
    today = datetime.now(UTC).astimezone(ZoneInfo(office.timezone)).date()
    period = reports.DateRange.parse(
        request.args.get("from"),
        request.args.get("to"),
        today=today,
        default_days=current_app.config["DEFAULT_RANGE_DAYS"],
    )
    return db, office, period


@bp.get("/offices/<code>/summary")
@api_login_required
def summary(code: str):
    db, office, period = _office_and_range(code)
    result = reports.office_summary(db, office, period, min_n=current_app.config["MIN_RESPONSES"])
    return jsonify(result.as_dict())


@bp.get("/offices/<code>/responses.csv")
@api_login_required
def responses_csv(code: str):
    db, office, period = _office_and_range(code)
    rows = reports.response_rows(db, office, period)

    def generate():
        # A byte-order mark makes Excel read the Vietnamese text as UTF-8.
        yield codecs.BOM_UTF8.decode()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in rows:
            writer.writerow([_defuse(cell) for cell in row])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    filename = f"hailong-{office.code}-{period.start}-{period.end}.csv"
    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _defuse(cell: str) -> str:
    """Stop a spreadsheet from running a citizen's comment as a formula."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


@bp.errorhandler(401)
def unauthorized(_error):
    return json_error(401, "unauthorized", "Sign in or send 'Authorization: Bearer API_TOKEN'.")
