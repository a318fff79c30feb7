"""Setting up the organisation: units, offices, counters and officers.

Create, rename, move between parents, retire and reactivate; nothing is ever deleted. Every
change is checked against the actor's scope and recorded in the audit log. A new office,
counter or officer gets its public survey code at once, so its poster can be printed.

Who may do what: administrators edit the unit tree; administrators and managers edit the
offices, counters and officers within their scope; viewers only read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import audit
from surveys.accounts import visible_offices
from surveys.assignments import apply_to_offices, survey_for
from surveys.errors import (
    AlreadyExists,
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    Reason,
    ValidationError,
)
from surveys.models import Counter, Office, Officer, Target, Unit, User
from surveys.models.org import DEFAULT_HOURS, DEFAULT_TIMEZONE
from surveys.targets import TARGETS, unique_code

#: A unit, office, counter or officer code: letters, digits and dashes, as a city writes them.
CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9_.-]{0,31}")
NAME_MAX = 200
ADDRESS_MAX = 300
TITLE_MAX = 200
MANAGING_ROLES = ("admin", "manager")
#: Keep this field as it is (a PATCH that does not name it).
UNCHANGED: Any = object()


def normalise_code(text: str | None) -> str:
    return (text or "").strip().upper()


def check_code(code: str, errors: dict[str, Reason], field: str = "code") -> str:
    code = normalise_code(code)
    if not code:
        errors[field] = Reason.REQUIRED
    elif not CODE_PATTERN.fullmatch(code):
        errors[field] = Reason.INVALID
    return code


def check_name(name: str | None, errors: dict[str, Reason], limit: int = NAME_MAX) -> str:
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = Reason.REQUIRED
    elif len(name) > limit:
        errors["name"] = Reason.TOO_LONG
    return name


_ZONES: frozenset[str] | None = None


def is_timezone(name: str) -> bool:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return name in _ZONES


def parse_hours(days: Any) -> list[list[str] | None]:
    """Check opening hours: seven entries, Monday first, each ["HH:MM", "HH:MM"] or null."""
    if not isinstance(days, list) or len(days) != 7:
        raise ValidationError("Opening hours are seven days.", {"hours": Reason.INVALID})
    hours: list[list[str] | None] = []
    for day in days:
        if day is None:
            hours.append(None)
            continue
        try:
            opens, closes = (time.fromisoformat(day[0]), time.fromisoformat(day[1]))
        except (TypeError, ValueError, IndexError):
            raise ValidationError(
                "Opening hours are written HH:MM.", {"hours": Reason.INVALID}
            ) from None
        if not opens < closes:
            raise ValidationError("An office closes after it opens.", {"hours": Reason.INVALID})
        hours.append([opens.strftime("%H:%M"), closes.strftime("%H:%M")])
    return hours


# Scope -----------------------------------------------------------------------------------


def _require_role(actor: User, roles: tuple[str, ...] = MANAGING_ROLES) -> None:
    if actor.role not in roles:
        raise PermissionDenied("Your role may not change the organisation.")


def _unit_in_scope(actor: User, unit: Unit) -> bool:
    if actor.scope_office_id is not None:
        return False
    if actor.scope_unit_id is not None:
        return unit.path.startswith(actor.scope_unit.path)
    return actor.role == "admin"


def _office_in_scope(session: Session, actor: User, office: Office) -> bool:
    return session.scalar(visible_offices(actor).where(Office.id == office.id)) is not None


def get_unit(session: Session, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == normalise_code(code)))
    if unit is None:
        raise NotFound("No unit has this code.", {"unit": Reason.UNKNOWN_CODE})
    return unit


def managed_unit(session: Session, actor: User, code: str) -> Unit:
    """Return a unit the actor edits (an administrator, within their scope), else raise."""
    _require_role(actor, ("admin",))
    unit = get_unit(session, code)
    if not _unit_in_scope(actor, unit):
        raise PermissionDenied("This unit is outside your scope.", {"unit": Reason.NOT_IN_SCOPE})
    return unit


def may_create_offices(actor: User) -> bool:
    """Whether the actor adds offices: administrators and managers of a unit or the city, not
    someone whose scope is one office."""
    return actor.role in MANAGING_ROLES and actor.scope_office_id is None


def get_office(session: Session, actor: User, code: str) -> Office:
    office = session.scalar(select(Office).where(Office.code == normalise_code(code)))
    if office is None:
        raise NotFound("No office has this code.", {"office": Reason.UNKNOWN_CODE})
    if not _office_in_scope(session, actor, office):
        raise PermissionDenied(
            "This office is outside your scope.", {"office": Reason.NOT_IN_SCOPE}
        )
    return office


def get_counter(session: Session, actor: User, code: str) -> Counter:
    counter = session.scalar(select(Counter).where(Counter.code == normalise_code(code)))
    if counter is None:
        raise NotFound("No counter has this code.", {"counter": Reason.UNKNOWN_CODE})
    if not _office_in_scope(session, actor, counter.office):
        raise PermissionDenied("This counter is outside your scope.")
    return counter


def get_officer(session: Session, actor: User, code: str) -> Officer:
    officer = session.scalar(select(Officer).where(Officer.code == normalise_code(code)))
    if officer is None:
        raise NotFound("No officer has this code.", {"officer": Reason.UNKNOWN_CODE})
    if not _office_in_scope(session, actor, officer.office):
        raise PermissionDenied("This officer works outside your scope.")
    return officer


def visible_units(session: Session, actor: User) -> list[Unit]:
    """Return the units the actor sees (their subtree, or every unit for a whole-city role),
    in tree order."""
    query = select(Unit).order_by(Unit.path)
    if actor.scope_office_id is not None:
        office = session.get(Office, actor.scope_office_id)
        return [office.unit] if office else []
    if actor.scope_unit_id is not None:
        query = query.where(Unit.path.startswith(actor.scope_unit.path))
    return list(session.scalars(query))


# Snapshots for the audit log ---------------------------------------------------------------


def unit_facts(unit: Unit) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "parent": unit.parent.code if unit.parent else None,
        "active": unit.is_active,
    }


def office_facts(office: Office) -> dict[str, Any]:
    return {
        "code": office.code,
        "name": office.name,
        "parent": office.unit.code,
        "address": office.address,
        "timezone": office.timezone,
        "hours": office.opening_hours,
        "active": office.is_active,
    }


def counter_facts(counter: Counter) -> dict[str, Any]:
    return {
        "code": counter.code,
        "name": counter.name,
        "parent": counter.office.code,
        "active": counter.is_active,
    }


def officer_facts(officer: Officer) -> dict[str, Any]:
    return {
        "code": officer.code,
        "name": officer.name,
        "title": officer.title,
        "parent": officer.office.code,
        "counters": [c.code for c in officer.counters],
        "active": officer.is_active,
    }


def _changed(before: dict, after: dict) -> bool:
    return before != after


# Units -----------------------------------------------------------------------------------


def is_place_code_taken(session: Session, code: str) -> bool:
    """Whether a unit or an office has ``code``: the two share one space of codes, since a
    user's scope and an alert rule name "a unit or an office" by its code alone."""
    return (
        session.scalar(select(Unit.id).where(Unit.code == code)) is not None
        or session.scalar(select(Office.id).where(Office.code == code)) is not None
    )


