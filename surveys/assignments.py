"""Which survey each channel of an office asks: its own choice, else its nearest unit's, else
the default (quick everywhere, office culture on officers' codes).

The choice names a survey by key; the newest published version of that key is asked. What was
chosen is written onto what citizens read (each code's ``survey_id``, the office's kiosk and
ticket surveys) whenever a choice changes or a version is published, so the citizen's request
never resolves anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from surveys import audit
from surveys.defaults import OFFICE_CULTURE, QUICK, ensure_default_surveys
from surveys.errors import NotFound, Reason, ValidationError
from surveys.models import Office, Survey, SurveyAssignment, Target, Unit, User
from surveys.models.survey import CHANNELS
from surveys.targets import TARGETS

DEFAULT_KEYS = {
    "kiosk": QUICK,
    "office": QUICK,
    "counter": QUICK,
    "officer": OFFICE_CULTURE,
    "ticket": QUICK,
}
#: The channel of each kind of code.
TARGET_CHANNEL = {"office": "office", "counter": "counter", "officer": "officer"}


def published(session: Session, key: str) -> Survey | None:
    """Return the newest published version of a survey key, or None."""
    return session.scalars(
        select(Survey)
        .where(Survey.key == key, Survey.published_at.is_not(None))
        .order_by(Survey.version.desc())
        .limit(1)
    ).first()


def _unit_ids(unit: Unit) -> list[int]:
    """Return the ids of a unit and its ancestors, root first."""
    return [int(part) for part in unit.path.strip("/").split("/") if part]


def chosen_keys(session: Session, office: Office) -> dict[str, tuple[str, str]]:
    """Return {channel: (survey key, where it comes from)} for an office.

    "where" is "office", "unit:CODE" or "default".
    """
    lineage = _unit_ids(office.unit)
    rows = session.execute(
        select(SurveyAssignment, Unit.code)
        .outerjoin(Unit, Unit.id == SurveyAssignment.unit_id)
        .where(
            or_(
                SurveyAssignment.office_id == office.id,
                SurveyAssignment.unit_id.in_(lineage),
            )
        )
    ).all()
    depth = {unit_id: i for i, unit_id in enumerate(lineage)}
    found: dict[str, tuple[int, str, str]] = {}
    for assignment, unit_code in rows:
        rank = 10_000 if assignment.office_id is not None else depth[assignment.unit_id]
        source = "office" if assignment.office_id is not None else f"unit:{unit_code}"
        if assignment.channel not in found or rank > found[assignment.channel][0]:
            found[assignment.channel] = (rank, assignment.survey_key, source)
    return {
        channel: (found[channel][1], found[channel][2])
        if channel in found
        else (DEFAULT_KEYS[channel], "default")
        for channel in CHANNELS
    }


def survey_for(session: Session, office: Office, channel: str) -> Survey:
    """Return the survey version an office's channel asks now."""
    key, _source = chosen_keys(session, office)[channel]
    survey = published(session, key)
    if survey is None:  # a default that was never seeded in this database
        survey = ensure_default_surveys(session)[DEFAULT_KEYS[channel]]
    return survey


def apply_to_offices(session: Session, offices: Iterable[Office]) -> None:
    """Write each office's chosen surveys onto its codes in use and its kiosk and tickets."""
    for office in offices:
        keys = chosen_keys(session, office)
        versions = {}
        for channel, (key, _source) in keys.items():
            survey = (
                published(session, key) or ensure_default_surveys(session)[DEFAULT_KEYS[channel]]
            )
            versions[channel] = survey.id
        office.kiosk_survey_id = versions["kiosk"]
        office.ticket_survey_id = versions["ticket"]
        for target in session.scalars(
            select(Target).where(Target.office_id == office.id, Target.rotated_at.is_(None))
        ):
            target.survey_id = versions[TARGET_CHANNEL[target.kind]]
            # This server answers with the new survey at once (others within the cache's time).
            TARGETS.forget(target.code)
    session.flush()


def offices_under(session: Session, unit: Unit) -> list[Office]:
    subtree = select(Unit.id).where(Unit.path.startswith(unit.path))
    return list(session.scalars(select(Office).where(Office.unit_id.in_(subtree))))


def offices_choosing(session: Session, key: str) -> list[Office]:
    """Return the offices (retired ones too) where some channel asks the survey ``key``."""
    if key in DEFAULT_KEYS.values():
        candidates = list(session.scalars(select(Office).order_by(Office.id)))
    else:
        found: dict[int, Office] = {}
        for assignment in session.scalars(
            select(SurveyAssignment).where(SurveyAssignment.survey_key == key)
        ):
            if assignment.office_id is not None:
                office = session.get(Office, assignment.office_id)
                found[office.id] = office
            else:
                for office in offices_under(session, session.get(Unit, assignment.unit_id)):
                    found[office.id] = office
        candidates = [found[i] for i in sorted(found)]
    return [
        office
        for office in candidates
        if any(chosen == key for chosen, _source in chosen_keys(session, office).values())
    ]


def assign(
    session: Session,
    actor: User,
    *,
    channel: str,
    survey_key: str | None,
    now: datetime,
    office: Office | None = None,
    unit: Unit | None = None,
) -> None:
    """Choose (or, with ``survey_key`` None, stop choosing) a channel's survey for an office or
    for every office under a unit, and apply it at once. A change goes into the audit log."""
    if channel not in CHANNELS:
        raise ValidationError("Unknown channel.", {"channel": Reason.INVALID})
    if survey_key is not None and published(session, survey_key) is None:
        raise NotFound("No published survey has this key.", {"survey": Reason.UNKNOWN_CODE})
    where = (
        SurveyAssignment.office_id == office.id
        if office is not None
        else SurveyAssignment.unit_id == unit.id
    )
    existing = session.scalar(
        select(SurveyAssignment).where(where, SurveyAssignment.channel == channel)
    )
    chosen_before = existing.survey_key if existing is not None else None
    if chosen_before == survey_key:
        return
    if survey_key is None:
        if existing is not None:
            session.delete(existing)
    elif existing is not None:
        existing.survey_key = survey_key
    else:
        session.add(
            SurveyAssignment(
                unit_id=unit.id if unit is not None else None,
                office_id=office.id if office is not None else None,
                channel=channel,
                survey_key=survey_key,
            )
        )
    session.flush()
    apply_to_offices(session, [office] if office is not None else offices_under(session, unit))
    audit.record(
        session,
        actor,
        "survey.assign",
        now=now,
        subject_type="office" if office is not None else "unit",
        subject=office.code if office is not None else unit.code,
        before={channel: chosen_before},
        after={channel: survey_key},
    )
