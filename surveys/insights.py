"""What managers read: every figure of the overview, the office page and the summary API, from
the rollups only (surveys/models/rollup.py), so a page costs the same at any volume.

Periods are inclusive local calendar days: the rollups count each office's own days, so a
range is a plain ``local_day BETWEEN start AND end`` whatever the time zone.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Date, Integer, cast, extract, func, literal_column, select
from sqlalchemy.orm import Session

from surveys.errors import Reason, ValidationError
from surveys.figures import AnswerCount, QuestionFigures, is_reason_question, question_figures
from surveys.models import Choice, Counter, Office, Officer, Question, Rollup
from surveys.models.rollup import (
    ANSWER_DAY,
    COUNTER_DAY,
    OFFICE_DAY,
    OFFICE_HOUR,
    OFFICER_ANSWER_DAY,
    OFFICER_DAY,
)
from surveys.periods import DateRange
from surveys.reports import TicketFigures, ticket_figures
from surveys.stats import (
    RANKING_PRIOR_WEIGHT,
    Change,
    Rate,
    satisfaction_rate,
    shrunken_rate,
    two_proportion_change,
)

INTERVALS = ("day", "week", "month")
CHANNELS = ("kiosk", "qr", "ticket")


@dataclass(frozen=True)
class Counts:
    """Responses and how their headline answers split."""

    n: int = 0
    positives: int = 0
    negatives: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.n + other.n, self.positives + other.positives, self.negatives + other.negatives
        )

    def rate(self, min_n: int) -> Rate:
        return satisfaction_rate(self.positives, self.n, min_n)


def _counts(n, positives, negatives) -> Counts:
    return Counts(int(n or 0), int(positives or 0), int(negatives or 0))


def _sums():
    return (func.sum(Rollup.n), func.sum(Rollup.positives), func.sum(Rollup.negatives))


def _in_period(grain: int, office_ids: Iterable[int], period: DateRange):
    ids = list(office_ids)
    return (
        Rollup.grain == grain,
        Rollup.office_id.in_(ids) if len(ids) != 1 else Rollup.office_id == ids[0],
        Rollup.local_day >= period.start,
        Rollup.local_day <= period.end,
    )


def parse_interval(value: str | None) -> str | None:
    """Return day, week or month as asked (None: the period's default), or raise."""
    if value is None or value == "":
        return None
    if value not in INTERVALS:
        raise ValidationError("The interval is day, week or month.", {"interval": Reason.INVALID})
    return value


def default_interval(period: DateRange) -> str:
    """Days for up to two months, weeks for up to a year and a half, then months."""
    days = (period.end - period.start).days + 1
    return "day" if days <= 62 else "week" if days <= 550 else "month"


def bucket_start(day: date, interval: str) -> date:
    """Return the first day of the day, ISO week (Monday) or month that holds ``day``."""
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def _bucket_end(start: date, interval: str) -> date:
    if start >= date.max - timedelta(days=31):
        return date.max
    if interval == "week":
        return start + timedelta(days=6)
    if interval == "month":
        following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        return following - timedelta(days=1)
    return start


def _bucket_sql(session: Session, interval: str):
    """The SQL expression of ``bucket_start`` on ``Rollup.local_day`` for the session's engine,
    labelled, so GROUP BY names it (PostgreSQL would not match two copies of an expression
    whose constants are separate parameters)."""
    if interval not in INTERVALS:  # written into the SQL below: only the three known words
        raise ValueError(f"unknown interval {interval!r}")
    column = Rollup.local_day
    if interval == "day":
        expression = column
    elif session.get_bind().dialect.name == "postgresql":
        expression = cast(func.date_trunc(literal_column(f"'{interval}'"), column), Date)
    elif interval == "week":
        # To the next Sunday (or stay on one), then back six days: the Monday of its week.
        expression = func.date(column, literal_column("'weekday 0'"), literal_column("'-6 days'"))
    else:
        expression = func.date(column, literal_column("'start of month'"))
    return expression.label("bucket")


def _weekday_sql(session: Session):
    """The weekday of ``Rollup.local_day``, 0 for Monday, labelled for GROUP BY."""
    if session.get_bind().dialect.name == "postgresql":
        expression = cast(extract("isodow", Rollup.local_day), Integer) - 1
    else:
        # strftime's %w counts from Sunday (0): shift to Monday first.
        expression = (
            func.cast(func.strftime(literal_column("'%w'"), Rollup.local_day), Integer) + 6
        ) % 7
    return expression.label("weekday")


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class TrendPoint:
    """One day, week or month of a trend (clipped to the period)."""

    start: date
    end: date
    counts: Counts
    satisfaction: Rate

    def as_dict(self) -> dict:
        return {
            "period": self.start.isoformat(),
            "n": self.counts.n,
            "rate": self.satisfaction.rate,
            "ci_low": self.satisfaction.ci_low,
            "ci_high": self.satisfaction.ci_high,
        }


def _trend(
    by_bucket: dict[date, Counts], period: DateRange, interval: str, min_n: int
) -> list[TrendPoint]:
    """Return a point for every bucket of the period, empty ones included."""
    if period.is_empty:
        return []
    points = []
    start = bucket_start(period.start, interval)
    while start <= period.end:
        end = _bucket_end(start, interval)
        counts = by_bucket.get(start, Counts())
        points.append(
            TrendPoint(max(start, period.start), min(end, period.end), counts, counts.rate(min_n))
        )
        if end >= period.end:
            break
        start = end + timedelta(days=1)
        if len(points) > 1000:  # a range of centuries: the trend stops at 1000 points
            break
    return points


# --------------------------------------------------------------------------- the overview


@dataclass
class OverviewRow:
    """One office in the overview: now, the period before, channels, trend, fair rank."""

    office: Office
    counts: Counts
    satisfaction: Rate
    previous: Rate
    change: Change
    channels: dict[str, int]
    trend: list[TrendPoint]
    #: (positives + m·C) / (n + m) with C its unit's pooled rate; None without any response.
    shrunken_rate: float | None = None
    rank: int | None = None
    #: Whether this office's interval overlaps the next-ranked one's (their order is not sure).
    overlaps_next: bool = False

    @property
    def verified(self) -> int:
        return self.channels.get("ticket", 0)

    @property
    def verified_share(self) -> float | None:
        return round(self.verified / self.counts.n, 4) if self.counts.n else None


def previous_period(period: DateRange) -> DateRange:
    """Return the same number of days just before ``period``."""
    if period.is_empty:
        return period
    days = (period.end - period.start).days + 1
    first = max(period.start.toordinal() - days, 1)
    last = period.start.toordinal() - 1
    if last < 1:  # nothing before the first day of the calendar
        return DateRange(period.start, date.min)
    return DateRange(date.fromordinal(first), date.fromordinal(last))


def _spark_interval(period: DateRange) -> str:
    """Days for up to 45 days, weeks for up to 400, then months: 12 to 60 points a line."""
    days = (period.end - period.start).days + 1
    return "day" if days <= 45 else "week" if days <= 400 else "month"


def overview(
    session: Session,
    offices: list[Office],
    period: DateRange,
    *,
    min_n: int,
    prior_weight: int = RANKING_PRIOR_WEIGHT,
) -> list[OverviewRow]:
    """Return each office's figures over ``period`` and the one before it, ranked fairly."""
    if not offices:
        return []
    before = previous_period(period)
    interval = _spark_interval(period)
    bucket = _bucket_sql(session, interval)
    ids = [o.id for o in offices]
    current: dict[int, Counts] = defaultdict(Counts)
    previous: dict[int, Counts] = defaultdict(Counts)
    channels: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(CHANNELS, 0))
    buckets: dict[int, dict[date, Counts]] = defaultdict(lambda: defaultdict(Counts))
    span = DateRange(before.start, period.end)
    rows = session.execute(
        select(Rollup.office_id, Rollup.channel, bucket, *_sums())
        .where(*_in_period(OFFICE_DAY, ids, span))
        .group_by(Rollup.office_id, Rollup.channel, bucket)
    ).all()
    for office_id, _channel, start, n, positives, negatives in rows:
        buckets[office_id][_as_date(start)] += _counts(n, positives, negatives)
    # The totals of the two periods and the channels, exactly (a week or month of the sparkline
    # may straddle the two periods).
    is_current = (Rollup.local_day >= period.start).label("is_current")
    for office_id, channel, current_period, n, positives, negatives in session.execute(
        select(Rollup.office_id, Rollup.channel, is_current, *_sums())
        .where(*_in_period(OFFICE_DAY, ids, span))
        .group_by(Rollup.office_id, Rollup.channel, is_current)
    ).all():
        counts = _counts(n, positives, negatives)
        if current_period:
            current[office_id] += counts
            channels[office_id][channel] = channels[office_id].get(channel, 0) + counts.n
        else:
            previous[office_id] += counts
    result = []
    for office in offices:
        now, then = current[office.id], previous[office.id]
        shown_now, shown_then = now.rate(min_n), then.rate(min_n)
        spark = {
            start: counts
            for start, counts in buckets[office.id].items()
            if start >= bucket_start(period.start, interval)
        }
        result.append(
            OverviewRow(
                office,
                now,
                shown_now,
                shown_then,
                two_proportion_change(shown_now, shown_then),
                channels[office.id],
                _trend(spark, period, interval, min_n),
            )
        )
    rank_fairly(session, result, period, prior_weight=prior_weight)
    return result


