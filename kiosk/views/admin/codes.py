"""Administration of survey codes, QR posters, badge cards and printed tickets."""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kiosk import posters
from kiosk.auth import current_user, manager_required
from kiosk.database import get_session
from kiosk.forms import whole_number
from kiosk.messages import field_message
from kiosk.settings import settings
from surveys import accounts
from surveys.db import utcnow
from surveys.errors import DomainError, InvalidTransition, NotFound, Reason, ValidationError
from surveys.models import Office, Target
from surveys.periods import to_local
from surveys.targets import office_codes, rotate_target, set_target_enabled
from surveys.tickets import MintRequest, mint_tickets, tickets_of_batch

bp = Blueprint("admin_codes", __name__, url_prefix="/admin/codes")

#: Badge cards (ID-1, 85.6 × 54 mm) and ticket slips (64 × 39 mm) per A4 sheet.
BADGES_PER_SHEET = 10
SLIPS_PER_SHEET = 21


def _office(code: str) -> Office:
    return accounts.office_in_scope(get_session(), current_user(), code)


@bp.get("")
@manager_required
def index():
    offices = (
        get_session()
        .scalars(
            accounts.visible_offices(current_user()).options(
                selectinload(Office.unit),
                selectinload(Office.counters),
                selectinload(Office.officers),
            )
        )
        .all()
    )
    return render_template("admin/codes/index.html", offices=offices)


@bp.get("/offices/<code>")
@manager_required
def office(code: str):
    found = _office(code)
    return render_template(
        "admin/codes/office.html",
        codes=office_codes(get_session(), found),
        type_url=posters.typing_url(),
    )


def _target(code: str) -> Target:
    """Return a target of an office the admin manages (rotation checks the scope again)."""
    db = get_session()
    target = db.scalar(select(Target).where(Target.code == code))
    if target is None:
        abort(404)
    accounts.office_in_scope(db, current_user(), target.office.code)
    return target


@bp.get("/targets/<code>/rotate")
@manager_required
def confirm_rotate(code: str):
    target = _target(code)
    if target.rotated_at is not None:
        abort(409)
    title, subtitle = posters.place_lines(target)
    return render_template("admin/codes/rotate.html", target=target, title=title, subtitle=subtitle)


@bp.post("/targets/<code>/rotate")
@manager_required
def rotate(code: str):
    db = get_session()
    new = rotate_target(db, current_user(), code, now=utcnow())
    office_code = new.office.code
    flash(
        _(
            "Code %(old)s was replaced by %(new)s. Print the new poster: the old one now only "
            "says that its code was replaced.",
            old=code,
            new=new.code,
        )
    )
    return redirect(url_for("admin_codes.office", code=office_code))


@bp.post("/targets/<code>/disable")
@manager_required
def disable(code: str):
    return _switch(code, enabled=False)


@bp.post("/targets/<code>/enable")
@manager_required
def enable(code: str):
    return _switch(code, enabled=True)


def _switch(code: str, *, enabled: bool):
    db = get_session()
    target = set_target_enabled(db, current_user(), code, enabled=enabled, now=utcnow())
    office_code = target.office.code
    if enabled:
        flash(_("Code %(code)s is in use again.", code=code))
    else:
        flash(_("Code %(code)s is paused: it shows a polite page and takes no answers.", code=code))
    return redirect(url_for("admin_codes.office", code=office_code))


@bp.get("/offices/<code>/badges")
@manager_required
def badges(code: str):
    """Return the badge cards of every officer of an office who has a survey code."""
    found = _office(code)
    cards = []
    for target in office_codes(get_session(), found).officer_targets:
        url = posters.survey_url(target.code)
        cards.append(
            {
                "target": target,
                "name": target.officer.name,
                "title": target.officer.title,
                "qr": posters.qr(url, target.officer.name),
            }
        )
    return render_template(
        "print/badges.html",
        office=found,
        cards=cards,
        per_sheet=BADGES_PER_SHEET,
        texts=posters.bilingual_texts("officer"),
        type_url=posters.typing_url(),
    )


def _mint_form(office: Office, values: dict, errors: dict, status: int = 200):
    config = settings()
    return (
        render_template(
            "admin/codes/mint.html",
            office=office,
            values=values,
            errors=errors,
            max_count=config.ticket_max_per_request,
            ttl_hours=round(config.ticket_ttl.total_seconds() / 3600),
        ),
        status,
    )


def _mint_errors(error: DomainError, max_count: int) -> dict[str, str]:
    messages = {
        "count": _("Choose a number from 1 to %(max)s.", max=max_count),
        "counter": _("Choose a counter of this office."),
        "officer": _("Choose an officer of this office."),
        "service": _("At most 200 characters."),
        "office": _("This office has no survey code in use: enable one first."),
    }
    return {
        field: field_message(reason)
        if reason == Reason.RETIRED
        else messages.get(field, field_message(reason))
        for field, reason in error.fields.items()
    }


@bp.get("/offices/<code>/tickets")
@manager_required
def mint_form(code: str):
    return _mint_form(_office(code), {"count": 24}, {})


@bp.post("/offices/<code>/tickets")
@manager_required
def mint(code: str):
    found = _office(code)
    config = settings()
    values = {
        "office": found.code,
        "counter": request.form.get("counter") or None,
        "officer": request.form.get("officer") or None,
        "service": request.form.get("service") or None,
        "count": request.form.get("count", ""),
    }
    try:
        minted = mint_tickets(
            get_session(),
            current_user(),
            MintRequest(
                found.code,
                values["counter"],
                values["officer"],
                values["service"],
                whole_number(values["count"], "count"),
            ),
            now=utcnow().replace(microsecond=0),
            ttl=config.ticket_ttl,
            max_count=config.ticket_max_per_request,
        )
    except (ValidationError, NotFound, InvalidTransition) as error:
        # A counter or officer that is not of this office, or a place without a code in use.
        return _mint_form(found, values, _mint_errors(error, config.ticket_max_per_request), 400)
    return redirect(
        url_for("admin_codes.print_tickets", code=found.code, at=minted.issued_at.isoformat())
    )


@bp.get("/offices/<code>/tickets/print")
@manager_required
def print_tickets(code: str):
    """Return the slips of one minting, to print on a sheet of 24 labels and cut."""
    found = _office(code)
    try:
        issued_at = datetime.fromisoformat(request.args.get("at", ""))
    except ValueError:
        abort(404)
    tickets = tickets_of_batch(get_session(), found, issued_at, current_user().id)
    if not tickets:
        abort(404)
    slips = []
    for ticket in tickets:
        url = posters.ticket_url(ticket.code)
        slips.append(
            {
                "code": posters.grouped(ticket.code),
                "qr": posters.qr(url, ticket.code),
                "place": ticket.counter.name if ticket.counter else found.name,
            }
        )
    return render_template(
        "print/tickets.html",
        office=found,
        slips=slips,
        per_sheet=SLIPS_PER_SHEET,
        expires_at=to_local(tickets[0].expires_at, found.timezone).strftime("%d/%m/%Y %H:%M"),
        type_url=posters.typing_url(),
        texts=posters.bilingual_texts("ticket"),
    )
