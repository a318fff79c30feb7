"""Office summaries and exports, over inclusive calendar days in the office's time zone."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from surveys.figures import (
    ANSWERED,
    AnswerCount,
    QuestionFigures,
    QuestionSummary,
    question_figures,
)
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
from surveys.stats import Rate, satisfaction_rate


@dataclass(frozen=True)
class PlaceRate:
    """A counter's or officer's satisfaction over the period (hidden below its minimum)."""

    code: str
    name: str
    satisfaction: Rate

    def as_dict(self) -> dict:
        return {"code": self.code, "name": self.name, **self.satisfaction.as_dict()}


@dataclass
class OfficeSummary:
    office: Office
    period: DateRange
    responses: int
    #: The headline question's rate, pooled over every survey version (a rate is comparable
    #: across scales; counts and mean scores are not, see surveys/figures.py).
    satisfaction: Rate
    figures: QuestionFigures
    min_n: int
    #: Responses that redeemed a one-time ticket (proof of a real visit).
    verified: int = 0
    tickets: TicketFigures | None = None
    counters: list[PlaceRate] = field(default_factory=list)
    officers: list[PlaceRate] = field(default_factory=list)

    @property
    def questions(self) -> dict[str, QuestionSummary]:
        return self.figures.questions

    def as_dict(self) -> dict:
        return {
            "office": self.office.code,
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "responses": self.responses,
            "satisfaction": self.satisfaction.as_dict(),
            "questions": {k: q.as_dict(self.min_n) for k, q in self.questions.items()},
            "reasons": {k: r.as_dict() for k, r in self.figures.reasons.items()},
            "counters": [c.as_dict() for c in self.counters],
            "officers": [o.as_dict() for o in self.officers],
            "verified": self.verified,
            "tickets": (self.tickets or TicketFigures()).as_dict(),
        }


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


def office_summary(
    session: Session, office: Office, period: DateRange, *, min_n: int, min_officer_n: int
) -> OfficeSummary:
    """Return the office's satisfaction, per-question, counter and officer figures."""
    start, end = period.utc_bounds(office.timezone)
    in_range = (
        Response.office_id == office.id,
        Response.submitted_at >= start,
        Response.submitted_at < end,
        Response.is_counted,
    )
    total, positives, verified = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((Response.headline_polarity == 1, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Response.is_verified.is_(True), 1), else_=0)), 0),
        )
        .select_from(Response)
        .where(*in_range)
    ).one()

    choice_counts = session.execute(
        select(Answer.question_id, Answer.choice_id, func.count())
        .join(Response, Response.id == Answer.response_id)
        .where(*in_range, Answer.choice_id.is_not(None))
        .group_by(Answer.question_id, Answer.choice_id)
    ).all()
    answered = session.execute(
        select(Answer.question_id, func.count(func.distinct(Answer.response_id)))
        .join(Response, Response.id == Answer.response_id)
        .where(*in_range)
        .group_by(Answer.question_id)
    ).all()
    counts = [AnswerCount(q, c, n) for q, c, n in choice_counts]
    counts += [AnswerCount(q, ANSWERED, n) for q, n in answered]

    def places(column, model, minimum: int) -> list[PlaceRate]:
        rows = session.execute(
            select(
                model.code,
                model.name,
                func.count(),
                func.coalesce(func.sum(case((Response.headline_polarity == 1, 1), else_=0)), 0),
            )
            .join(model, model.id == column)
            .where(*in_range)
            .group_by(model.code, model.name)
            .order_by(model.code)
        ).all()
        return [PlaceRate(c, name, satisfaction_rate(int(p), n, minimum)) for c, name, n, p in rows]

    return OfficeSummary(
        office=office,
        period=period,
        responses=total,
        satisfaction=satisfaction_rate(positives, total, min_n),
        figures=question_figures(session, counts),
        min_n=min_n,
        verified=int(verified),
        tickets=ticket_figures(session, office, period),
        counters=places(Response.counter_id, Counter, min_n),
        officers=places(Response.officer_id, Officer, min_officer_n),
    )


@dataclass(frozen=True)
class OfficeRow:
    """One line of the dashboard: an office and its satisfaction over the period."""

    office: Office
    satisfaction: Rate
    #: Responses that redeemed a ticket.
    verified: int = 0


def offices_overview(
    session: Session, offices: list[Office], period: DateRange, *, min_n: int
) -> list[OfficeRow]:
    """Return each office's satisfaction, one grouped query per time zone."""
    by_zone: dict[str, list[Office]] = defaultdict(list)
    for office in offices:
        by_zone[office.timezone].append(office)
    counts: dict[int, tuple[int, int]] = {}
    verified: dict[int, int] = {}
    for zone, members in by_zone.items():
        start, end = period.utc_bounds(zone)
        rows = session.execute(
            select(
                Response.office_id,
                func.count(),
                func.sum(case((Response.headline_polarity == 1, 1), else_=0)),
                func.sum(case((Response.is_verified.is_(True), 1), else_=0)),
            )
            .where(
                Response.office_id.in_([o.id for o in members]),
                Response.submitted_at >= start,
                Response.submitted_at < end,
                Response.is_counted,
            )
            .group_by(Response.office_id)
        ).all()
        counts.update({office_id: (n, int(pos or 0)) for office_id, n, pos, _ in rows})
        verified.update({office_id: int(v or 0) for office_id, _, _, v in rows})
    return [
        OfficeRow(
            o,
            satisfaction_rate(counts.get(o.id, (0, 0))[1], counts.get(o.id, (0, 0))[0], min_n),
            verified.get(o.id, 0),
        )
        for o in offices
    ]


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
    session: Session, office: Office, period: DateRange, *, batch_size: int = 2000
) -> Iterator[list[str]]:
    """Yield a header and then one row per response, oldest first, in the office's local time.

    Question columns are the union of the keys of the surveys answered in the period;
    several choices of one question are joined with ";".
    """
    start, end = period.utc_bounds(office.timezone)
    zone = ZoneInfo(office.timezone)
    in_range = (
        Response.office_id == office.id,
        Response.submitted_at >= start,
        Response.submitted_at < end,
        Response.is_counted,
    )
    question_keys = session.scalars(
        select(Question.key)
        .where(Question.survey_id.in_(select(Response.survey_id).where(*in_range).distinct()))
        .group_by(Question.key)
        .order_by(func.min(Question.position), Question.key)
    ).all()
    yield CSV_BASE_COLUMNS + list(question_keys)

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
        for response_id, key, choice_key, text in session.execute(
            select(Answer.response_id, Question.key, Choice.key, Answer.text)
            .join(Question, Question.id == Answer.question_id)
            .outerjoin(Choice, Choice.id == Answer.choice_id)
            .where(Answer.response_id.in_([row[0] for row in batch]))
            .order_by(Answer.id)
        ):
            answers[response_id][key].append(choice_key if choice_key is not None else text)
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
