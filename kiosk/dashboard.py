"""The manager's dashboard: offices in scope, their satisfaction and its uncertainty."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from sqlalchemy.orm import selectinload

from kiosk.auth import current_user, login_required
from kiosk.database import get_session
from surveys import accounts, reports
from surveys.errors import ValidationError
from surveys.models import Office

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def home():
    return redirect(url_for("dashboard.index"))


def _period(timezone: str):
    """Return (range, error message) from ?from=&to=, defaulting to the last 30 days."""
    today = datetime.now(UTC).astimezone(ZoneInfo(timezone)).date()
    try:
        return reports.DateRange.parse(
            request.args.get("from"),
            request.args.get("to"),
            today=today,
            default_days=current_app.config["DEFAULT_RANGE_DAYS"],
        ), None
    except ValidationError as error:
        fallback = reports.DateRange.parse(
            None, None, today=today, default_days=current_app.config["DEFAULT_RANGE_DAYS"]
        )
        return fallback, error


@bp.get("/dashboard")
@login_required
def index():
    db = get_session()
    user = current_user()
    offices = db.scalars(accounts.visible_offices(user).options(selectinload(Office.unit))).all()
    period, error = _period(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    rows = reports.offices_overview(db, offices, period, min_n=current_app.config["MIN_RESPONSES"])
    total = sum(row.satisfaction.n for row in rows)
    return render_template(
        "dashboard/index.html",
        rows=rows,
        period=period,
        date_error=error,
        total=total,
        min_n=current_app.config["MIN_RESPONSES"],
    )


@bp.get("/dashboard/offices/<code>")
@login_required
def office(code: str):
    db = get_session()
    found = accounts.office_in_scope(db, current_user(), code)
    period, error = _period(found.timezone)
    summary = reports.office_summary(db, found, period, min_n=current_app.config["MIN_RESPONSES"])
    return render_template(
        "dashboard/office.html",
        office=found,
        summary=summary,
        figures=summary.as_dict(),
        period=period,
        date_error=error,
        min_n=current_app.config["MIN_RESPONSES"],
    )