def create_unit(
    session: Session, actor: User, *, code: str, name: str, parent: str | None, now: datetime
) -> Unit:
    """Add a unit under ``parent`` (a unit code; None for a top-level unit)."""
    _require_role(actor, ("admin",))
    errors: dict[str, Reason] = {}
    code = check_code(code, errors)
    name = check_name(name, errors)
    parent_unit = None
    if parent:
        parent_unit = session.scalar(select(Unit).where(Unit.code == normalise_code(parent)))
        if parent_unit is None:
            errors["parent"] = Reason.UNKNOWN_CODE
    if not errors and is_place_code_taken(session, code):
        errors["code"] = Reason.ALREADY_USED
    raise_first(errors, "The unit cannot be created.")
    if parent_unit is None and (actor.scope_unit_id or actor.scope_office_id):
        raise PermissionDenied("Only a whole-city administrator adds a top-level unit.")
    if parent_unit is not None and not _unit_in_scope(actor, parent_unit):
        raise PermissionDenied(
            "The parent unit is outside your scope.", {"parent": Reason.NOT_IN_SCOPE}
        )
    unit = Unit(code=code, name=name)
    session.add(unit)
    session.flush()
    unit.place_under(parent_unit)
    session.flush()
    audit.record(
        session,
        actor,
        "unit.create",
        now=now,
        subject_type="unit",
        subject=code,
        after=unit_facts(unit),
    )
    return unit