def _unit_rates(session: Session, unit_ids: set[int], period: DateRange) -> dict[int, Counts]:
    """Return each unit's pooled counts over its own offices (all of them, in scope or not)."""
    if not unit_ids:
        return {}
    rows = session.execute(
        select(Office.unit_id, *_sums())
        .join(Office, Office.id == Rollup.office_id)
        .where(
            Rollup.grain == OFFICE_DAY,
            Office.unit_id.in_(unit_ids),
            Rollup.local_day >= period.start,
            Rollup.local_day <= period.end,
        )
        .group_by(Office.unit_id)
    ).all()
    return {unit_id: _counts(n, p, m) for unit_id, n, p, m in rows}


def rank_fairly(
    session: Session,
    rows: list[OverviewRow],
    period: DateRange,
    *,
    prior_weight: int = RANKING_PRIOR_WEIGHT,
) -> list[OverviewRow]:
    """Set each row's shrunken rate and rank (1 best); offices without responses get none.

    C is the pooled rate of the office's own unit over the period (PRODUCT.md, "Rankings").
    """
    units = _unit_rates(session, {r.office.unit_id for r in rows}, period)
    for row in rows:
        unit = units.get(row.office.unit_id, Counts())
        prior = unit.positives / unit.n if unit.n else 0.0
        row.shrunken_rate = (
            round(shrunken_rate(row.counts.positives, row.counts.n, prior, prior_weight), 4)
            if row.counts.n
            else None
        )
    ranked = sorted(
        (r for r in rows if r.shrunken_rate is not None),
        key=lambda r: (-r.shrunken_rate, r.office.name),
    )
    for place, row in enumerate(ranked, start=1):
        row.rank = place
    for upper, lower in zip(ranked, ranked[1:], strict=False):
        a, b = upper.satisfaction, lower.satisfaction
        upper.overlaps_next = not (a.is_shown and b.is_shown) or (a.ci_low <= b.ci_high)
    return ranked


