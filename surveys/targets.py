"""Public survey codes: looking them up, rotating and switching them off."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from surveys.accounts import office_in_scope
from surveys.errors import InvalidTransition, NotFound, PermissionDenied
from surveys.models import Office, Target, User
from surveys.tokens import CODE_LENGTH, is_code_shaped, new_code, normalise_code


def public_codes(session: Session, office_ids: Iterable[int]) -> dict[tuple[int, int | None], str]:
    """Return {(office_id, counter_id or None): code} for the active office and counter codes."""
    ids = list(office_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Target.office_id, Target.counter_id, Target.code)
        .where(
            Target.office_id.in_(ids),
            Target.kind.in_(("office", "counter")),
            Target.is_enabled.is_(True),
            Target.rotated_at.is_(None),
        )
        .order_by(Target.id.desc())
    ).all()
    # Oldest last, so the first-created code of each place wins.
    return {(office_id, counter_id): code for office_id, counter_id, code in rows}


@dataclass(frozen=True)
class TargetStatus:
    """What a typed or scanned code currently is."""

    target: Target | None
    #: "active", "disabled", "replaced" or "unknown".
    state: str


def target_status(session: Session, code: str) -> TargetStatus:
    """Return the target behind a code (canonicalised) and whether it can be answered."""
    canonical = normalise_code(code)
    if not is_code_shaped(canonical):
        return TargetStatus(None, "unknown")
    target = session.scalar(select(Target).where(Target.code == canonical))
    if target is None:
        return TargetStatus(None, "unknown")
    if target.rotated_at is not None:
        return TargetStatus(target, "replaced")
    if not target.is_enabled:
        return TargetStatus(target, "disabled")
    return TargetStatus(target, "active")


def unique_code(session: Session, length: int = CODE_LENGTH) -> str:
    """Return a fresh target code that no target, current or retired, has used."""
    while True:
        code = new_code(length)
        if session.scalar(select(Target.id).where(Target.code == code)) is None:
            return code


def _managed_target(session: Session, actor: User, code: str) -> Target:
    """Return the target with this code if the actor administers its office, else raise."""
    if actor.role != "admin":
        raise PermissionDenied("Only administrators manage survey codes.")
    target = session.scalar(select(Target).where(Target.code == normalise_code(code)))
    if target is None:
        raise NotFound("No survey has this code.", {"target": "unknown code"})
    office_in_scope(session, actor, target.office.code)
    return target


def rotate_target(session: Session, actor: User, code: str, *, now: datetime) -> Target:
    """Replace a code by a fresh one for the same place and survey; return the new target.

    The old code keeps its row (past responses point at it) and from now on only explains
    that it was replaced, without saying by what: a code is usually rotated because it leaked.
    """
    old = _managed_target(session, actor, code)
    old.retire(now)
    new = Target(
        code=unique_code(session),
        kind=old.kind,
        office_id=old.office_id,
        counter_id=old.counter_id,
        officer_id=old.officer_id,
        survey_id=old.survey_id,
        is_enabled=old.is_enabled,
        created_at=now,
    )
    session.add(new)
    session.flush()
    return new


def set_target_enabled(session: Session, actor: User, code: str, *, enabled: bool) -> Target:
    """Switch a code on or off; a replaced code stays retired."""
    target = _managed_target(session, actor, code)
    if target.rotated_at is not None:
        raise InvalidTransition(
            "This code was replaced; manage the new one.", {"target": "replaced"}
        )
    target.is_enabled = enabled
    session.flush()
    return target


@dataclass
class PlaceCodes:
    """A place (the office, one counter or one officer) and its current codes, oldest first."""

    kind: str
    name: str
    detail: str
    targets: list[Target] = field(default_factory=list)


@dataclass
class OfficeCodes:
    office: Office
    places: list[PlaceCodes]

    @property
    def officer_targets(self) -> list[Target]:
        return [
            t
            for p in self.places
            if p.kind == "officer"
            for t in p.targets
            if t.is_active and t.officer.is_active
        ]


def office_codes(session: Session, office: Office) -> OfficeCodes:
    """Return the office, its counters and its officers with their current (not replaced) codes."""
    targets = session.scalars(
        select(Target)
        .where(Target.office_id == office.id, Target.rotated_at.is_(None))
        .options(selectinload(Target.counter), selectinload(Target.officer))
        .order_by(Target.id)
    ).all()
    office_place = PlaceCodes("office", office.name, office.address)
    counters = {c.id: PlaceCodes("counter", c.name, c.code) for c in office.counters}
    officers = {o.id: PlaceCodes("officer", o.name, o.title) for o in office.officers}
    for target in targets:
        if target.kind == "officer" and target.officer_id in officers:
            officers[target.officer_id].targets.append(target)
        elif target.kind == "counter" and target.counter_id in counters:
            counters[target.counter_id].targets.append(target)
        elif target.kind == "office":
            office_place.targets.append(target)
    return OfficeCodes(office, [office_place, *counters.values(), *officers.values()])