def _descendants(session: Session, unit: Unit) -> list[Unit]:
    return list(
        session.scalars(
            select(Unit)
            .where(Unit.path.startswith(unit.path), Unit.id != unit.id)
            .order_by(Unit.path)
        )
    )


def update_unit(
    session: Session,
    actor: User,
    code: str,
    *,
    now: datetime,
    name: Any = UNCHANGED,
    parent: Any = UNCHANGED,
    active: Any = UNCHANGED,
) -> Unit:
    """Rename a unit, move it under another parent (None: top level), retire or reactivate it.

    A unit is retired only once its offices and sub-units are: move or retire them first.
    """
    unit = managed_unit(session, actor, code)
    before = unit_facts(unit)
    errors: dict[str, Reason] = {}
    if name is not UNCHANGED:
        new_name = check_name(name, errors)
    if parent is not UNCHANGED:
        new_parent = None
        if parent:
            new_parent = session.scalar(select(Unit).where(Unit.code == normalise_code(parent)))
            if new_parent is None:
                errors["parent"] = Reason.UNKNOWN_CODE
            elif new_parent.path.startswith(unit.path):
                errors["parent"] = Reason.CYCLE  # under itself
            elif not _unit_in_scope(actor, new_parent) and new_parent.id != unit.parent_id:
                # A scoped administrator keeps their own unit where it is (its parent is
                # outside their scope) while renaming it.
                errors["parent"] = Reason.NOT_IN_SCOPE
        elif (actor.scope_unit_id or actor.scope_office_id) and unit.parent_id is not None:
            errors["parent"] = Reason.NOT_IN_SCOPE
    raise_first(errors, "The unit cannot be changed.")
    if name is not UNCHANGED:
        unit.name = new_name
    if parent is not UNCHANGED and (new_parent.id if new_parent else None) != unit.parent_id:
        old_path = unit.path
        unit.place_under(new_parent)
        for child in session.scalars(
            select(Unit).where(Unit.path.startswith(old_path), Unit.id != unit.id)
        ):
            child.path = unit.path + child.path[len(old_path) :]
    if active is not UNCHANGED and bool(active) != unit.is_active:
        if not active:
            busy = session.scalar(
                select(Office.id).where(Office.unit_id == unit.id, Office.is_active.is_(True))
            ) or session.scalar(
                select(Unit.id).where(Unit.parent_id == unit.id, Unit.is_active.is_(True))
            )
            if busy:
                raise InvalidTransition(
                    "Retire or move this unit's offices and sub-units first.",
                    {"active": Reason.IN_USE},
                )
        unit.is_active = bool(active)
    session.flush()
    after = unit_facts(unit)
    if _changed(before, after):
        old, new = audit.changes(before, after)
        audit.record(
            session,
            actor,
            "unit.update",
            now=now,
            subject_type="unit",
            subject=unit.code,
            before=old,
            after=new,
        )
    return unit


# Offices ---------------------------------------------------------------------------------


def _new_target(
    session: Session, kind: str, office: Office, *, now: datetime, counter=None, officer=None
) -> Target:
    target = Target(
        code=unique_code(session),
        kind=kind,
        office_id=office.id,
        counter_id=counter.id if counter is not None else None,
        officer_id=officer.id if officer is not None else None,
        survey_id=survey_for(session, office, kind).id,
        created_at=now,
    )
    session.add(target)
    return target


