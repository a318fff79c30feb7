"""Exports and ticket figures, over inclusive calendar days in the office's time zone.

Every other figure is read from the rollups (surveys/insights.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from surveys.comments import mask_personal_data
from surveys.models import (
    Answer,
    Choice,
    Counter,
    Office,
    Officer,
    Question,
    Response,
    Survey,
    Target,
    Ticket,
)
from surveys.periods import DateRange


@dataclass(frozen=True)
class TicketFigures:
    """Tickets issued in a period and how many of them brought a response."""

    issued: int = 0
    responded: int = 0

    @property
    def response_rate(self) -> float | None:
        return round(self.responded / self.issued, 4) if self.issued else None

    def as_dict(self) -> dict:
        return {
            "issued": self.issued,
            "responded": self.responded,
            "response_rate": self.response_rate,
        }


def ticket_figures(session: Session, office: Office, period: DateRange) -> TicketFigures:
    """Count the office's tickets issued on the period's local days, and those redeemed."""
    start, end = period.utc_bounds(office.timezone)
    issued, responded = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((Ticket.used_at.is_not(None), 1), else_=0)), 0),
        ).where(Ticket.office_id == office.id, Ticket.issued_at >= start, Ticket.issued_at < end)
    ).one()
    return TicketFigures(issued, int(responded))


CSV_BASE_COLUMNS = [
    "id",
    "submitted_at",
    "received_at",
    "channel",
    "locale",
    "verified",
    "office",
    "counter",
    "officer",
    "target",
    "survey",
    "survey_version",
]


def response_rows(
    session: Session,
    office: Office,
    period: DateRange,
    *,
    locale: str | None = None,
    mask: bool = False,
    batch_size: int = 2000,
) -> Iterator[list[str]]:
    """Yield a header and then one row per response, oldest first, in the office's local time.

    Question columns are the union of the keys of the surveys answered in the period;
    several choices of one question are joined with ";". With a ``locale`` the question columns
    are headed by the question's text and answers are the choices' texts in that language (else
    keys). ``mask`` hides phone, e-mail and ID numbers in free text (surveys/comments.py).
    """
    start, end = period.utc_bounds(office.timezone)
    zone = ZoneInfo(office.timezone)
    in_range = (
        Response.office_id == office.id,
        Response.submitted_at >= start,
        Response.submitted_at < end,
        Response.is_counted,
    )
    asked = session.execute(
        select(Question.key, Question.text_vi, Question.text_en)
        .where(Question.survey_id.in_(select(Response.survey_id).where(*in_range).distinct()))
        .order_by(Question.position, Question.key, Question.survey_id.desc())
    ).all()
    headings: dict[str, str] = {}
    for key, text_vi, text_en in asked:
        headings.setdefault(key, text_en if locale == "en" else text_vi)
    question_keys = list(headings)
    yield CSV_BASE_COLUMNS + (
        [headings[k] for k in question_keys] if locale else list(question_keys)
    )

    last: tuple[datetime, object] | None = None
    while True:
        query = (
            select(
                Response.id,
                Response.submitted_at,
                Response.received_at,
                Response.channel,
                Response.locale,
                Response.is_verified,
                Counter.code,
                Officer.code,
                Target.code,
                Survey.key,
                Survey.version,
            )
            .join(Target, Target.id == Response.target_id)
            .join(Survey, Survey.id == Response.survey_id)
            .outerjoin(Counter, Counter.id == Response.counter_id)
            .outerjoin(Officer, Officer.id == Response.officer_id)
            .where(*in_range)
            .order_by(Response.submitted_at, Response.id)
            .limit(batch_size)
        )
        if last is not None:
            query = query.where(
                (Response.submitted_at > last[0])
                | ((Response.submitted_at == last[0]) & (Response.id > last[1]))
            )
        batch = session.execute(query).all()
        if not batch:
            return
        answers: dict = defaultdict(lambda: defaultdict(list))
        for response_id, key, choice_key, text_vi, text_en, text in session.execute(
            select(
                Answer.response_id,
                Question.key,
                Choice.key,
                Choice.text_vi,
                Choice.text_en,
                Answer.text,
            )
            .join(Question, Question.id == Answer.question_id)
            .outerjoin(Choice, Choice.id == Answer.choice_id)
            .where(Answer.response_id.in_([row[0] for row in batch]))
            .order_by(Answer.id)
        ):
            if choice_key is None:
                value = mask_personal_data(text) if mask else text
            elif locale:
                value = text_en if locale == "en" else text_vi
            else:
                value = choice_key
            answers[response_id][key].append(value)
        for row in batch:
            given = answers[row[0]]
            yield [
                str(row[0]),
                _local_iso(row[1], zone),
                _local_iso(row[2], zone),
                row[3],
                row[4],
                "yes" if row[5] else "no",
                office.code,
                row[6] or "",
                row[7] or "",
                row[8],
                row[9],
                str(row[10]),
            ] + [";".join(given.get(key, [])) for key in question_keys]
        last = (batch[-1][1], batch[-1][0])


def _local_iso(moment: datetime, zone: ZoneInfo) -> str:
    return moment.replace(tzinfo=UTC).astimezone(zone).isoformat(timespec="seconds")
