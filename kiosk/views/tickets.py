"""The verified survey a one-time ticket opens (/t/CODE)."""

from __future__ import annotations

import uuid

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select

from kiosk import callback_offer
from kiosk.database import get_session
from kiosk.forms import answers_from_form, response_id_from_form
from kiosk.i18n import current_language
from kiosk.messages import answer_errors
from kiosk.settings import settings
from kiosk.views.phone import survey_page
from surveys.db import utcnow
from surveys.errors import Conflict, NotFound, TicketExpired, TicketUsed, ValidationError
from surveys.models import Ticket
from surveys.responses import ResponseInput, submit_response
from surveys.targets import load_target
from surveys.tickets import ticket_for_response
from surveys.tokens import normalise_code

bp = Blueprint("tickets", __name__)


def _ticket_page(state: str, status: int):
    return render_template("phone/ticket_unusable.html", state=state), status


def _ticket_form(ticket: Ticket, target, spec, response_id, **form):
    return survey_page(
        target,
        spec,
        response_id,
        ticket=ticket,
        form_action=url_for("tickets.submit", code=ticket.code),
        **form,
    )


def _ticket(code: str):
    """Return (ticket, target, spec), or the clear page of an unknown ticket."""
    db = get_session()
    try:
        ticket, target_code = ticket_for_response(db, code)
        target, spec = load_target(db, target_code, "ticket")
    except NotFound:
        return None, _ticket_page("unknown", 404)
    return (ticket, target, spec), None


@bp.get("/t")
@bp.get("/t/")
def enter_code():
    """Ticket codes are typed on the same page as survey codes."""
    return redirect(url_for("phone.enter_code"))


@bp.get("/t/<code>")
def survey(code: str):
    canonical = normalise_code(code)
    if canonical != code and canonical.isalnum():
        return redirect(url_for("tickets.survey", code=canonical, **request.args))
    found, page = _ticket(code)
    if page:
        return page
    ticket, target, spec = found
    if ticket.is_used:
        return _ticket_page("used", 409)
    if ticket.is_expired(utcnow()):
        return _ticket_page("expired", 410)
    return _ticket_form(ticket, target, spec, uuid.uuid4())


@bp.post("/t/<code>")
def submit(code: str):
    found, page = _ticket(code)
    if page:
        return page
    ticket, target, spec = found
    answers = answers_from_form(spec, request.form)
    # The target stays empty: the ticket names the survey, now and when the form is replayed.
    payload = ResponseInput(
        id=response_id_from_form(request.form),
        target_code="",
        answers=answers,
        locale=current_language(),
        ticket_code=ticket.code,
    )
    try:
        submit_response(get_session(), payload, now=utcnow(), policy=settings().submit)
    except ValidationError as error:
        return _ticket_form(
            ticket,
            target,
            spec,
            payload.id,
            selected=answers,
            errors=answer_errors(error),
            status=400,
        )
    except Conflict:
        pass  # Sent again after changing an answer: the first one counts.
    except TicketExpired:
        return _ticket_page("expired", 410)
    except TicketUsed:
        return _ticket_page("used", 409)
    callback_offer.remember(payload.id, ticket.code, spec, answers)
    return redirect(url_for("tickets.thanks", code=ticket.code))


def _thanks_page(code: str, errors: dict | None = None):
    ticket = get_session().scalar(select(Ticket).where(Ticket.code == normalise_code(code)))
    page = render_template(
        "phone/thanks.html",
        code=code,
        verified=True,
        callback_action=url_for("tickets.callback", code=code),
        **callback_offer.context(
            code, office_id=ticket.office_id if ticket else None, errors=errors
        ),
    )
    return page, 400 if errors else 200


@bp.get("/t/<code>/thanks")
def thanks(code: str):
    return _thanks_page(code)


@bp.post("/t/<code>/callback")
def callback(code: str):
    """The call-back form of a ticket's thank-you page (see kiosk/callback_offer.py)."""
    return callback_offer.answer(code, thanks_endpoint="tickets.thanks", page=_thanks_page)
