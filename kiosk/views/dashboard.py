"""The manager's dashboard: offices in scope, their satisfaction and its uncertainty."""

from __future__ import annotations

from datetime import date, timedelta

from babel.dates import get_day_names
from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import format_date, get_locale
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kiosk import charts
from kiosk.auth import current_user, login_required
from kiosk.database import get_session
from kiosk.i18n import percent
from kiosk.settings import settings
from surveys import accounts, comments, insights
from surveys.db import utcnow
from surveys.errors import NotFound, PermissionDenied, ValidationError
from surveys.models import Office, Officer, Unit
from surveys.periods import DateRange, local_today
from surveys.stats import RANKING_PRIOR_WEIGHT

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def home():
    return redirect(url_for("dashboard.index"))


def _period(timezone: str) -> tuple[DateRange, ValidationError | None]:
    """Return the range of ?from=&to= (an empty field means "not set"), or the default range
    and the error when a bound is not a date."""
    config = settings()
    today = local_today(timezone, utcnow())
    try:
        return DateRange.parse(
            request.args.get("from") or None,
            request.args.get("to") or None,
            today=today,
            default_days=config.default_range_days,
        ), None
    except ValidationError as error:
        return DateRange.last_days(config.default_range_days, today=today), error


#: The overview's sortable columns: how each sorts, and whether it starts highest first.
SORTS = {
    "office": (lambda r: r.office.name.casefold(), False),
    "unit": (lambda r: (r.office.unit.name.casefold(), r.office.name.casefold()), False),
    "n": (lambda r: r.counts.n, True),
    "rate": (lambda r: r.satisfaction.rate if r.satisfaction.is_shown else -1.0, True),
    "change": (lambda r: r.change.difference if r.change.difference is not None else -9.0, True),
    "rank": (lambda r: r.rank if r.rank is not None else 10**9, False),
    "verified": (lambda r: r.verified_share if r.verified_share is not None else -1.0, True),
}


def _sorted(rows: list) -> tuple[list, str, bool]:
    """Sort by ?sort= (a column of SORTS, default the fair rank) and ?dir=asc|desc."""
    column = request.args.get("sort", "rank")
    if column not in SORTS:
        column = "rank"
        descending = SORTS[column][1]
    else:
        descending = request.args.get("dir", "desc" if SORTS[column][1] else "asc") == "desc"
    key = SORTS[column][0]
    return sorted(rows, key=key, reverse=descending), column, descending


@bp.get("/dashboard")
@login_required
def index():
    db = get_session()
    config = settings()
    offices = db.scalars(
        accounts.visible_offices(current_user()).options(selectinload(Office.unit))
    ).all()
    period, error = _period(config.default_timezone)
    rows, column, descending = _sorted(
        insights.overview(db, list(offices), period, min_n=config.min_responses)
    )
    user = current_user()
    report_units = (
        [user.scope_unit]
        if user.scope_unit is not None
        else db.scalars(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.name)).all()
        if user.scope_office_id is None
        else []
    )
    return render_template(
        "dashboard/index.html",
        report_units=report_units,
        rows=rows,
        sort=column,
        descending=descending,
        sparkline=charts.sparkline,
        period=period,
        previous=insights.previous_period(period),
        date_error=error,
        total=sum(row.counts.n for row in rows),
        min_n=config.min_responses,
        prior_weight=RANKING_PRIOR_WEIGHT,
        default_days=config.default_range_days,
    )


@bp.get("/dashboard/offices/<code>")
@login_required
def office(code: str):
    db = get_session()
    config = settings()
    found = accounts.office_in_scope(db, current_user(), code)
    period, error = _period(found.timezone)
    try:
        interval = insights.parse_interval(request.args.get("interval"))
    except ValidationError:
        interval = None
    insight = _thick_enough(db, found, period, interval, config)
    label = _period_label(insight.interval)
    latest = comments.find_comments(
        db, current_user(), comments.CommentFilter(period, office_code=found.code), per_page=5
    )
    return render_template(
        "dashboard/office.html",
        latest_comments=latest,
        office=found,
        summary=insight,
        trend=charts.line(insight.trend, label=label, percent=percent),
        value_lines=[
            (q, charts.line(q.points, height=140, label=label, percent=percent))
            for q in insight.question_trends
        ],
        reason_bars=charts.reason_bars(insight.reason_trend),
        heatmap=charts.heatmap(insight.heatmap),
        period_label=label,
        weekdays=_weekdays(),
        period=period,
        date_error=error,
        min_n=config.min_responses,
        min_officer_n=config.min_officer_responses,
        default_days=config.default_range_days,
    )


