"""The citizen's side of the JSON API: a survey by its code, and storing a response."""

from __future__ import annotations

from flask import Blueprint, jsonify

from kiosk import phone_window
from kiosk.auth import device_credential
from kiosk.boundary import read_json
from kiosk.database import get_session
from kiosk.errors import error_body
from kiosk.ratelimit import over_ceiling
from kiosk.settings import settings
from kiosk.views.api import callbacks
from kiosk.views.api.kiosk import unknown_device
from kiosk.views.api.openapi import DEVICE, Answer, error, operation
from kiosk.views.api.schemas import CallbackBody, Created, ResponseBody, SurveyOut, parse
from surveys import kiosks
from surveys.db import utcnow
from surveys.errors import DomainError
from surveys.responses import ResponseInput, submit_response
from surveys.targets import load_target

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@operation(
    method="get",
    path="/surveys/{code}",
    summary="The survey behind a public code, in both languages, choices best first",
    path_params={"code": "A public survey code"},
    answers={200: Answer("The survey", SurveyOut), 404: error("Unknown or retired code")},
)
@bp.get("/surveys/<code>")
def survey(code: str):
    target, spec = load_target(get_session(), code)
    body = spec.to_dict(target.code)
    body["label"] = target.label
    return jsonify(body)


@operation(
    method="post",
    path="/responses",
    summary="Store one response (idempotent on its id)",
    description="Without Authorization: a phone response (one per phone per code in the "
    "window, rate-limited per client). With a kiosk's device token: a kiosk response for its "
    "counter. With 'ticket': the verified response of a one-time ticket. The same id and body "
    "again answers 201 with 'Idempotent-Replayed: true' and stores nothing.",
    body=ResponseBody,
    security=({}, *DEVICE),
    answers={
        201: Answer(
            "Stored, or the same id and body stored before",
            Created,
            headers={"Idempotent-Replayed": "'true' when nothing new was stored"},
        ),
        400: error("Invalid input; 'fields' names each problem"),
        401: error("Unknown or revoked device token", **{"WWW-Authenticate": "Bearer"}),
        403: error("A kiosk posting for another counter, or with a ticket"),
        404: error("Unknown or retired code or ticket"),
        409: error("The ticket was already used (ticket_used) or has expired (ticket_expired)"),
        422: error("This id was used for a different response"),
        429: error(
            "Too many requests, or this phone already rated this code (already_answered)",
            **{"Retry-After": "Seconds to wait"},
        ),
    },
)
@bp.post("/responses")
def post_response():
    body = parse(ResponseBody, read_json())
    payload = ResponseInput(
        id=body.id,
        target_code=body.target_code(),
        answers=body.answers,
        locale=body.locale,
        comment=body.comment,
        submitted_at=body.submitted_at,
        ticket_code=body.ticket_code(),
    )
    db = get_session()
    token = device_credential()
    if token is not None:
        device = kiosks.device_for_token(db, token, utcnow())
        if device is None:
            return unknown_device()
        submission = submit_response(
            db,
            payload,
            now=utcnow(),
            policy=settings().submit,
            device=device,
            over_ceiling=over_ceiling,
        )
    elif payload.ticket_code is not None:
        submission = submit_response(db, payload, now=utcnow(), policy=settings().submit)
    else:
        submission = phone_window.submit_phone_answer(db, payload, channel_label="API")
    answer = {"id": str(submission.id)}
    if body.callback is not None:
        answer["callback"] = _open_case(db, submission.id, body.callback)
    response = jsonify(answer)
    response.status_code = 201
    if not submission.is_new:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _open_case(db, response_id, callback: CallbackBody) -> dict:
    """Open the call-back case a rating carries (the kiosk's way). A refusal is reported in
    the answer and the rating is stored all the same: open_case checks everything before it
    writes anything."""
    try:
        case = callbacks.open_case(db, response_id, callback)
    except DomainError as refused:
        return error_body(refused.code, fields=refused.fields)
    return {"id": case.id}