# --------------------------------------------------------------------------- one office


@dataclass(frozen=True)
class PlaceRate:
    """A counter's or officer's satisfaction over the period (hidden below its minimum)."""

    code: str
    name: str
    counts: Counts
    satisfaction: Rate

    def as_dict(self) -> dict:
        return {"code": self.code, "name": self.name, **self.satisfaction.as_dict()}


@dataclass(frozen=True)
class QuestionTrend:
    """A rated question other than the headline (a conduct value, a SIPAS element) over time."""

    key: str
    texts: tuple[str, str]
    points: list[TrendPoint]

    def text(self, locale: str) -> str:
        return self.texts[1] if locale == "en" else self.texts[0]


@dataclass(frozen=True)
class ReasonPoint:
    start: date
    #: Reasons about the officer who served, and about the process or premises.
    person: int
    process: int


@dataclass
class OfficeInsight:
    office: Office
    period: DateRange
    interval: str
    counts: Counts
    satisfaction: Rate
    previous: Rate
    change: Change
    channels: dict[str, int]
    trend: list[TrendPoint]
    counters: list[PlaceRate]
    officers: list[PlaceRate]
    figures: QuestionFigures
    question_trends: list[QuestionTrend]
    reason_trend: list[ReasonPoint]
    #: heatmap[weekday][hour], Monday first, in the office's time zone.
    heatmap: list[list[Counts]]
    min_n: int
    min_officer_n: int
    tickets: TicketFigures = field(default_factory=TicketFigures)

    @property
    def responses(self) -> int:
        return self.counts.n

    @property
    def verified(self) -> int:
        return self.channels.get("ticket", 0)

    @property
    def questions(self):
        return self.figures.questions

    def as_dict(self) -> dict:
        return {
            "office": self.office.code,
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "interval": self.interval,
            "responses": self.counts.n,
            "satisfaction": self.satisfaction.as_dict(),
            "previous": self.previous.as_dict(),
            "change": self.change.as_dict(),
            "channels": self.channels,
            "questions": {k: q.as_dict(self.min_n) for k, q in self.figures.questions.items()},
            "reasons": {k: r.as_dict() for k, r in self.figures.reasons.items()},
            "trend": [p.as_dict() for p in self.trend],
            "counters": [c.as_dict() for c in self.counters],
            "officers": [o.as_dict() for o in self.officers],
            "heatmap": [
                [{"n": c.n, "rate": c.rate(self.min_n).rate} for c in day] for day in self.heatmap
            ],
            "verified": self.verified,
            "tickets": self.tickets.as_dict(),
        }


