"""A citizen asks to be contacted again after an unhappy rating (the phone page or the kiosk
sends it, by the id of the rating they just made)."""

from __future__ import annotations

import uuid

from flask import Blueprint, jsonify

from kiosk.boundary import read_json
from kiosk.database import get_session
from kiosk.settings import settings
from kiosk.views.api.openapi import Answer, error, operation
from kiosk.views.api.schemas import CallbackBody, CreatedId, parse
from surveys import cases
from surveys.db import utcnow
from surveys.errors import NotFound
from surveys.models import CallbackCase

bp = Blueprint("api_callbacks", __name__, url_prefix="/api/v1")


def open_case(db, response_id: uuid.UUID, body: CallbackBody) -> CallbackCase:
    """Open the case a call-back request asks for (alone, or inside the rating it follows)."""
    return cases.open_case(
        db,
        response_id,
        phone=body.phone,
        email=body.email,
        consent=body.consent,
        now=utcnow(),
        policy=settings().cases,
    )


@operation(
    method="post",
    path="/responses/{response_id}/callback",
    summary="Ask to be contacted again about an unhappy rating (opens a call-back case)",
    description="One of phone or email, and consent true. Only for a negative rating, within "
    "24 hours of it, once. The contact is shown only to the office's managers and erased "
    "after the case is resolved.",
    path_params={"response_id": "The id the client gave the rating"},
    body=CallbackBody,
    security=({},),
    answers={
        201: Answer("A case is open", CreatedId),
        400: error("Invalid input; 'fields' names each problem"),
        404: error("No such rating"),
        409: error("Not an unhappy rating, too old, or asked already"),
    },
)
@bp.post("/responses/<response_id>/callback")
def create(response_id: str):
    body = parse(CallbackBody, read_json())
    try:
        rating = uuid.UUID(response_id)
    except ValueError:
        raise NotFound("No such response.") from None
    case = open_case(get_session(), rating, body)
    response = jsonify({"id": case.id})
    response.status_code = 201
    return response