def create_office(
    session: Session,
    actor: User,
    *,
    code: str,
    name: str,
    parent: str,
    now: datetime,
    address: str = "",
    timezone: str = DEFAULT_TIMEZONE,
    hours: list | None = None,
) -> Office:
    """Add an office under a unit, with its public survey code."""
    if not may_create_offices(actor):
        raise PermissionDenied("Your role or scope may not add offices.")
    errors: dict[str, Reason] = {}
    code = check_code(code, errors)
    name = check_name(name, errors)
    address = " ".join((address or "").split())
    if len(address) > ADDRESS_MAX:
        errors["address"] = Reason.TOO_LONG
    timezone = (timezone or DEFAULT_TIMEZONE).strip()
    if not is_timezone(timezone):
        errors["timezone"] = Reason.INVALID
    unit = session.scalar(select(Unit).where(Unit.code == normalise_code(parent)))
    if unit is None:
        errors["parent"] = Reason.UNKNOWN_CODE if parent else Reason.REQUIRED
    if not errors and is_place_code_taken(session, code):
        errors["code"] = Reason.ALREADY_USED
    raise_first(errors, "The office cannot be created.")
    opening_hours = parse_hours(hours) if hours is not None else list(DEFAULT_HOURS)
    if not _unit_in_scope(actor, unit):
        raise PermissionDenied("This unit is outside your scope.", {"parent": Reason.NOT_IN_SCOPE})
    office = Office(
        code=code,
        name=name,
        unit=unit,
        address=address,
        timezone=timezone,
        opening_hours=opening_hours,
    )
    session.add(office)
    session.flush()
    _new_target(session, "office", office, now=now)
    apply_to_offices(session, [office])
    audit.record(
        session,
        actor,
        "office.create",
        now=now,
        subject_type="office",
        subject=code,
        after=office_facts(office),
    )
    return office


def update_office(
    session: Session,
    actor: User,
    code: str,
    *,
    now: datetime,
    name: Any = UNCHANGED,
    parent: Any = UNCHANGED,
    address: Any = UNCHANGED,
    timezone: Any = UNCHANGED,
    hours: Any = UNCHANGED,
    active: Any = UNCHANGED,
) -> Office:
    """Change an office's details, move it to another unit, retire or reactivate it."""
    _require_role(actor)
    office = get_office(session, actor, code)
    before = office_facts(office)
    errors: dict[str, Reason] = {}
    if name is not UNCHANGED:
        office_name = check_name(name, errors)
    if address is not UNCHANGED:
        office_address = " ".join((address or "").split())
        if len(office_address) > ADDRESS_MAX:
            errors["address"] = Reason.TOO_LONG
    if timezone is not UNCHANGED and not is_timezone((timezone or "").strip()):
        errors["timezone"] = Reason.INVALID
    if parent is not UNCHANGED:
        unit = session.scalar(select(Unit).where(Unit.code == normalise_code(parent)))
        if unit is None:
            errors["parent"] = Reason.UNKNOWN_CODE if parent else Reason.REQUIRED
        elif not _unit_in_scope(actor, unit) and unit.id != office.unit_id:
            errors["parent"] = Reason.NOT_IN_SCOPE
    raise_first(errors, "The office cannot be changed.")
    if hours is not UNCHANGED:
        office.opening_hours = parse_hours(hours)
    if name is not UNCHANGED:
        office.name = office_name
    if address is not UNCHANGED:
        office.address = office_address
    if timezone is not UNCHANGED:
        office.timezone = timezone.strip()
    if parent is not UNCHANGED and unit.id != office.unit_id:
        if actor.scope_office_id is not None:
            raise PermissionDenied("Your scope is this office; it cannot move.")
        office.unit = unit
        session.flush()
        apply_to_offices(session, [office])
    if active is not UNCHANGED:
        office.is_active = bool(active)
    session.flush()
    after = office_facts(office)
    if _changed(before, after):
        old, new = audit.changes(before, after)
        audit.record(
            session,
            actor,
            "office.update",
            now=now,
            subject_type="office",
            subject=office.code,
            before=old,
            after=new,
        )
    _forget_codes(session, office_id=office.id)
    return office


def _forget_codes(session: Session, **where: int) -> None:
    """Drop this server's cached look-ups of the codes of a changed place."""
    query = select(Target.code)
    for column, value in where.items():
        query = query.where(getattr(Target, column) == value)
    for code in session.scalars(query):
        TARGETS.forget(code)


# Counters --------------------------------------------------------------------------------


