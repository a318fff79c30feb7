"""The organisation through the API, so a city's IT can script its set-up: units, offices,
counters and officers (the same field names as the import file), and the audit log."""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, request, url_for
from sqlalchemy import select

from kiosk.auth import api_login_required, current_user
from kiosk.boundary import read_json
from kiosk.database import get_session
from kiosk.settings import settings
from kiosk.views.api.openapi import MANAGER, Answer, error, operation
from kiosk.views.api.schemas import (
    MAX_ID,
    AuditPage,
    AuditQuery,
    CounterBody,
    CounterPatch,
    OfficeBody,
    OfficeDetailOut,
    OfficePatch,
    OfficerBody,
    OfficerDetailOut,
    OfficerPatch,
    PlaceOut,
    UnitBody,
    UnitOut,
    UnitPatch,
    parse,
)
from surveys import audit, org
from surveys.db import utcnow
from surveys.errors import PermissionDenied, Reason, ValidationError
from surveys.models import Counter, Office, Officer, Target, Unit
from surveys.periods import DateRange, local_today

bp = Blueprint("api_org", __name__, url_prefix="/api/v1")

_CODE = {"code": "A code of the organisation"}
_WRITE_ERRORS = {
    400: error("Invalid input; 'fields' names each problem"),
    401: error("Not signed in"),
    403: error("A viewer, or outside the caller's scope (only administrators edit units)"),
    404: error("An unknown code, or a parent that does not exist"),
    409: error("A code already in use, a unit placed under itself, or retiring a busy unit"),
}


def _changes(body) -> dict:
    """The fields a PATCH names (a field left out stays as it is; null is a value)."""
    return {name: getattr(body, name) for name in body.model_fields_set}


