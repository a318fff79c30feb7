"""The manager's dashboard: offices in scope, their satisfaction and its uncertainty."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy.orm import selectinload

from kiosk.auth import current_user, login_required
from kiosk.database import get_session
from kiosk.settings import settings
from surveys import accounts, reports
from surveys.db import utcnow
from surveys.errors import ValidationError
from surveys.models import Office
from surveys.periods import DateRange, local_today

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


@bp.get("/dashboard")
@login_required
def index():
    db = get_session()
    config = settings()
    offices = db.scalars(
        accounts.visible_offices(current_user()).options(selectinload(Office.unit))
    ).all()
    period, error = _period(config.default_timezone)
    rows = reports.offices_overview(db, offices, period, min_n=config.min_responses)
    return render_template(
        "dashboard/index.html",
        rows=rows,
        period=period,
        date_error=error,
        total=sum(row.satisfaction.n for row in rows),
        min_n=config.min_responses,
        default_days=config.default_range_days,
    )


@bp.get("/dashboard/offices/<code>")
@login_required
def office(code: str):
    db = get_session()
    config = settings()
    found = accounts.office_in_scope(db, current_user(), code)
    period, error = _period(found.timezone)
    summary = reports.office_summary(
        db, found, period, min_n=config.min_responses, min_officer_n=config.min_officer_responses
    )
    return render_template(
        "dashboard/office.html",
        office=found,
        summary=summary,
        figures=summary.as_dict(),
        min_officer_n=config.min_officer_responses,
        period=period,
        date_error=error,
        min_n=config.min_responses,
        default_days=config.default_range_days,
    )