def _places(session, grain, column, model, office: Office, period, minimum) -> list[PlaceRate]:
    rows = session.execute(
        select(column, *_sums()).where(*_in_period(grain, [office.id], period)).group_by(column)
    ).all()
    if not rows:
        return []
    names = {
        p.id: p for p in session.scalars(select(model).where(model.id.in_([r[0] for r in rows])))
    }
    places = [
        PlaceRate(
            names[place_id].code,
            names[place_id].name,
            counts := _counts(n, p, m),
            counts.rate(minimum),
        )
        for place_id, n, p, m in rows
        if place_id in names
    ]
    return sorted(places, key=lambda place: place.code)


def office_insight(
    session: Session,
    office: Office,
    period: DateRange,
    *,
    min_n: int,
    min_officer_n: int,
    interval: str | None = None,
) -> OfficeInsight:
    """Return every figure of the office page and the summary API, from the rollups."""
    interval = interval or default_interval(period)
    ids = [office.id]
    bucket = _bucket_sql(session, interval)

    by_bucket: dict[date, Counts] = defaultdict(Counts)
    channels = dict.fromkeys(CHANNELS, 0)
    for start, channel, n, p, m in session.execute(
        select(bucket, Rollup.channel, *_sums())
        .where(*_in_period(OFFICE_DAY, ids, period))
        .group_by(bucket, Rollup.channel)
    ).all():
        counts = _counts(n, p, m)
        by_bucket[_as_date(start)] += counts
        channels[channel] = channels.get(channel, 0) + counts.n
    total = sum(by_bucket.values(), Counts())
    before = previous_period(period)
    earlier = _counts(
        *session.execute(select(*_sums()).where(*_in_period(OFFICE_DAY, ids, before))).one()
    )
    satisfaction, previous = total.rate(min_n), earlier.rate(min_n)

    heatmap = [[Counts() for _hour in range(24)] for _day in range(7)]
    weekday = _weekday_sql(session)
    for day, hour, n, p, m in session.execute(
        select(weekday, Rollup.hour, *_sums())
        .where(*_in_period(OFFICE_HOUR, ids, period))
        .group_by(weekday, Rollup.hour)
    ).all():
        heatmap[int(day)][hour] = _counts(n, p, m)

    answer_rows = session.execute(
        select(bucket, Rollup.question_id, Rollup.choice_id, func.sum(Rollup.n))
        .where(*_in_period(ANSWER_DAY, ids, period))
        .group_by(bucket, Rollup.question_id, Rollup.choice_id)
    ).all()
    totals: dict[tuple[int, int], int] = defaultdict(int)
    for _start, question_id, choice_id, n in answer_rows:
        totals[(question_id, choice_id)] += int(n)
    figures = question_figures(
        session, [AnswerCount(q, c, n) for (q, c), n in sorted(totals.items())]
    )
    question_trends, reason_trend = _answer_trends(session, answer_rows, period, interval, min_n)

    return OfficeInsight(
        office=office,
        period=period,
        interval=interval,
        counts=total,
        satisfaction=satisfaction,
        previous=previous,
        change=two_proportion_change(satisfaction, previous),
        channels=channels,
        trend=_trend(by_bucket, period, interval, min_n),
        counters=_places(session, COUNTER_DAY, Rollup.counter_id, Counter, office, period, min_n),
        officers=_places(
            session, OFFICER_DAY, Rollup.officer_id, Officer, office, period, min_officer_n
        ),
        figures=figures,
        question_trends=question_trends,
        reason_trend=reason_trend,
        heatmap=heatmap,
        min_n=min_n,
        min_officer_n=min_officer_n,
        tickets=ticket_figures(session, office, period),
    )


