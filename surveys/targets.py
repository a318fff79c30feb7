"""Public survey codes: looking them up, rotating and switching them off."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased, selectinload

from surveys import audit
from surveys.accounts import office_in_scope
from surveys.errors import InvalidTransition, NotFound, PermissionDenied, Reason
from surveys.models import Counter, Office, Officer, Survey, Target, User
from surveys.models.org import DEFAULT_TIMEZONE
from surveys.spec import SurveySpec, survey_spec
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
            Target.is_active,
        )
        .order_by(Target.id.desc())
    ).all()
    # Oldest last, so the first-created code of each place wins.
    return {(office_id, counter_id): code for office_id, counter_id, code in rows}


@dataclass(frozen=True)
class TargetRef:
    """What answering a code needs to know about it, without touching the ORM.

    Immutable and cached per process (see ``find_target``): the phone page, the submit path
    and the kiosk read it on every request.
    """

    id: int
    code: str
    kind: str
    office_id: int
    counter_id: int | None
    officer_id: int | None
    survey_id: int
    survey_created_at: datetime
    #: "active", "disabled" or "replaced".
    state: str
    office_name: str
    counter_name: str | None
    officer_name: str | None
    #: How many counters the code stands for: its office's count for an office's own code.
    counters_served: int
    #: The survey the office's kiosks ask, and its tickets (None: the code's own survey).
    kiosk_survey: tuple[int, datetime] | None = None
    ticket_survey: tuple[int, datetime] | None = None
    #: The office's time zone: its rollups count local calendar days and hours.
    office_timezone: str = DEFAULT_TIMEZONE

    def survey_for(self, channel: str) -> tuple[int, datetime]:
        """Return (survey id, created_at) of the survey asked through ``channel``."""
        chosen = {"kiosk": self.kiosk_survey, "ticket": self.ticket_survey}.get(channel)
        return chosen or (self.survey_id, self.survey_created_at)

    @property
    def is_active(self) -> bool:
        return self.state == "active"

    @property
    def label(self) -> str:
        """Return the name a citizen sees: the officer, counter or office."""
        if self.officer_name is not None:
            return self.officer_name
        if self.counter_name is not None:
            return f"{self.counter_name} · {self.office_name}"
        return self.office_name


#: How long a looked-up code is trusted before it is read again. A code paused or rotated on
#: another server stops answering here within this time; on this server, at once.
TARGET_CACHE_SECONDS = 30.0


class TargetCache:
    """Codes already looked up, by code, each with the monotonic time it was read."""

    def __init__(self, seconds: float = TARGET_CACHE_SECONDS):
        self.seconds = seconds
        self._entries: dict[str, tuple[float, TargetRef]] = {}

    def get(self, code: str) -> TargetRef | None:
        entry = self._entries.get(code)
        if entry is None or time.monotonic() - entry[0] > self.seconds:
            return None
        return entry[1]

    def put(self, ref: TargetRef) -> None:
        if len(self._entries) > 50_000:
            self._entries.clear()
        self._entries[ref.code] = (time.monotonic(), ref)

    def forget(self, code: str) -> None:
        self._entries.pop(code, None)

    def clear(self) -> None:
        self._entries.clear()


TARGETS = TargetCache()


def _state(is_enabled: bool, rotated_at: datetime | None, place_active: bool) -> str:
    if rotated_at is not None:
        return "replaced"
    # The code of a retired office, counter or officer answers like a paused one.
    return "active" if is_enabled and place_active else "disabled"


_OTHER_COUNTER = aliased(Counter)
_KIOSK_SURVEY = aliased(Survey)
_TICKET_SURVEY = aliased(Survey)
_COUNTERS_OF_OFFICE = (
    select(func.count(_OTHER_COUNTER.id))
    .where(_OTHER_COUNTER.office_id == Target.office_id)
    .correlate(Target)
    .scalar_subquery()
)
_TARGET_REF_QUERY = (
    select(
        Target.id,
        Target.code,
        Target.kind,
        Target.office_id,
        Target.counter_id,
        Target.officer_id,
        Target.survey_id,
        Survey.created_at,
        Target.is_enabled,
        Target.rotated_at,
        Office.name,
        Counter.name,
        Officer.name,
        _COUNTERS_OF_OFFICE,
        Office.is_active,
        Counter.is_active,
        Officer.is_active,
        _KIOSK_SURVEY.id,
        _KIOSK_SURVEY.created_at,
        _TICKET_SURVEY.id,
        _TICKET_SURVEY.created_at,
        Office.timezone,
    )
    .join(Survey, Survey.id == Target.survey_id)
    .join(Office, Office.id == Target.office_id)
    .outerjoin(Counter, Counter.id == Target.counter_id)
    .outerjoin(Officer, Officer.id == Target.officer_id)
    .outerjoin(_KIOSK_SURVEY, _KIOSK_SURVEY.id == Office.kiosk_survey_id)
    .outerjoin(_TICKET_SURVEY, _TICKET_SURVEY.id == Office.ticket_survey_id)
)


def find_target(session: Session, code: str) -> TargetRef | None:
    """Return the code's target (active or not) from the cache or one query, or None.

    ``code`` must already be canonical (see ``normalise_code``); unknown codes are not cached,
    so a code created a moment ago answers at once.
    """
    if (ref := TARGETS.get(code)) is not None:
        return ref
    if not is_code_shaped(code):
        return None
    row = session.execute(_TARGET_REF_QUERY.where(Target.code == code)).one_or_none()
    if row is None:
        return None
    (
        id_,
        code_,
        kind,
        office_id,
        counter_id,
        officer_id,
        survey_id,
        survey_created_at,
        is_enabled,
        rotated_at,
        office_name,
        counter_name,
        officer_name,
        counters,
        office_active,
        counter_active,
        officer_active,
        kiosk_id,
        kiosk_created,
        ticket_id,
        ticket_created,
        office_timezone,
    ) = row
    place_active = (
        bool(office_active)
        and (kind == "office" or counter_active is None or bool(counter_active))
        and (kind != "officer" or bool(officer_active))
    )
    ref = TargetRef(
        id=id_,
        code=code_,
        kind=kind,
        office_id=office_id,
        counter_id=counter_id,
        officer_id=officer_id,
        survey_id=survey_id,
        survey_created_at=survey_created_at,
        state=_state(is_enabled, rotated_at, place_active),
        office_name=office_name,
        counter_name=counter_name if kind != "office" else None,
        officer_name=officer_name,
        counters_served=max(1, counters) if kind == "office" else 1,
        kiosk_survey=(kiosk_id, kiosk_created) if kiosk_id is not None else None,
        ticket_survey=(ticket_id, ticket_created) if ticket_id is not None else None,
        office_timezone=office_timezone,
    )
    TARGETS.put(ref)
    return ref


def load_target(session: Session, code: str, channel: str = "qr") -> tuple[TargetRef, SurveySpec]:
    """Return an active target and the survey asked through ``channel`` ("qr" for the code's
    own, "kiosk" or "ticket" for the office's choice), or raise NotFound saying why not."""
    ref = find_target(session, normalise_code(code))
    if ref is None:
        raise NotFound("No survey has this code.", {"target": Reason.UNKNOWN_CODE})
    if not ref.is_active:
        raise NotFound("This survey code is not in use.", {"target": Reason.INACTIVE_CODE})
    survey_id, created_at = ref.survey_for(channel)
    return ref, survey_spec(session, survey_id, created_at)


@dataclass(frozen=True)
class TargetStatus:
    """What a typed or scanned code currently is."""

    target: TargetRef | None
    #: "active", "disabled", "replaced" or "unknown".
    state: str


def target_status(session: Session, code: str) -> TargetStatus:
    """Return the target behind a code (canonicalised) and whether it can be answered."""
    ref = find_target(session, normalise_code(code))
    return TargetStatus(ref, ref.state if ref is not None else "unknown")


def unique_code(session: Session, length: int = CODE_LENGTH) -> str:
    """Return a fresh target code that no target, current or retired, has used."""
    while True:
        code = new_code(length)
        if session.scalar(select(Target.id).where(Target.code == code)) is None:
            return code


def _managed_target(session: Session, actor: User, code: str) -> Target:
    """Return the target with this code if the actor administers its office, else raise."""
    if actor.role not in ("admin", "manager"):
        raise PermissionDenied("Only administrators and managers manage survey codes.")
    target = session.scalar(select(Target).where(Target.code == normalise_code(code)))
    if target is None:
        raise NotFound("No survey has this code.", {"target": Reason.UNKNOWN_CODE})
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
    TARGETS.forget(old.code)
    audit.record(
        session,
        actor,
        "code.rotate",
        now=now,
        subject_type="code",
        subject=old.code,
        after={"new_code": new.code, "office": old.office.code},
    )
    return new


def set_target_enabled(
    session: Session, actor: User, code: str, *, enabled: bool, now: datetime
) -> Target:
    """Switch a code on or off; a replaced code stays retired."""
    target = _managed_target(session, actor, code)
    if target.rotated_at is not None:
        raise InvalidTransition(
            "This code was replaced; manage the new one.", {"target": Reason.INACTIVE_CODE}
        )
    before = target.is_enabled
    target.is_enabled = enabled
    session.flush()
    TARGETS.forget(target.code)
    if before != enabled:
        audit.record(
            session,
            actor,
            "code.enable" if enabled else "code.pause",
            now=now,
            subject_type="code",
            subject=target.code,
        )
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
