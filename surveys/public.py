"""The public page of an office ("you said, we did"): what any citizen may see.

Satisfaction by month with n and its 95 % interval, the most frequent reasons for
dissatisfaction, and nothing below MIN_RESPONSES; never an officer, never a comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from surveys import audit
from surveys.accounts import office_in_scope
from surveys.errors import InvalidTransition, NotFound, PermissionDenied, Reason, ValidationError
from surveys.models import (
    Answer,
    Choice,
    Office,
    PublishedAction,
    Question,
    Response,
    Unit,
    User,
)
from surveys.periods import local_midnight_utc, local_today
from surveys.stats import Rate, satisfaction_rate

MONTHS = 12
TOP_REASONS = 5


@dataclass(frozen=True)
class MonthFigure:
    #: The first day of the month.
    month: date
    satisfaction: Rate


@dataclass(frozen=True)
class ReasonCount:
    key: str
    text_vi: str
    text_en: str
    count: int

    def text(self, locale: str) -> str:
        return self.text_en if locale == "en" else self.text_vi


@dataclass(frozen=True)
class ActionFigure:
    said: str
    done: str
    published_at: datetime


@dataclass(frozen=True)
class PublicOffice:
    code: str
    name: str
    unit: str
    address: str
    #: Oldest first, the current month last.
    months: list[MonthFigure]
    #: Most frequent first; empty when fewer than ``min_n`` ratings gave a reason.
    reasons: list[ReasonCount]
    #: Ratings over the months that gave at least one reason.
    reasons_n: int
    min_n: int
    #: What managers published, newest first.
    actions: list[ActionFigure]


@dataclass(frozen=True)
class PublicListing:
    code: str
    name: str
    unit: str


def public_offices(session: Session) -> list[PublicListing]:
    """Return the active offices of the city, by unit and name."""
    return [
        PublicListing(code, name, unit)
        for code, name, unit in session.execute(
            select(Office.code, Office.name, Unit.name)
            .join(Unit, Office.unit_id == Unit.id)
            .where(Office.is_active)
            .order_by(Unit.name, Office.name)
        )
    ]


def _month_starts(today: date, count: int) -> list[date]:
    year, month = today.year, today.month
    starts = []
    for _ in range(count + 1):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(starts))


def public_office(session: Session, code: str, *, now: datetime, min_n: int) -> PublicOffice:
    """Return the public figures of the office with this code (active offices only)."""
    office = session.scalar(
        select(Office).where(Office.code == (code or "").strip().upper(), Office.is_active)
    )
    if office is None:
        raise NotFound("No office has this code.")
    today = local_today(office.timezone, now)
    # The last MONTHS months, the current one included; bounds in the office's time zone.
    starts = _month_starts(today, MONTHS - 1)
    bounds = [local_midnight_utc(day, office.timezone) for day in starts]
    first, months = bounds[0], []
    ends = [*bounds[1:], now]
    month_of = case(
        *((Response.submitted_at < end, index) for index, end in enumerate(ends[:-1])),
        else_=len(ends) - 1,
    )
    counts = dict.fromkeys(range(len(starts)), (0, 0))
    for index, n, positives in session.execute(
        select(month_of, func.count(), func.count(case((Response.headline_polarity > 0, 1))))
        .where(
            Response.office_id == office.id,
            Response.submitted_at >= first,
            Response.submitted_at < now,
            Response.is_counted,
        )
        .group_by(month_of)
    ):
        counts[index] = (n, positives)
    for index, start in enumerate(starts):
        n, positives = counts[index]
        months.append(MonthFigure(start, satisfaction_rate(positives, n, min_n)))

    in_period = (
        Response.office_id == office.id,
        Response.submitted_at >= first,
        Response.submitted_at < now,
        Response.is_counted,
    )
    reasons_n = session.scalar(
        select(func.count(func.distinct(Answer.response_id)))
        .join(Response, Response.id == Answer.response_id)
        .join(Question, Question.id == Answer.question_id)
        .where(*in_period, Question.kind == "multi")
    )
    reasons: list[ReasonCount] = []
    if reasons_n >= min_n:
        found: dict[str, ReasonCount] = {}
        for key, text_vi, text_en, count in session.execute(
            select(Choice.key, Choice.text_vi, Choice.text_en, func.count())
            .join(Answer, Answer.choice_id == Choice.id)
            .join(Response, Response.id == Answer.response_id)
            .join(Question, Question.id == Answer.question_id)
            .where(*in_period, Question.kind == "multi")
            .group_by(Choice.key, Choice.text_vi, Choice.text_en)
        ):
            # The same reason in several survey versions counts once, under its latest text.
            previous = found.get(key)
            found[key] = ReasonCount(
                key, text_vi, text_en, count + (previous.count if previous else 0)
            )
        reasons = sorted(found.values(), key=lambda r: (-r.count, r.key))[:TOP_REASONS]
    return PublicOffice(
        office.code,
        office.name,
        office.unit.name,
        office.address,
        months,
        reasons,
        reasons_n,
        min_n,
        [
            ActionFigure(a.said, a.done, a.published_at)
            for a in published_actions(session, office.id)
        ],
    )


# "You said, we did" ------------------------------------------------------------------------

ACTION_TEXT_MAX = 500
ACTIONS_SHOWN = 10
#: Contact details a manager might paste from a comment: e-mail addresses and phone numbers.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\d)(\+?\d[\d .-]{6,}\d)(?!\d)")


def mask_contacts(text: str) -> str:
    """Return the text with e-mail addresses and phone numbers masked."""
    text = _EMAIL.sub("***@***", text)
    return _PHONE.sub(lambda m: "*" * 3 + m.group(1)[-2:], text)


def publish_action(
    session: Session, actor: User, office_code: str, *, said: str, done: str, now: datetime
) -> PublishedAction:
    """Publish on the office's public page what citizens said and what the office did."""
    if actor.role not in ("admin", "manager"):
        raise PermissionDenied("Only managers publish actions.")
    office = office_in_scope(session, actor, (office_code or "").strip().upper())
    said, done = (said or "").strip(), (done or "").strip()
    problems = {}
    for field, text in (("said", said), ("done", done)):
        if not text:
            problems[field] = Reason.REQUIRED
        elif len(text) > ACTION_TEXT_MAX:
            problems[field] = Reason.TOO_LONG
    if problems:
        raise ValidationError("The action cannot be published.", problems)
    action = PublishedAction(
        office_id=office.id,
        said=mask_contacts(said),
        done=mask_contacts(done),
        published_at=now,
        published_by_id=actor.id,
    )
    session.add(action)
    session.flush()
    audit.record(
        session,
        actor,
        "action.publish",
        now=now,
        subject_type="office",
        subject=office.code,
        after={"said": action.said, "done": action.done},
    )
    return action


def withdraw_action(session: Session, actor: User, action_id: int, *, now: datetime) -> None:
    """Take an action off the public page."""
    action = session.get(PublishedAction, action_id) if 0 < action_id < 2**31 else None
    if action is None:
        raise NotFound("No such action.")
    if actor.role not in ("admin", "manager"):
        raise PermissionDenied("Only managers withdraw actions.")
    office = session.get(Office, action.office_id)
    office_in_scope(session, actor, office.code)
    if action.withdrawn_at is not None:
        raise InvalidTransition("This action was already withdrawn.")
    action.withdrawn_at = now
    session.flush()
    audit.record(
        session, actor, "action.withdraw", now=now, subject_type="office", subject=office.code
    )


def published_actions(session: Session, office_id: int, *, limit: int = ACTIONS_SHOWN):
    """Return the office's actions on its public page, newest first."""
    return list(
        session.scalars(
            select(PublishedAction)
            .where(PublishedAction.office_id == office_id, PublishedAction.withdrawn_at.is_(None))
            .order_by(PublishedAction.published_at.desc(), PublishedAction.id.desc())
            .limit(limit)
        )
    )