def _codes_by_place(places: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """Return {(kind, id): active code} for offices, counters and officers, in one query."""
    if not places:
        return {}
    db = get_session()
    found: dict[tuple[str, int], str] = {}
    for kind, office_id, counter_id, officer_id, code in db.execute(
        select(Target.kind, Target.office_id, Target.counter_id, Target.officer_id, Target.code)
        .where(Target.is_active, Target.office_id.in_({o for k, o in places if k == "office"}))
        .order_by(Target.id.desc())
    ):
        subject = {"office": office_id, "counter": counter_id, "officer": officer_id}[kind]
        found[(kind, subject)] = code
    return found


def unit_json(unit: Unit) -> dict:
    return {
        "code": unit.code,
        "name": unit.name,
        "parent": unit.parent.code if unit.parent else None,
        "active": unit.is_active,
    }


def office_json(office: Office) -> dict:
    codes = _codes_by_place([("office", office.id)])
    return {
        "code": office.code,
        "name": office.name,
        "parent": office.unit.code,
        "unit": office.unit.code,
        "timezone": office.timezone,
        "address": office.address,
        "hours": office.opening_hours,
        "target": codes.get(("office", office.id)),
        "active": office.is_active,
        "counters": [_counter_json(c, codes) for c in office.counters],
        "officers": [_officer_json(o, codes) for o in office.officers],
    }


def _counter_json(counter: Counter, codes: dict) -> dict:
    return {
        "code": counter.code,
        "name": counter.name,
        "parent": counter.office.code,
        "target": codes.get(("counter", counter.id)),
        "active": counter.is_active,
    }


def _officer_json(officer: Officer, codes: dict) -> dict:
    return {
        "code": officer.code,
        "name": officer.name,
        "title": officer.title,
        "parent": officer.office.code,
        "counters": [c.code for c in officer.counters],
        "target": codes.get(("officer", officer.id)),
        "active": officer.is_active,
    }


def counter_json(counter: Counter) -> dict:
    return _counter_json(counter, _codes_by_place([("office", counter.office_id)]))


def officer_json(officer: Officer) -> dict:
    return _officer_json(officer, _codes_by_place([("office", officer.office_id)]))


def _created(body: dict):
    response = jsonify(body)
    response.status_code = 201
    return response


@operation(
    method="get",
    path="/units",
    summary="The units the caller sees, in tree order",
    security=MANAGER,
    answers={200: Answer("Units", UnitOut, many=True), 401: error("Not signed in")},
)
@bp.get("/units")
@api_login_required
def units():
    return jsonify([unit_json(u) for u in org.visible_units(get_session(), current_user())])


@operation(
    method="post",
    path="/units",
    summary="Add a unit (administrators)",
    body=UnitBody,
    security=MANAGER,
    answers={201: Answer("The unit", UnitOut), **_WRITE_ERRORS},
)
@bp.post("/units")
@api_login_required
def create_unit():
    body = parse(UnitBody, read_json())
    unit = org.create_unit(
        get_session(),
        current_user(),
        code=body.code,
        name=body.name,
        parent=body.parent,
        now=utcnow(),
    )
    return _created(unit_json(unit))


@operation(
    method="patch",
    path="/units/{code}",
    summary="Rename a unit, move it, retire or reactivate it (administrators)",
    path_params=_CODE,
    body=UnitPatch,
    security=MANAGER,
    answers={200: Answer("The unit", UnitOut), **_WRITE_ERRORS},
)
@bp.patch("/units/<code>")
@api_login_required
def update_unit(code: str):
    body = parse(UnitPatch, read_json())
    unit = org.update_unit(get_session(), current_user(), code, now=utcnow(), **_changes(body))
    return jsonify(unit_json(unit))


@operation(
    method="post",
    path="/offices",
    summary="Add an office under a unit, with its public survey code",
    body=OfficeBody,
    security=MANAGER,
    answers={201: Answer("The office", OfficeDetailOut), **_WRITE_ERRORS},
)
@bp.post("/offices")
@api_login_required
def create_office():
    body = parse(OfficeBody, read_json())
    office = org.create_office(
        get_session(),
        current_user(),
        code=body.code,
        name=body.name,
        parent=body.parent,
        timezone=body.timezone,
        address=body.address,
        now=utcnow(),
    )
    return _created(office_json(office))


@operation(
    method="get",
    path="/offices/{code}",
    summary="An office with its counters and officers",
    path_params=_CODE,
    security=MANAGER,
    answers={
        200: Answer("The office", OfficeDetailOut),
        401: error("Not signed in"),
        403: error("Outside the caller's scope"),
        404: error("Unknown office"),
    },
)
@bp.get("/offices/<code>")
@api_login_required
def office(code: str):
    return jsonify(office_json(org.get_office(get_session(), current_user(), code)))


@operation(
    method="patch",
    path="/offices/{code}",
    summary="Change an office, move it to another unit, retire or reactivate it",
    path_params=_CODE,
    body=OfficePatch,
    security=MANAGER,
    answers={200: Answer("The office", OfficeDetailOut), **_WRITE_ERRORS},
)
@bp.patch("/offices/<code>")
@api_login_required
def update_office(code: str):
    body = parse(OfficePatch, read_json())
    office = org.update_office(get_session(), current_user(), code, now=utcnow(), **_changes(body))
    return jsonify(office_json(office))


@operation(
    method="post",
    path="/offices/{code}/counters",
    summary="Add a counter to an office, with its public survey code",
    path_params=_CODE,
    body=CounterBody,
    security=MANAGER,
    answers={201: Answer("The counter", PlaceOut), **_WRITE_ERRORS},
)
@bp.post("/offices/<code>/counters")
@api_login_required
def create_counter(code: str):
    body = parse(CounterBody, read_json())
    counter = org.create_counter(
        get_session(), current_user(), code, code=body.code, name=body.name, now=utcnow()
    )
    return _created(counter_json(counter))


@operation(
    method="post",
    path="/offices/{code}/officers",
    summary="Add an officer to an office, with their public survey code",
    path_params=_CODE,
    body=OfficerBody,
    security=MANAGER,
    answers={201: Answer("The officer", OfficerDetailOut), **_WRITE_ERRORS},
)
@bp.post("/offices/<code>/officers")
@api_login_required
def create_officer(code: str):
    body = parse(OfficerBody, read_json())
    officer = org.create_officer(
        get_session(),
        current_user(),
        code,
        code=body.code,
        name=body.name,
        title=body.title,
        counters=body.counters,
        now=utcnow(),
    )
    return _created(officer_json(officer))


@operation(
    method="patch",
    path="/counters/{code}",
    summary="Rename a counter, move it to another office, retire or reactivate it",
    path_params=_CODE,
    body=CounterPatch,
    security=MANAGER,
    answers={200: Answer("The counter", PlaceOut), **_WRITE_ERRORS},
)
@bp.patch("/counters/<code>")
@api_login_required
def update_counter(code: str):
    body = parse(CounterPatch, read_json())
    counter = org.update_counter(
        get_session(), current_user(), code, now=utcnow(), **_changes(body)
    )
    return jsonify(counter_json(counter))


@operation(
    method="patch",
    path="/officers/{code}",
    summary="Change an officer, move them to another office, retire or reactivate them",
    path_params=_CODE,
    body=OfficerPatch,
    security=MANAGER,
    answers={200: Answer("The officer", OfficerDetailOut), **_WRITE_ERRORS},
)
@bp.patch("/officers/<code>")
@api_login_required
def update_officer(code: str):
    body = parse(OfficerPatch, read_json())
    officer = org.update_officer(
        get_session(), current_user(), code, now=utcnow(), **_changes(body)
    )
    return jsonify(officer_json(officer))


@operation(
    method="get",
    path="/audit",
    summary="The audit log, newest first (administrators)",
    description="Every change to the organisation, surveys, accounts, codes, kiosks and tickets, "
    "and every sign-in: who, when, from which role, what, before and after. 'from' and 'to' "
    "are inclusive UTC days; 'action' is an action or a prefix ending in '.'; page with "
    "'before' (the next URL is given).",
    query=AuditQuery,
    security=MANAGER,
    answers={
        200: Answer("A page of entries", AuditPage),
        400: error("A bound that is not a date"),
        401: error("Not signed in"),
        403: error("Not an administrator"),
    },
)
@bp.get("/audit")
@api_login_required
def audit_log():
    user = current_user()
    if user.role != "admin":
        raise PermissionDenied("Only administrators read the audit log.")
    where = audit_filter(request.args)
    before = None
    if "before" in request.args:
        text = request.args["before"].strip()
        if not INTEGER.fullmatch(text):
            raise ValidationError("Not a whole number.", {"before": Reason.NOT_AN_INTEGER})
        before = int(text)
        if not 1 <= before <= MAX_ID:
            raise ValidationError("Out of range.", {"before": Reason.OUT_OF_RANGE})
    page = audit.entries(get_session(), where, limit=PAGE, before_id=before)
    next_url = None
    if len(page) == PAGE:
        args = {k: v for k, v in request.args.items() if k != "before"}
        next_url = url_for(".audit_log", before=page[-1].id, **args)
    return jsonify(
        {
            "entries": [
                {
                    "id": e.id,
                    "at": e.at.isoformat(timespec="seconds") + "Z",
                    "actor": e.actor_email,
                    "role": e.actor_role,
                    "action": e.action,
                    "subject_type": e.subject_type,
                    "subject": e.subject,
                    "before": e.before,
                    "after": e.after,
                }
                for e in page
            ],
            "next": next_url,
        }
    )


PAGE = 200
INTEGER = re.compile(r"[+-]?[0-9]{1,18}")


def audit_filter(args) -> audit.AuditFilter:
    """Read the audit log's filters from a query string (400 when a day is not a date)."""
    start, end = args.get("from"), args.get("to")
    zone = settings().default_timezone
    period = None
    if start is not None or end is not None:
        today = local_today(zone, utcnow())
        period = DateRange.parse(start, end, today=today, default_days=3660 * 10)
    return audit.AuditFilter(
        period=period,
        actor=args.get("actor") or None,
        action=args.get("action") or None,
        timezone=zone,
    )