def _thick_enough(db, office, period, interval, config, *, first: str | None = None):
    """Return the office's figures by ``interval``; when none was asked, by the default (or
    ``first``) or a coarser one, until most points of the trend have enough responses."""
    order = list(insights.INTERVALS)
    start = first or insights.default_interval(period)
    candidates = [interval] if interval else order[order.index(start) :]
    for candidate in candidates:
        insight = insights.office_insight(
            db,
            office,
            period,
            interval=candidate,
            min_n=config.min_responses,
            min_officer_n=config.min_officer_responses,
        )
        if sum(p.satisfaction.is_shown for p in insight.trend) * 2 >= len(insight.trend):
            break
    return insight


def _period_label(interval: str):
    """Return how a trend point is named: its day, the Monday of its week, or its month."""
    if interval == "month":
        return lambda point: format_date(point.start, format="MM/yyyy")
    return lambda point: format_date(point.start, format="dd/MM")


def _weekdays() -> list[str]:
    names = get_day_names("abbreviated", locale=get_locale())
    return [names[i] for i in range(7)]


@bp.get("/dashboard/officers/<code>")
@login_required
def officer(code: str):
    db = get_session()
    config = settings()
    found = db.scalar(select(Officer).where(Officer.code == code))
    if found is None:
        raise NotFound("No officer has this code.")
    # The officer's office must be in the manager's scope (403 otherwise, 404 when unknown).
    accounts.office_in_scope(db, current_user(), found.office.code)
    period, error = _period(found.office.timezone)
    insight = insights.officer_insight(
        db,
        found,
        period,
        min_n=config.min_responses,
        min_officer_n=config.min_officer_responses,
    )
    label = _period_label(insights.default_interval(period))
    return render_template(
        "dashboard/officer.html",
        officer=found,
        summary=insight,
        trend=charts.line(insight.trend, label=label, percent=percent),
        period_label=label,
        period=period,
        date_error=error,
        min_n=config.min_responses,
        min_officer_n=config.min_officer_responses,
        default_days=config.default_range_days,
    )


def _month(value: str | None, timezone: str) -> DateRange:
    """Return the local calendar month of ?month=YYYY-MM (default: the last full month)."""
    today = local_today(timezone, utcnow())
    first = None
    if value and len(value) == 7 and value[4] == "-" and value.replace("-", "").isdigit():
        year, month = int(value[:4]), int(value[5:])
        if 1 <= year <= 9998 and 1 <= month <= 12:
            first = date(year, month, 1)
    if first is None:
        first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return DateRange(first, following - timedelta(days=1))


@bp.get("/dashboard/offices/<code>/report")
@login_required
def monthly_report(code: str):
    """A month's figures of one office on A4, to print and sign."""
    db = get_session()
    config = settings()
    found = accounts.office_in_scope(db, current_user(), code)
    period = _month(request.args.get("month"), found.timezone)
    insight = _thick_enough(db, found, period, None, config, first="day")
    label = _period_label(insight.interval)
    return render_template(
        "dashboard/report.html",
        office=found,
        summary=insight,
        trend=charts.line(insight.trend, label=label, percent=percent),
        value_lines=[
            (q, charts.line(q.points, height=120, label=label, percent=percent))
            for q in insight.question_trends
        ],
        reason_bars=charts.reason_bars(insight.reason_trend),
        period_label=label,
        period=period,
        month=period.start.strftime("%Y-%m"),
        min_n=config.min_responses,
        min_officer_n=config.min_officer_responses,
        today=local_today(found.timezone, utcnow()),
    )


@bp.get("/dashboard/units/<code>/report")
@login_required
def unit_report(code: str):
    """A month's figures of a unit's offices, ranked fairly, on A4, to print and sign."""
    db = get_session()
    config = settings()
    unit = db.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound("No unit has this code.")
    subtree = select(Unit.id).where(Unit.path.startswith(unit.path))
    offices = db.scalars(
        accounts.visible_offices(current_user())
        .where(Office.unit_id.in_(subtree))
        .options(selectinload(Office.unit))
    ).all()
    if not offices and db.scalar(select(Office.id).where(Office.unit_id.in_(subtree)).limit(1)):
        raise PermissionDenied("This unit is outside your scope.")
    period = _month(request.args.get("month"), config.default_timezone)
    rows = insights.overview(db, list(offices), period, min_n=config.min_responses)
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.office.name))
    total = sum((r.counts for r in rows), insights.Counts())
    return render_template(
        "dashboard/unit_report.html",
        unit=unit,
        rows=rows,
        total=total.rate(config.min_responses),
        period=period,
        month=period.start.strftime("%Y-%m"),
        min_n=config.min_responses,
        prior_weight=RANKING_PRIOR_WEIGHT,
        today=local_today(config.default_timezone, utcnow()),
    )