def create_counter(
    session: Session, actor: User, office_code: str, *, code: str, name: str, now: datetime
) -> Counter:
    """Add a counter to an office, with its public survey code."""
    _require_role(actor)
    office = get_office(session, actor, office_code)
    errors: dict[str, Reason] = {}
    code = check_code(code, errors)
    name = check_name(name, errors)
    if not errors and session.scalar(select(Counter.id).where(Counter.code == code)) is not None:
        errors["code"] = Reason.ALREADY_USED
    raise_first(errors, "The counter cannot be created.")
    counter = Counter(code=code, name=name, office=office)
    session.add(counter)
    session.flush()
    _new_target(session, "counter", office, now=now, counter=counter)
    session.flush()
    audit.record(
        session,
        actor,
        "counter.create",
        now=now,
        subject_type="counter",
        subject=code,
        after=counter_facts(counter),
    )
    return counter


def update_counter(
    session: Session,
    actor: User,
    code: str,
    *,
    now: datetime,
    name: Any = UNCHANGED,
    parent: Any = UNCHANGED,
    active: Any = UNCHANGED,
) -> Counter:
    """Rename a counter, move it to another office in scope, retire or reactivate it."""
    _require_role(actor)
    counter = get_counter(session, actor, code)
    before = counter_facts(counter)
    errors: dict[str, Reason] = {}
    if name is not UNCHANGED:
        counter_name = check_name(name, errors)
    if parent is not UNCHANGED:
        office = session.scalar(select(Office).where(Office.code == normalise_code(parent)))
        if office is None:
            errors["parent"] = Reason.UNKNOWN_CODE if parent else Reason.REQUIRED
        elif not _office_in_scope(session, actor, office):
            errors["parent"] = Reason.NOT_IN_SCOPE
    raise_first(errors, "The counter cannot be changed.")
    if name is not UNCHANGED:
        counter.name = counter_name
    if parent is not UNCHANGED and office.id != counter.office_id:
        counter.office = office
        # Its codes follow it: ratings through them now count for the new office, and ask
        # the survey the new office chose.
        for target in session.scalars(select(Target).where(Target.counter_id == counter.id)):
            target.office_id = office.id
        session.flush()
        apply_to_offices(session, [office])
    if active is not UNCHANGED:
        counter.is_active = bool(active)
    session.flush()
    after = counter_facts(counter)
    if _changed(before, after):
        old, new = audit.changes(before, after)
        audit.record(
            session,
            actor,
            "counter.update",
            now=now,
            subject_type="counter",
            subject=counter.code,
            before=old,
            after=new,
        )
    _forget_codes(session, counter_id=counter.id)
    return counter


# Officers --------------------------------------------------------------------------------


def _counters_of(
    session: Session, office: Office, codes: list[str] | None, errors: dict[str, Reason]
) -> list[Counter]:
    if not codes:
        return []
    wanted = [normalise_code(c) for c in codes]
    found = list(
        session.scalars(
            select(Counter).where(Counter.office_id == office.id, Counter.code.in_(wanted))
        )
    )
    if len(found) != len(set(wanted)):
        errors["counters"] = Reason.NOT_IN_OFFICE
    return found


def create_officer(
    session: Session,
    actor: User,
    office_code: str,
    *,
    code: str,
    name: str,
    now: datetime,
    title: str = "",
    counters: list[str] | None = None,
) -> Officer:
    """Add an officer to an office, with their public survey code (their badge's QR)."""
    _require_role(actor)
    office = get_office(session, actor, office_code)
    errors: dict[str, Reason] = {}
    code = check_code(code, errors)
    name = check_name(name, errors)
    title = " ".join((title or "").split())
    if len(title) > TITLE_MAX:
        errors["title"] = Reason.TOO_LONG
    usual = _counters_of(session, office, counters, errors)
    if not errors and session.scalar(select(Officer.id).where(Officer.code == code)) is not None:
        errors["code"] = Reason.ALREADY_USED
    raise_first(errors, "The officer cannot be created.")
    officer = Officer(code=code, name=name, title=title, office=office)
    officer.counters = usual
    session.add(officer)
    session.flush()
    _new_target(session, "officer", office, now=now, officer=officer)
    session.flush()
    audit.record(
        session,
        actor,
        "officer.create",
        now=now,
        subject_type="officer",
        subject=code,
        after=officer_facts(officer),
    )
    return officer