def _answer_trends(
    session: Session, answer_rows: list, period: DateRange, interval: str, min_n: int
) -> tuple[list[QuestionTrend], list[ReasonPoint]]:
    """Each rated question but the headline as a rate over time (pooled across versions, as
    rates may be), and the reasons over time split person / process."""
    question_ids = {row[1] for row in answer_rows}
    if not question_ids:
        return [], []
    # Plain tuples: this loop sees every (period, question, choice) row of the range.
    rated_questions: dict[int, tuple[str, tuple[str, str], tuple]] = {}
    reason_questions: set[int] = set()
    for q in session.scalars(select(Question).where(Question.id.in_(question_ids))):
        if q.kind == "scale" and not q.is_headline and q.show_if is None:
            rated_questions[q.id] = (q.key, (q.text_vi, q.text_en), (q.position, q.key))
        elif is_reason_question(q):
            reason_questions.add(q.id)
    choices = {
        c_id: (polarity, charged)
        for c_id, polarity, charged in session.execute(
            select(Choice.id, Choice.polarity, Choice.is_charged_to_officer).where(
                Choice.question_id.in_(question_ids)
            )
        )
    }
    rated: dict[str, dict[date, Counts]] = defaultdict(lambda: defaultdict(Counts))
    texts: dict[str, tuple[str, str]] = {}
    order: dict[str, tuple] = {}
    person: dict[date, int] = defaultdict(int)
    process: dict[date, int] = defaultdict(int)
    for start, question_id, choice_id, n in answer_rows:
        choice = choices.get(choice_id)
        if choice is None:
            continue
        polarity, charged = choice
        if question_id in rated_questions:
            key, question_texts, position = rated_questions[question_id]
            n = int(n)
            rated[key][_as_date(start)] += Counts(
                n, n if polarity == "positive" else 0, n if polarity == "negative" else 0
            )
            texts.setdefault(key, question_texts)
            order.setdefault(key, position)
        elif question_id in reason_questions:
            (person if charged else process)[_as_date(start)] += int(n)
    trends = [
        QuestionTrend(key, texts[key], _trend(rated[key], period, interval, min_n))
        for key in sorted(rated, key=lambda k: order[k])
    ]
    reasons = [
        ReasonPoint(
            p.start,
            person.get(bucket_start(p.start, interval), 0),
            process.get(bucket_start(p.start, interval), 0),
        )
        for p in _trend({}, period, interval, min_n)
    ]
    return trends, reasons


# --------------------------------------------------------------------------- one officer


@dataclass
class OfficerInsight:
    officer: Officer
    period: DateRange
    counts: Counts
    satisfaction: Rate
    office_satisfaction: Rate
    trend: list[TrendPoint]
    #: Only the reasons charged to officers: (key, texts, n).
    reasons: list[tuple[str, tuple[str, str], int]]
    figures: QuestionFigures
    min_n: int


def officer_insight(
    session: Session,
    officer: Officer,
    period: DateRange,
    *,
    min_n: int,
    min_officer_n: int,
    interval: str | None = None,
) -> OfficerInsight:
    """Return an officer's figures beside the office's, with the person reasons only."""
    interval = interval or default_interval(period)
    bucket = _bucket_sql(session, interval)
    ids = [officer.office_id]
    by_bucket: dict[date, Counts] = defaultdict(Counts)
    for start, n, p, m in session.execute(
        select(bucket, *_sums())
        .where(*_in_period(OFFICER_DAY, ids, period), Rollup.officer_id == officer.id)
        .group_by(bucket)
    ).all():
        by_bucket[_as_date(start)] += _counts(n, p, m)
    total = sum(by_bucket.values(), Counts())
    office_total = _counts(
        *session.execute(select(*_sums()).where(*_in_period(OFFICE_DAY, ids, period))).one()
    )
    counts = [
        AnswerCount(q, c, int(n))
        for q, c, n in session.execute(
            select(Rollup.question_id, Rollup.choice_id, func.sum(Rollup.n))
            .where(*_in_period(OFFICER_ANSWER_DAY, ids, period), Rollup.officer_id == officer.id)
            .group_by(Rollup.question_id, Rollup.choice_id)
        ).all()
    ]
    figures = question_figures(session, counts)
    reasons = [
        (key, reason.texts, reason.n)
        for key, reason in figures.reasons.items()
        if reason.is_charged_to_officer
    ]
    return OfficerInsight(
        officer=officer,
        period=period,
        counts=total,
        satisfaction=total.rate(min_officer_n),
        office_satisfaction=office_total.rate(min_n),
        trend=_trend(by_bucket, period, interval, min_officer_n),
        reasons=reasons,
        figures=figures,
        min_n=min_officer_n,
    )


def heat_level(counts: Counts, busiest: int) -> float:
    """Return 0–1, how busy an hour is against the busiest one (for a heatmap's shading)."""
    if not busiest or not counts.n:
        return 0.0
    return round(math.sqrt(counts.n / busiest), 3)
