"""Administering surveys: an administrator's copy of a survey, a draft of a survey's next
version (wording, choices, follow-ups, translations), publishing it and discarding it.

A published version never changes (``Survey.check_draft``, and the flush guard beside the
model): an edit is made on a draft of the next version, which citizens are asked from the
moment it is published, and each response keeps the version it answered. Which survey an
office asks is chosen by key (surveys/assignments.py); publishing writes the new version onto
the codes and kiosks of every office that asks that key.

Only administrators administer surveys. A survey is shared by the whole city, so an
administrator scoped to part of it publishes only a survey that no office outside it asks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys import assignments, audit
from surveys.accounts import visible_offices
from surveys.errors import AlreadyExists, NotFound, PermissionDenied, Reason, ValidationError
from surveys.models import Office, Survey, SurveyAssignment, Target, Unit, User
from surveys.models.survey import CHANNELS
from surveys.survey_content import (
    DraftInput,
    check_key,
    check_name,
    clean_draft,
    draft_input,
    questions_from,
    survey_facts,
)
from surveys.targets import TARGETS


def _new_draft(source: Survey, *, key: str, version: int, name_vi: str, name_en: str) -> Survey:
    return Survey(
        key=key,
        version=version,
        name_vi=name_vi,
        name_en=name_en,
        published_at=None,
        questions=questions_from(draft_input(source)),
    )


# Finding versions --------------------------------------------------------------------------


def _require_admin(actor: User | None) -> None:
    if actor is None or actor.role != "admin":
        raise PermissionDenied("Only administrators edit surveys.")


def get_version(session: Session, key: str, version: int) -> Survey:
    survey = session.scalar(select(Survey).where(Survey.key == key, Survey.version == version))
    if survey is None:
        raise NotFound("No survey has this key and version.", {"survey": Reason.UNKNOWN_CODE})
    return survey


def find_draft(session: Session, key: str) -> Survey | None:
    """Return the draft of a survey's next version, if one was started."""
    return session.scalar(select(Survey).where(Survey.key == key, Survey.published_at.is_(None)))


def _published(session: Session, key: str) -> Survey:
    survey = assignments.published(session, key)
    if survey is None:
        raise NotFound("No published survey has this key.", {"survey": Reason.UNKNOWN_CODE})
    return survey


def _subject(survey: Survey) -> str:
    return f"{survey.key} v{survey.version}"


# Use cases ---------------------------------------------------------------------------------


def copy_survey(
    session: Session,
    actor: User,
    source_key: str,
    *,
    key: str,
    name_vi: str,
    name_en: str,
    now: datetime,
) -> Survey:
    """Start an administrator's own survey under a new key: version 1, a draft copied from the
    newest published version of ``source_key``."""
    _require_admin(actor)
    source = _published(session, source_key)
    errors: dict[str, Reason] = {}
    key = check_key(key, "key", errors)
    name_vi = check_name(name_vi, "name_vi", errors)
    name_en = check_name(name_en, "name_en", errors)
    if errors:
        raise ValidationError("The copy cannot be made.", errors)
    if session.scalar(select(Survey.id).where(Survey.key == key).limit(1)) is not None:
        raise AlreadyExists("A survey has this key already.", {"key": Reason.ALREADY_USED})
    copy = _new_draft(source, key=key, version=1, name_vi=name_vi, name_en=name_en)
    session.add(copy)
    session.flush()
    audit.record(
        session,
        actor,
        "survey.copy",
        now=now,
        subject_type="survey",
        subject=_subject(copy),
        after={"from": _subject(source), "name_vi": name_vi, "name_en": name_en},
    )
    return copy


def start_draft(session: Session, actor: User, key: str, *, now: datetime) -> Survey:
    """Return the draft of a survey's next version: the one started already, else a new copy
    of the newest published version."""
    _require_admin(actor)
    if (draft := find_draft(session, key)) is not None:
        return draft
    source = _published(session, key)
    newest = session.scalar(select(func.max(Survey.version)).where(Survey.key == key))
    draft = _new_draft(
        source, key=key, version=newest + 1, name_vi=source.name_vi, name_en=source.name_en
    )
    session.add(draft)
    session.flush()
    audit.record(
        session,
        actor,
        "survey.draft",
        now=now,
        subject_type="survey",
        subject=_subject(draft),
        after={"from": _subject(source)},
    )
    return draft


def update_draft(
    session: Session, actor: User, key: str, version: int, data: DraftInput, *, now: datetime
) -> Survey:
    """Replace a draft's names and questions; a published version is refused."""
    _require_admin(actor)
    draft = get_version(session, key, version)
    draft.check_draft()
    cleaned = clean_draft(data)
    before = survey_facts(draft)
    draft.name_vi, draft.name_en = cleaned.name_vi, cleaned.name_en
    # The old rows go first: the new ones may reuse their keys (unique per survey).
    draft.questions.clear()
    session.flush()
    draft.questions.extend(questions_from(cleaned))
    session.flush()
    before, after = audit.changes(before, survey_facts(draft))
    if after or before:
        audit.record(
            session,
            actor,
            "survey.update",
            now=now,
            subject_type="survey",
            subject=_subject(draft),
            before=before,
            after=after,
        )
    return draft