def update_officer(
    session: Session,
    actor: User,
    code: str,
    *,
    now: datetime,
    name: Any = UNCHANGED,
    title: Any = UNCHANGED,
    parent: Any = UNCHANGED,
    counters: Any = UNCHANGED,
    active: Any = UNCHANGED,
) -> Officer:
    """Change an officer's name, title or usual counters, move them to another office in
    scope (their code follows them), retire or reactivate them."""
    _require_role(actor)
    officer = get_officer(session, actor, code)
    before = officer_facts(officer)
    errors: dict[str, Reason] = {}
    if name is not UNCHANGED:
        officer_name = check_name(name, errors)
    if title is not UNCHANGED:
        officer_title = " ".join((title or "").split())
        if len(officer_title) > TITLE_MAX:
            errors["title"] = Reason.TOO_LONG
    office = officer.office
    if parent is not UNCHANGED:
        office = session.scalar(select(Office).where(Office.code == normalise_code(parent)))
        if office is None:
            errors["parent"] = Reason.UNKNOWN_CODE if parent else Reason.REQUIRED
        elif not _office_in_scope(session, actor, office):
            errors["parent"] = Reason.NOT_IN_SCOPE
    usual = None
    if counters is not UNCHANGED and office is not None:
        usual = _counters_of(session, office, counters, errors)
    raise_first(errors, "The officer cannot be changed.")
    if name is not UNCHANGED:
        officer.name = officer_name
    if title is not UNCHANGED:
        officer.title = officer_title
    if parent is not UNCHANGED and office.id != officer.office_id:
        officer.office = office
        for target in session.scalars(select(Target).where(Target.officer_id == officer.id)):
            target.office_id = office.id
            target.counter_id = None
        if usual is None:
            officer.counters = []
        session.flush()
        apply_to_offices(session, [office])
    if usual is not None:
        officer.counters = usual
    if active is not UNCHANGED:
        officer.is_active = bool(active)
    session.flush()
    after = officer_facts(officer)
    if _changed(before, after):
        old, new = audit.changes(before, after)
        audit.record(
            session,
            actor,
            "officer.update",
            now=now,
            subject_type="officer",
            subject=officer.code,
            before=old,
            after=new,
        )
    _forget_codes(session, officer_id=officer.id)
    return officer


# Reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfficeTree:
    """A unit with its offices and sub-units, for the organisation page."""

    unit: Unit
    offices: list[Office]
    children: list[OfficeTree]


def tree(session: Session, actor: User) -> list[OfficeTree]:
    """Return the units the actor sees as a tree, each with its offices in scope."""
    units = visible_units(session, actor)
    offices = list(session.scalars(visible_offices(actor)))
    by_unit: dict[int, list[Office]] = {}
    for office in offices:
        by_unit.setdefault(office.unit_id, []).append(office)
    nodes = {u.id: OfficeTree(u, by_unit.get(u.id, []), []) for u in units}
    roots = []
    for unit in units:
        node = nodes[unit.id]
        if unit.parent_id in nodes:
            nodes[unit.parent_id].children.append(node)
        else:
            roots.append(node)
    return roots


def raise_first(errors: dict[str, Reason], message: str) -> None:
    """Raise the error a client can act on: a malformed value (400) before an unknown parent
    (404), a duplicate code or a cycle (409), or a parent out of scope (403)."""
    if not errors:
        return
    kinds: list[tuple[type[DomainError], set[Reason]]] = [
        (PermissionDenied, {Reason.NOT_IN_SCOPE}),
        (NotFound, {Reason.UNKNOWN_CODE, Reason.NOT_IN_OFFICE}),
        (AlreadyExists, {Reason.ALREADY_USED}),
        (InvalidTransition, {Reason.CYCLE}),
    ]
    plain = {f: r for f, r in errors.items() if not any(r in rs for _k, rs in kinds)}
    if plain:
        raise ValidationError(message, plain)
    for kind, reasons in kinds:
        found = {f: r for f, r in errors.items() if r in reasons}
        if found:
            raise kind(message, found)
