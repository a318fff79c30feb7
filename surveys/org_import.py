"""A whole organisation from one spreadsheet: read, check every row, then apply all or nothing.

The file (CSV in UTF-8 with or without a byte-order mark, comma or semicolon, or XLSX) has
one row per item under the header ``type,code,name,parent,timezone,address``:

- ``type``: unit, office, counter or officer;
- ``parent``: the parent unit's code for a unit (empty: top level) or an office; the office's
  code for a counter or an officer;
- ``timezone`` and ``address``: offices only (time zone default Asia/Ho_Chi_Minh).

Rows may come in any order. Importing the same file again changes nothing; a changed name,
address, time zone or parent updates the item; nothing is removed or retired. Any bad row
means nothing is applied, and the plan lists every problem by row number and column.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from surveys import audit
from surveys.accounts import visible_offices
from surveys.assignments import apply_to_offices, survey_for
from surveys.errors import PermissionDenied, Reason, ValidationError
from surveys.models import AuditEntry, Counter, Office, Officer, Target, Unit, User
from surveys.models.org import DEFAULT_HOURS, DEFAULT_TIMEZONE
from surveys.org import (
    ADDRESS_MAX,
    CODE_PATTERN,
    NAME_MAX,
    is_timezone,
    normalise_code,
    visible_units,
)
from surveys.targets import TARGETS
from surveys.tokens import CODE_LENGTH, new_code

COLUMNS = ("type", "code", "name", "parent", "timezone", "address")
TYPES = ("unit", "office", "counter", "officer")
#: The largest file accepted (a city of several thousand rows is well under 1 MB).
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000


@dataclass(frozen=True)
class Row:
    number: int  # as a spreadsheet numbers it: the header is row 1
    type: str
    code: str
    name: str
    parent: str
    timezone: str
    address: str


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    reason: str
    value: str = ""


@dataclass
class Plan:
    """What applying the file would do, or why it cannot be applied."""

    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    #: {type: {"create": n, "update": n, "unchanged": n}}
    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: {t: {"create": 0, "update": 0, "unchanged": 0} for t in TYPES}
    )
    #: (type, code, what: "create" | "update", changed fields) for each item that changes.
    changes: list[tuple[str, str, str, list[str]]] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.problems

    @property
    def changed(self) -> int:
        return len(self.changes)


class ImportError(ValidationError):  # noqa: A001 - the domain's name for a bad file
    """The file cannot be read at all (not CSV or XLSX, no header, too large)."""

    code = "import_error"


def read_rows(content: bytes, filename: str) -> list[Row]:
    """Read the rows of a CSV or XLSX file; raise ImportError when it cannot be read."""
    if len(content) > MAX_BYTES:
        raise ImportError("The file is too large.", {"file": Reason.TOO_LONG})
    if filename.lower().endswith(".xlsx") or content[:4] == b"PK\x03\x04":
        table = _xlsx_table(content)
    else:
        table = _csv_table(content)
    if not table:
        raise ImportError("The file is empty.", {"file": Reason.REQUIRED})
    header = [str(cell or "").strip().lower() for cell in table[0]]
    missing = [c for c in ("type", "code", "name", "parent") if c not in header]
    if missing:
        raise ImportError("The header is missing columns.", {c: Reason.REQUIRED for c in missing})
    index = {name: header.index(name) for name in COLUMNS if name in header}
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        values = {
            name: ("" if i >= len(cells) or cells[i] is None else str(cells[i]).strip())
            for name, i in index.items()
        }
        if not any(values.values()):
            continue  # blank line
        rows.append(
            Row(
                number=number,
                type=values.get("type", "").lower(),
                code=values.get("code", ""),
                name=" ".join(values.get("name", "").split()),
                parent=values.get("parent", ""),
                timezone=values.get("timezone", ""),
                address=" ".join(values.get("address", "").split()),
            )
        )
        if len(rows) > MAX_ROWS:
            raise ImportError("The file has too many rows.", {"file": Reason.TOO_LONG})
    return rows


def _csv_table(content: bytes) -> list[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportError("The file is not UTF-8 text.", {"file": Reason.INVALID}) from None
    if "\x00" in text:
        raise ImportError("The file is not text.", {"file": Reason.INVALID_TEXT})
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _xlsx_table(content: bytes) -> list[list[Any]]:
    """Read the first sheet. openpyxl parses its XML through defusedxml (a dependency), so a
    workbook carrying XML entities (billion laughs) is refused rather than expanded; the sheet
    is read lazily and no further than the row limit allows."""
    from openpyxl import load_workbook

    unreadable = ImportError("The file is not a readable XLSX workbook.", {"file": Reason.INVALID})
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise unreadable from None
    try:
        table = []
        # The header, MAX_ROWS rows and one more to say "too many"; blank lines count here.
        for row in book.worksheets[0].iter_rows(values_only=True):
            table.append(list(row))
            if len(table) > 2 * MAX_ROWS + 1:
                raise ImportError("The file has too many rows.", {"file": Reason.TOO_LONG})
        return table
    except ImportError:
        raise
    except Exception:  # entities refused by defusedxml, a damaged sheet
        raise unreadable from None
    finally:
        book.close()


def _existing(session: Session) -> dict[str, dict[str, Any]]:
    return {
        "unit": {u.code: u for u in session.scalars(select(Unit))},
        "office": {o.code: o for o in session.scalars(select(Office))},
        "counter": {c.code: c for c in session.scalars(select(Counter))},
        "officer": {o.code: o for o in session.scalars(select(Officer))},
    }


def plan_import(session: Session, actor: User | None, rows: list[Row]) -> Plan:
    """Check every row against the file and the database; say what applying would change."""
    plan = Plan(rows=len(rows))
    problem = plan.problems.append
    existing = _existing(session)
    in_file: dict[str, dict[str, Row]] = {t: {} for t in TYPES}
    for row in rows:
        if row.type not in TYPES:
            problem(Problem(row.number, "type", Reason.INVALID, row.type))
            continue
        code = normalise_code(row.code)
        if not code:
            problem(Problem(row.number, "code", Reason.REQUIRED))
            continue
        if not CODE_PATTERN.fullmatch(code):
            problem(Problem(row.number, "code", Reason.INVALID, row.code))
            continue
        if code in in_file[row.type]:
            problem(Problem(row.number, "code", Reason.ALREADY_USED, row.code))
            continue
        # Units and offices share one space of codes (a scope or an alert rule names either).
        other = {"unit": "office", "office": "unit"}.get(row.type)
        if other and (code in in_file[other] or code in existing[other]):
            problem(Problem(row.number, "code", Reason.SHARED_CODE, row.code))
            continue
        in_file[row.type][code] = row
        if not row.name:
            problem(Problem(row.number, "name", Reason.REQUIRED))
        elif len(row.name) > NAME_MAX:
            problem(Problem(row.number, "name", Reason.TOO_LONG))
        if row.type == "office":
            if row.timezone and not is_timezone(row.timezone):
                problem(Problem(row.number, "timezone", Reason.INVALID, row.timezone))
            if len(row.address) > ADDRESS_MAX:
                problem(Problem(row.number, "address", Reason.TOO_LONG))
        else:
            for column in ("timezone", "address"):
                if getattr(row, column):
                    problem(Problem(row.number, column, Reason.NOT_ASKED, getattr(row, column)))

    def parent_known(kind: str, code: str) -> bool:
        return code in in_file[kind] or code in existing[kind]

    for kind, found in in_file.items():
        for _code, row in found.items():
            parent = normalise_code(row.parent)
            if kind == "unit":
                if parent and not parent_known("unit", parent):
                    problem(Problem(row.number, "parent", Reason.UNKNOWN_CODE, row.parent))
            elif not parent:
                problem(Problem(row.number, "parent", Reason.REQUIRED))
            elif not parent_known("unit" if kind == "office" else "office", parent):
                problem(Problem(row.number, "parent", Reason.UNKNOWN_CODE, row.parent))
    _find_cycles(in_file["unit"], existing["unit"], problem)
    if actor is not None:
        _check_scope(session, actor, in_file, existing, problem)
    plan.problems.sort(key=lambda p: (p.row, COLUMNS.index(p.column) if p.column in COLUMNS else 9))
    if plan.problems:
        return plan
    for kind, found in in_file.items():
        for code, row in found.items():
            wanted = _wanted(kind, row)
            item = existing[kind].get(code)
            if item is None:
                plan.counts[kind]["create"] += 1
                plan.changes.append((kind, code, "create", sorted(wanted)))
                continue
            differing = [
                name for name, value in wanted.items() if _current(kind, item, name) != value
            ]
            if differing:
                plan.counts[kind]["update"] += 1
                plan.changes.append((kind, code, "update", differing))
            else:
                plan.counts[kind]["unchanged"] += 1
    return plan


def _wanted(kind: str, row: Row) -> dict[str, str]:
    wanted = {"name": row.name, "parent": normalise_code(row.parent)}
    if kind == "office":
        wanted["timezone"] = row.timezone or DEFAULT_TIMEZONE
        wanted["address"] = row.address
    return wanted


def _current(kind: str, item: Any, name: str) -> str:
    if name == "parent":
        if kind == "unit":
            return item.parent.code if item.parent else ""
        return item.unit.code if kind == "office" else item.office.code
    return getattr(item, name) or ""


def _find_cycles(units: dict[str, Row], existing: dict[str, Unit], problem) -> None:
    """Report units whose parents, followed up, come back to them."""

    def parent_of(code: str) -> str:
        if code in units:
            return normalise_code(units[code].parent)
        unit = existing.get(code)
        return unit.parent.code if unit is not None and unit.parent is not None else ""

    for code, row in units.items():
        seen = {code}
        current = parent_of(code)
        while current:
            if current in seen:
                problem(Problem(row.number, "parent", Reason.CYCLE, row.parent))
                break
            seen.add(current)
            current = parent_of(current)


def _check_scope(session, actor: User, in_file, existing, problem) -> None:
    """A manager imports only offices, counters and officers within their scope."""
    if actor.role not in ("admin", "manager"):
        raise PermissionDenied("Your role may not change the organisation.")
    whole_city = actor.role == "admin" and not (actor.scope_unit_id or actor.scope_office_id)
    if whole_city:
        return
    scope_path = actor.scope_unit.path if actor.scope_unit_id is not None else None
    own_offices = {o.code for o in session.scalars(visible_offices(actor))}

    def unit_path(code: str) -> str | None:
        # Units new in the file have no path yet: follow their parents up to a known one.
        seen = set()
        suffix = ""
        while code and code not in seen:
            seen.add(code)
            if code in existing["unit"]:
                return existing["unit"][code].path + suffix
            row = in_file["unit"].get(code)
            if row is None:
                return None
            suffix += f"{code}/"
            code = normalise_code(row.parent)
        return None

    def office_allowed(code: str, row: Row) -> bool:
        path = unit_path(normalise_code(row.parent))
        if code in existing["office"] and code not in own_offices:
            return False
        return scope_path is not None and path is not None and path.startswith(scope_path)

    # Offices a counter or an officer may go to: the actor's own, and new ones in scope.
    reachable = own_offices | {
        code
        for code, row in in_file["office"].items()
        if code not in existing["office"] and office_allowed(code, row)
    }
    for kind, found in in_file.items():
        for code, row in found.items():
            parent = normalise_code(row.parent)
            if kind == "unit":
                allowed = (
                    actor.role == "admin"
                    and scope_path is not None
                    and bool(parent and (unit_path(parent) or "").startswith(scope_path))
                )
            elif kind == "office":
                allowed = office_allowed(code, row)
            else:
                allowed = parent in reachable
                item = existing[kind].get(code)
                if item is not None and item.office.code not in own_offices:
                    allowed = False
            if not allowed:
                problem(Problem(row.number, "parent", Reason.NOT_IN_SCOPE, row.parent))


def _fresh_target_codes(session: Session, count: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < count:
        wanted = {new_code(CODE_LENGTH) for _ in range(count - len(codes))}
        taken = set(session.scalars(select(Target.code).where(Target.code.in_(wanted))))
        codes |= wanted - taken
    return list(codes)


def apply_import(
    session: Session, actor: User | None, rows: list[Row], *, now: datetime, source: str = ""
) -> Plan:
    """Apply a file whose plan is valid; raise ValidationError (nothing applied) otherwise.

    Units first (parents before children), then offices, counters and officers; each new
    office, counter and officer gets its survey code. One audit entry per change, and one
    for the import itself. Flushes, does not commit.
    """
    plan = plan_import(session, actor, rows)
    if not plan.is_valid:
        raise ValidationError(
            "The file has problems; nothing was applied.",
            {f"row {p.row}.{p.column}": p.reason for p in plan.problems[:50]},
        )
    existing = _existing(session)
    by_kind: dict[str, dict[str, Row]] = defaultdict(dict)
    for row in rows:
        by_kind[row.type][normalise_code(row.code)] = row
    changing = {(kind, code) for kind, code, _what, _fields in plan.changes}
    entries: list[dict[str, Any]] = []

    def note(action: str, kind: str, code: str, before: dict | None, after: dict) -> None:
        entries.append(
            {
                "action": action,
                "subject_type": kind,
                "subject": code,
                "before": before,
                "after": after,
            }
        )

    # Units, parents before children (depth by following parents inside the file).
    def depth(code: str) -> int:
        level, current, seen = 0, code, set()
        while current in by_kind["unit"] and current not in seen:
            seen.add(current)
            current = normalise_code(by_kind["unit"][current].parent)
            level += 1
        return level

    units = existing["unit"]
    for code in sorted(by_kind["unit"], key=depth):
        if ("unit", code) not in changing:
            continue
        row = by_kind["unit"][code]
        parent = units.get(normalise_code(row.parent)) if row.parent else None
        unit = units.get(code)
        if unit is None:
            unit = Unit(code=code, name=row.name)
            session.add(unit)
            session.flush()
            unit.place_under(parent)
            units[code] = unit
            note(
                "unit.create", "unit", code, None, {"name": row.name, "parent": row.parent or None}
            )
        else:
            before = {"name": unit.name, "parent": unit.parent.code if unit.parent else None}
            unit.name = row.name
            if (parent.id if parent else None) != unit.parent_id:
                old_path = unit.path
                unit.place_under(parent)
                for child in session.scalars(
                    select(Unit).where(Unit.path.startswith(old_path), Unit.id != unit.id)
                ):
                    child.path = unit.path + child.path[len(old_path) :]
            after = {"name": unit.name, "parent": parent.code if parent else None}
            note("unit.update", "unit", code, *audit.changes(before, after))
    session.flush()

    offices = existing["office"]
    new_offices: list[Office] = []
    moved_offices: list[Office] = []
    #: Offices whose codes' cached look-ups (names, state) must be read again.
    changed_offices: list[Office] = []
    #: Offices that received a counter or an officer: its codes ask what they chose.
    receiving: list[Office] = []
    for code, row in by_kind["office"].items():
        if ("office", code) not in changing:
            continue
        unit = units[normalise_code(row.parent)]
        office = offices.get(code)
        facts = {
            "name": row.name,
            "parent": unit.code,
            "timezone": row.timezone or DEFAULT_TIMEZONE,
            "address": row.address,
        }
        if office is None:
            office = Office(
                code=code,
                name=row.name,
                unit=unit,
                address=row.address,
                timezone=row.timezone or DEFAULT_TIMEZONE,
                opening_hours=list(DEFAULT_HOURS),
            )
            session.add(office)
            offices[code] = office
            new_offices.append(office)
            note("office.create", "office", code, None, facts)
        else:
            before = {
                "name": office.name,
                "parent": office.unit.code,
                "timezone": office.timezone,
                "address": office.address,
            }
            if office.unit_id != unit.id:
                moved_offices.append(office)
            changed_offices.append(office)
            office.name, office.unit, office.address = row.name, unit, row.address
            office.timezone = row.timezone or DEFAULT_TIMEZONE
            note("office.update", "office", code, *audit.changes(before, facts))
    session.flush()
    apply_to_offices(session, new_offices + moved_offices)

    new_places: list[tuple[str, Office, Counter | None, Officer | None]] = [
        ("office", office, None, None) for office in new_offices
    ]
    for kind, model in (("counter", Counter), ("officer", Officer)):
        items = existing[kind]
        for code, row in by_kind[kind].items():
            if (kind, code) not in changing:
                continue
            office = offices[normalise_code(row.parent)]
            item = items.get(code)
            if item is None:
                item = model(code=code, name=row.name, office=office)
                session.add(item)
                items[code] = item
                new_places.append(
                    (
                        kind,
                        office,
                        item if kind == "counter" else None,
                        item if kind == "officer" else None,
                    )
                )
                note(f"{kind}.create", kind, code, None, {"name": row.name, "parent": office.code})
            else:
                before = {"name": item.name, "parent": item.office.code}
                changed_offices.append(item.office)
                if item.office_id != office.id:
                    # As org.update_counter/update_officer: the codes follow, and an officer's
                    # usual counters (of the old office) no longer apply.
                    item.office = office
                    receiving.append(office)
                    column = Target.counter_id if kind == "counter" else Target.officer_id
                    for target in session.scalars(select(Target).where(column == item.id)):
                        target.office_id = office.id
                        if kind == "officer":
                            target.counter_id = None
                    if kind == "officer":
                        item.counters = []
                item.name = row.name
                note(
                    f"{kind}.update",
                    kind,
                    code,
                    *audit.changes(before, {"name": item.name, "parent": office.code}),
                )
    session.flush()
    apply_to_offices(session, receiving)
    for code in session.scalars(
        select(Target.code).where(Target.office_id.in_({o.id for o in changed_offices}))
    ):
        TARGETS.forget(code)

    # Every new place gets its public code at once, asking the survey its office chose.
    codes = _fresh_target_codes(session, len(new_places))
    surveys: dict[tuple[int, str], int] = {}
    target_rows = []
    for code, (kind, office, counter, officer) in zip(codes, new_places, strict=True):
        key = (office.id, kind)
        if key not in surveys:
            surveys[key] = survey_for(session, office, kind).id
        target_rows.append(
            {
                "code": code,
                "kind": kind,
                "office_id": office.id,
                "counter_id": counter.id if counter is not None else None,
                "officer_id": officer.id if officer is not None else None,
                "survey_id": surveys[key],
                "is_enabled": True,
                "created_at": now,
            }
        )
    if target_rows:
        session.execute(insert(Target.__table__), target_rows)
    _record_all(session, actor, entries, now=now)
    audit.record(
        session,
        actor,
        "org.import",
        now=now,
        subject_type="file",
        subject=source,
        after={"rows": plan.rows, "changes": plan.changed},
    )
    return plan


def _record_all(
    session: Session, actor: User | None, entries: list[dict], *, now: datetime
) -> None:
    """Add the audit entries of an import in one insert."""
    if not entries:
        return
    session.execute(
        insert(AuditEntry.__table__),
        [
            {
                "at": now,
                "actor_id": actor.id if actor is not None else None,
                "actor_email": actor.email if actor is not None else "",
                "actor_role": actor.role if actor is not None else "",
                "action": entry["action"],
                "subject_type": entry["subject_type"],
                "subject": entry["subject"],
                "before": entry["before"],
                "after": entry["after"],
            }
            for entry in entries
        ],
    )


def export_rows(session: Session, actor: User | None) -> list[list[str]]:
    """Return the organisation in scope in the import's own format (header first)."""
    rows: list[list[str]] = [list(COLUMNS)]
    if actor is None:
        units = list(session.scalars(select(Unit).order_by(Unit.path)))
        offices = list(session.scalars(select(Office).order_by(Office.code)))
    else:
        units = visible_units(session, actor) if actor.role == "admin" else []
        offices = list(session.scalars(visible_offices(actor).order_by(None).order_by(Office.code)))
    for unit in units:
        rows.append(["unit", unit.code, unit.name, unit.parent.code if unit.parent else "", "", ""])
    for office in offices:
        rows.append(
            ["office", office.code, office.name, office.unit.code, office.timezone, office.address]
        )
    for office in offices:
        for counter in office.counters:
            rows.append(["counter", counter.code, counter.name, office.code, "", ""])
        for officer in office.officers:
            rows.append(["officer", officer.code, officer.name, office.code, "", ""])
    return rows


def to_csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("org")
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def template_rows() -> list[list[str]]:
    """Return an example file: the demo Hanoi city (a few officers per office)."""
    from surveys import demo

    rows: list[list[str]] = [list(COLUMNS)]
    for code, name, parent in demo.UNITS:
        rows.append(["unit", code, name, parent or "", "", ""])
    for code, name, unit, address, _counters, _rate in demo.OFFICES:
        rows.append(["office", code, name, unit, DEFAULT_TIMEZONE, address])
    people = iter(demo.EXAMPLE_OFFICERS)
    for code, _name, _unit, _address, counters, _rate in demo.OFFICES:
        for i in range(1, counters + 1):
            rows.append(["counter", f"{code}-Q{i}", f"Quầy số {i}", code, "", ""])
        for j in range(2):
            rows.append(["officer", f"{code}-CB{j + 1}", next(people), code, "", ""])
    return rows
