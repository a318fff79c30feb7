"""Minting one-time tickets through the API, for queue-number systems."""

from __future__ import annotations

from flask import Blueprint, jsonify

from kiosk import posters
from kiosk.auth import api_refusal, bearer_token, current_user
from kiosk.boundary import read_json
from kiosk.database import get_session
from kiosk.errors import json_error
from kiosk.settings import settings
from kiosk.views.api.openapi import Answer, error, operation
from kiosk.views.api.schemas import MintBody, MintedOut, parse
from surveys.db import utcnow
from surveys.tickets import MintRequest, mint_tickets

bp = Blueprint("api_tickets", __name__, url_prefix="/api/v1")


@operation(
    method="post",
    path="/tickets",
    summary="Mint one-time tickets for an office",
    description="An API token of an administrator or manager whose scope holds the office. "
    "Each ticket opens the survey of its counter, else of its office, and carries one verified "
    "response.",
    body=MintBody,
    security=({"bearerToken": []},),
    answers={
        201: Answer("Minted", MintedOut),
        400: error("Invalid input; 'fields' names each problem"),
        401: error("No, unknown or expired API token"),
        403: error(
            "Office outside the caller's scope, a viewer, or a token whose scope is only "
            "'read' (insufficient_scope)"
        ),
        404: error("Unknown office, or a counter or officer that is not of the office"),
        409: error("The office, counter or officer is retired, or has no survey code in use"),
    },
)
@bp.post("/tickets")
def mint():
    # A token only, never the session cookie: minting is a machine's job, and this keeps a
    # signed-in administrator's browser from being made to mint by another site.
    if bearer_token() is None:
        return json_error(401, "unauthorized")
    user = current_user()
    if user is None:
        return api_refusal()
    body = parse(MintBody, read_json())
    config = settings()
    minted = mint_tickets(
        get_session(),
        user,
        MintRequest(body.office, body.counter, body.officer, body.service, body.count),
        now=utcnow(),
        ttl=config.ticket_ttl,
        max_count=config.ticket_max_per_request,
    )
    expires_at = minted.expires_at.isoformat(timespec="seconds") + "Z"
    response = jsonify(
        {
            "tickets": [
                {"code": code, "url": posters.ticket_url(code), "expires_at": expires_at}
                for code in minted.codes
            ]
        }
    )
    response.status_code = 201
    return response