@dataclass(frozen=True)
class Published:
    survey: Survey
    #: The offices that ask it from now on, through at least one channel.
    offices: list[Office]


def publish_draft(
    session: Session, actor: User, key: str, version: int, *, now: datetime
) -> Published:
    """Publish a draft: from now on every office that asks its key asks this version."""
    _require_admin(actor)
    draft = get_version(session, key, version)
    draft.check_draft()
    clean_draft(draft_input(draft))
    offices = assignments.offices_choosing(session, key)
    if actor.scope_unit_id is not None or actor.scope_office_id is not None:
        mine = set(session.scalars(visible_offices(actor).with_only_columns(Office.id)))
        if any(office.id not in mine for office in offices):
            raise PermissionDenied(
                "Offices outside your scope ask this survey.", {"survey": Reason.NOT_IN_SCOPE}
            )
    draft.publish(now)
    session.flush()
    assignments.apply_to_offices(session, offices)
    # Codes looked up on this server answer with the new version at once; other servers'
    # caches follow within TARGET_CACHE_SECONDS.
    TARGETS.clear()
    audit.record(
        session,
        actor,
        "survey.publish",
        now=now,
        subject_type="survey",
        subject=_subject(draft),
        after={"offices": len(offices)},
    )
    return Published(draft, offices)


def discard_draft(session: Session, actor: User, key: str, version: int, *, now: datetime) -> None:
    """Throw a draft away; a published version is refused."""
    _require_admin(actor)
    draft = get_version(session, key, version)
    draft.check_draft()
    facts = {"name_vi": draft.name_vi, "name_en": draft.name_en}
    session.delete(draft)
    session.flush()
    audit.record(
        session,
        actor,
        "survey.discard",
        now=now,
        subject_type="survey",
        subject=f"{key} v{version}",
        before=facts,
    )


# Where surveys are used --------------------------------------------------------------------


@dataclass
class VersionUse:
    """One version and what asks it now."""

    survey: Survey
    #: Codes in use (not replaced) that ask this version.
    codes: int = 0
    #: Offices whose kiosks, and whose tickets, ask it.
    kiosks: int = 0
    tickets: int = 0


@dataclass(frozen=True)
class Choosing:
    """A unit or an office that chose a survey for one channel."""

    kind: str  # "unit" or "office"
    code: str
    name: str
    channel: str


@dataclass
class SurveyUse:
    key: str
    versions: list[VersionUse] = field(default_factory=list)
    chosen_by: list[Choosing] = field(default_factory=list)
    #: The channels this survey is asked on wherever nothing else was chosen.
    default_for: list[str] = field(default_factory=list)

    @property
    def newest(self) -> Survey:
        return self.versions[-1].survey

    @property
    def published(self) -> Survey | None:
        return next((v.survey for v in reversed(self.versions) if v.survey.is_published), None)

    @property
    def draft(self) -> Survey | None:
        return next((v.survey for v in self.versions if not v.survey.is_published), None)


def survey_uses(session: Session, key: str | None = None) -> list[SurveyUse]:
    """Return every survey (or the one ``key``) with its versions, oldest first, what asks
    each version now, and who chose it."""
    query = select(Survey).order_by(Survey.key, Survey.version)
    if key is not None:
        query = query.where(Survey.key == key)
    uses: dict[str, SurveyUse] = {}
    by_id: dict[int, VersionUse] = {}
    for survey in session.scalars(query):
        use = uses.setdefault(survey.key, SurveyUse(survey.key))
        use.versions.append(version := VersionUse(survey))
        by_id[survey.id] = version
    if not uses:
        if key is not None:
            raise NotFound("No survey has this key.", {"survey": Reason.UNKNOWN_CODE})
        return []
    counts = (
        ("codes", select(Target.survey_id, func.count()).where(Target.rotated_at.is_(None))),
        ("kiosks", select(Office.kiosk_survey_id, func.count())),
        ("tickets", select(Office.ticket_survey_id, func.count())),
    )
    for attribute, counting in counts:
        column = counting.selected_columns[0]
        for survey_id, n in session.execute(
            counting.where(column.in_(list(by_id))).group_by(column)
        ):
            setattr(by_id[survey_id], attribute, n)
    chosen: dict[str, list[Choosing]] = defaultdict(list)
    for assignment, unit, office in session.execute(
        select(SurveyAssignment, Unit, Office)
        .outerjoin(Unit, Unit.id == SurveyAssignment.unit_id)
        .outerjoin(Office, Office.id == SurveyAssignment.office_id)
        .where(SurveyAssignment.survey_key.in_(list(uses)))
        .order_by(Unit.path, Office.name, SurveyAssignment.channel)
    ):
        place = unit if unit is not None else office
        chosen[assignment.survey_key].append(
            Choosing(
                "unit" if unit is not None else "office",
                place.code,
                place.name,
                assignment.channel,
            )
        )
    for use in uses.values():
        use.chosen_by = chosen[use.key]
        use.default_for = [c for c in CHANNELS if assignments.DEFAULT_KEYS[c] == use.key]
    return sorted(uses.values(), key=lambda u: (not u.default_for, u.key))
