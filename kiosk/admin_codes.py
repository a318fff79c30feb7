"""Administration of survey codes, QR posters, badge cards and printed tickets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
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
from kiosk.admin import admin_required
from kiosk.auth import current_user
from kiosk.database import get_session
from surveys import accounts
from surveys.db import utcnow
from surveys.errors import ValidationError
from surveys.models import Office, Target
from surveys.targets import office_codes, rotate_target, set_target_enabled
from surveys.tickets import MintRequest, mint_tickets, tickets_of_batch

bp = Blueprint("admin_codes", __name__, url_prefix="/admin/codes")

#: Badge cards (ID-1, 85.6 × 54 mm) and ticket slips (64 × 39 mm) per A4 sheet.
BADGES_PER_SHEET = 10
SLIPS_PER_SHEET = 21


def _office(code: str) -> Office:
    return accounts.office_in_scope(get_session(), current_user(), code)


@bp.get("")
@admin_required
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
@admin_required
def office(code: str):
    found = _office(code)
    return render_template(
        "admin/codes/office.html",
        codes=office_codes(get_session(), found),
        type_url=posters.without_scheme(current_app.config["PUBLIC_BASE_URL"]) + "/s",
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
@admin_required
def confirm_rotate(code: str):
    target = _target(code)
    if target.rotated_at is not None:
        abort(409)
    title, subtitle = posters.place_lines(target)
    return render_template("admin/codes/rotate.html", target=target, title=title, subtitle=subtitle)


@bp.post("/targets/<code>/rotate")
@admin_required
def rotate(code: str):
    db = get_session()
    new = rotate_target(db, current_user(), code, now=utcnow())
    office_code = new.office.code
    db.commit()
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
@admin_required
def disable(code: str):
    return _switch(code, enabled=False)


@bp.post("/targets/<code>/enable")
@admin_required
def enable(code: str):
    return _switch(code, enabled=True)


def _switch(code: str, *, enabled: bool):
    db = get_session()
    target = set_target_enabled(db, current_user(), code, enabled=enabled)
    office_code = target.office.code
    db.commit()
    if enabled:
        flash(_("Code %(code)s is in use again.", code=code))
    else:
        flash(_("Code %(code)s is paused: it shows a polite page and takes no answers.", code=code))
    return redirect(url_for("admin_codes.office", code=office_code))


@bp.get("/offices/<code>/badges")
@admin_required
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
        type_url=posters.without_scheme(current_app.config["PUBLIC_BASE_URL"]) + "/s",
    )


def _mint_form(office: Office, values: dict, errors: dict, status: int = 200):
    return (
        render_template(
            "admin/codes/mint.html",
            office=office,
            values=values,
            errors=errors,
            max_count=current_app.config["TICKET_MAX_PER_REQUEST"],
            ttl_hours=current_app.config["TICKET_TTL_HOURS"],
        ),
        status,
    )


def _mint_errors(error: ValidationError, max_count: int) -> dict[str, str]:
    messages = {
        "count": _("Choose a number from 1 to %(max)s.", max=max_count),
        "counter": _("Choose a counter of this office."),
        "officer": _("Choose an officer of this office."),
        "service": _("At most 200 characters."),
        "office": _("This office has no survey code in use: enable one first."),
    }
    return {field: messages.get(field, _("This value is not valid.")) for field in error.fields}


@bp.get("/offices/<code>/tickets")
@admin_required
def mint_form(code: str):
    return _mint_form(_office(code), {"count": 24}, {})


@bp.post("/offices/<code>/tickets")
@admin_required
def mint(code: str):
    found = _office(code)
    max_count = int(current_app.config["TICKET_MAX_PER_REQUEST"])
    values = {
        "office": found.code,
        "counter": request.form.get("counter") or None,
        "officer": request.form.get("officer") or None,
        "service": request.form.get("service") or None,
        "count": request.form.get("count", ""),
    }
    db = get_session()
    try:
        minted = mint_tickets(
            db,
            current_user(),
            MintRequest.parse(values, max_count=max_count),
            now=utcnow().replace(microsecond=0),
            ttl=timedelta(hours=float(current_app.config["TICKET_TTL_HOURS"])),
        )
    except ValidationError as error:
        db.rollback()
        return _mint_form(found, values, _mint_errors(error, max_count), 400)
    db.commit()
    return redirect(
        url_for("admin_codes.print_tickets", code=found.code, at=minted.issued_at.isoformat())
    )


@bp.get("/offices/<code>/tickets/print")
@admin_required
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
        expires_at=tickets[0]
        .expires_at.replace(tzinfo=UTC)
        .astimezone(ZoneInfo(found.timezone))
        .strftime("%d/%m/%Y %H:%M"),
        type_url=posters.without_scheme(current_app.config["PUBLIC_BASE_URL"]) + "/s",
        texts=posters.bilingual_texts("ticket"),
    )
