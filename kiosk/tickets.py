"""Tickets: minting through the API, and the verified survey a ticket opens (/t/CODE)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy.exc import IntegrityError

from kiosk import posters
from kiosk.auth import current_user
from kiosk.database import get_session
from kiosk.errors import json_error
from kiosk.extensions import csrf
from kiosk.forms import answers_from_form, form_errors, response_id_from_form
from kiosk.i18n import current_language
from kiosk.phone import code_lookup_limit, phone_submit_limit
from surveys.db import utcnow
from surveys.errors import Conflict, InvalidTransition, NotFound, ValidationError
from surveys.models import Ticket
from surveys.responses import ResponseInput, find_replay, load_target
from surveys.spec import SurveySpec
from surveys.tickets import MintRequest, find_ticket, mint_tickets, redeem_ticket, ticket_target
from surveys.tokens import normalise_code

bp = Blueprint("tickets", __name__)


def _ticket_page(state: str, status: int):
    return render_template("phone/ticket_unusable.html", state=state), status


def _usable_ticket(code: str):
    """Return (ticket, target, spec), or the clear page of an unknown, used or expired ticket."""
    db = get_session()
    try:
        ticket = find_ticket(db, code)
        target, spec = load_target(db, ticket_target(db, ticket).code)
    except NotFound:
        return None, _ticket_page("unknown", 404)
    if ticket.is_used:
        return None, _ticket_page("used", 409)
    if ticket.is_expired(utcnow()):
        return None, _ticket_page("expired", 410)
    return (ticket, target, spec), None


def _form(ticket: Ticket, target, spec: SurveySpec, response_id, selected, errors):
    return render_template(
        "phone/survey.html",
        target=target,
        spec=spec,
        response_id=response_id,
        selected=selected,
        errors=errors,
        ticket=ticket,
        form_action=url_for("tickets.submit", code=ticket.code),
    )


@bp.get("/t")
@bp.get("/t/")
def enter_code():
    """Ticket codes are typed on the same page as survey codes."""
    return redirect(url_for("phone.enter_code"))


@bp.get("/t/<code>")
@code_lookup_limit
def survey(code: str):
    canonical = normalise_code(code)
    if canonical != code and canonical.isalnum():
        return redirect(url_for("tickets.survey", code=canonical, **request.args))
    found, page = _usable_ticket(code)
    if page:
        return page
    ticket, target, spec = found
    return _form(ticket, target, spec, uuid.uuid4(), {}, {})


@bp.post("/t/<code>")
@phone_submit_limit
def submit(code: str):
    db = get_session()
    try:
        ticket = find_ticket(db, code)
        target, spec = load_target(db, ticket_target(db, ticket).code)
    except NotFound:
        return _ticket_page("unknown", 404)
    answers = answers_from_form(spec, request.form)
    # The target stays empty: the ticket names the survey, now and when the form is replayed.
    payload = ResponseInput(
        id=response_id_from_form(request.form),
        target_code="",
        answers=answers,
        locale=current_language(),
        ticket_code=ticket.code,
    )
    thanks = redirect(url_for("tickets.thanks", code=ticket.code))
    try:
        redeem_ticket(db, payload, now=utcnow())
        db.commit()
    except ValidationError as error:
        db.rollback()
        return _form(ticket, target, spec, payload.id, answers, form_errors(error)), 400
    except Conflict:
        # Sent again after changing an answer: the first one counts.
        db.rollback()
    except InvalidTransition as error:
        db.rollback()
        if error.code == "ticket_expired":
            return _ticket_page("expired", 410)
        return _ticket_page("used", 409)
    except IntegrityError:
        db.rollback()
        if find_replay(db, payload.id, payload.body_hash()) is None:
            return _ticket_page("used", 409)
    return thanks


@bp.get("/t/<code>/thanks")
def thanks(code: str):
    return render_template("phone/thanks.html", code=code, verified=True)


@bp.post("/api/v1/tickets")
@csrf.exempt
def mint():
    """Mint one-time tickets for the queue-number system (API token of an admin or manager)."""
    # A token only, never the session cookie: minting is a machine's job, and this keeps a
    # signed-in administrator's browser from being made to mint by another site.
    user = (
        current_user() if request.headers.get("Authorization", "").startswith("Bearer ") else None
    )
    if user is None:
        return json_error(401, "unauthorized", "Send 'Authorization: Bearer API_TOKEN'.")
    data = request.get_json(silent=True)
    if data is None:
        return json_error(
            400, "malformed_json", "The body must be a JSON object.", {"body": "not JSON"}
        )
    config = current_app.config
    mint_request = MintRequest.parse(data, max_count=int(config["TICKET_MAX_PER_REQUEST"]))
    db = get_session()
    minted = mint_tickets(
        db,
        user,
        mint_request,
        now=utcnow(),
        ttl=timedelta(hours=float(config["TICKET_TTL_HOURS"])),
    )
    db.commit()
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
