"""The manager's side of the JSON API: offices in scope, their figures and their export."""

from __future__ import annotations

import codecs
import csv
import io
from itertools import chain, islice

from flask import Blueprint, Response, jsonify, request, stream_with_context
from sqlalchemy.orm import selectinload

from kiosk import exports
from kiosk.auth import api_login_required, current_user
from kiosk.database import get_session
from kiosk.settings import settings
from kiosk.views.api.openapi import MANAGER, Answer, error, operation
from kiosk.views.api.schemas import (
    ExportQuery,
    OfficeOut,
    SummaryOut,
    SummaryQuery,
)
from surveys import accounts, insights
from surveys.db import utcnow
from surveys.errors import Reason, ValidationError
from surveys.models import Office
from surveys.periods import DateRange, local_today
from surveys.targets import public_codes

bp = Blueprint("api_offices", __name__, url_prefix="/api/v1")

_OFFICE = {"code": "An office code"}
_OFFICE_ANSWERS = {
    400: error(
        "A bound of the range is not a date (YYYY-MM-DD), or the interval is not day, week or month"
    ),
    401: error("Not signed in"),
    403: error("Outside the caller's scope"),
    404: error("Unknown office"),
}


@operation(
    method="get",
    path="/offices",
    summary="The offices the caller may see, with their public codes",
    security=MANAGER,
    answers={200: Answer("Offices by name", OfficeOut, many=True), 401: error("Not signed in")},
)
@bp.get("/offices")
@api_login_required
def offices():
    db = get_session()
    found = db.scalars(
        accounts.visible_offices(current_user()).options(
            selectinload(Office.counters), selectinload(Office.unit)
        )
    ).all()
    codes = public_codes(db, [o.id for o in found])
    return jsonify(
        [
            {
                "code": o.code,
                "name": o.name,
                "unit": o.unit.code,
                "timezone": o.timezone,
                "target": codes.get((o.id, None)),
                "counters": [
                    {"code": c.code, "name": c.name, "target": codes.get((o.id, c.id))}
                    for c in o.counters
                ],
            }
            for o in found
        ]
    )


def office_period(office: Office) -> DateRange:
    """Return the range of ?from=&to= in the office's own calendar (400 if not dates)."""
    return DateRange.parse(
        request.args.get("from"),
        request.args.get("to"),
        today=local_today(office.timezone, utcnow()),
        default_days=settings().default_range_days,
    )


def _office_and_period(code: str) -> tuple[Office, DateRange]:
    office = accounts.office_in_scope(get_session(), current_user(), code)
    return office, office_period(office)


@operation(
    method="get",
    path="/offices/{code}/summary",
    summary="Satisfaction, trend, counters, officers, reasons and heatmap over inclusive local "
    "calendar days, read from the rollups",
    path_params=_OFFICE,
    query=SummaryQuery,
    security=MANAGER,
    answers={200: Answer("The figures", SummaryOut), **_OFFICE_ANSWERS},
)
@bp.get("/offices/<code>/summary")
@api_login_required
def summary(code: str):
    office, period = _office_and_period(code)
    asked = request.args.get("interval")
    if asked == "":  # the schema's enum has no empty value: the API says so, as for ?to=
        raise ValidationError("The interval is day, week or month.", {"interval": Reason.INVALID})
    config = settings()
    result = insights.office_insight(
        get_session(),
        office,
        period,
        interval=insights.parse_interval(asked),
        min_n=config.min_responses,
        min_officer_n=config.min_officer_responses,
    )
    return jsonify(result.as_dict())


@operation(
    method="get",
    path="/offices/{code}/responses.csv",
    summary="One row per response, in the office's local time, with headers and answers in the "
    "caller's language (codes with codes=1); free text masked for non-administrators",
    path_params=_OFFICE,
    query=ExportQuery,
    security=MANAGER,
    answers={
        200: Answer(
            "CSV, UTF-8 with a byte-order mark", media_type="text/csv", schema={"type": "string"}
        ),
        **_OFFICE_ANSWERS,
    },
)
@bp.get("/offices/<code>/responses.csv")
@api_login_required
def responses_csv(code: str):
    office, period = _office_and_period(code)
    rows = exports.response_rows(
        get_session(), office, period, current_user(), codes=exports.codes_wanted()
    )
    # Read the header and the first batch now, so a failure is an error answer, not a file
    # cut off after its headers were sent.
    first = list(islice(rows, 2))

    def generate():
        # A byte-order mark makes Excel read the Vietnamese text as UTF-8.
        yield codecs.BOM_UTF8.decode()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in chain(first, rows):
            writer.writerow([exports.defuse(cell) for cell in row])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    filename = f"hailong-{office.code}-{period.start}-{period.end}.csv"
    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@operation(
    method="get",
    path="/offices/{code}/responses.xlsx",
    summary="A workbook: one sheet of responses (as the CSV), one of the period's figures",
    path_params=_OFFICE,
    query=ExportQuery,
    security=MANAGER,
    answers={
        200: Answer(
            "XLSX",
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            schema={"type": "string", "format": "binary"},
        ),
        **_OFFICE_ANSWERS,
    },
)
@bp.get("/offices/<code>/responses.xlsx")
@api_login_required
def responses_xlsx(code: str):
    office, period = _office_and_period(code)
    db = get_session()
    config = settings()
    rows = exports.response_rows(db, office, period, current_user(), codes=exports.codes_wanted())
    insight = insights.office_insight(
        db,
        office,
        period,
        min_n=config.min_responses,
        min_officer_n=config.min_officer_responses,
    )
    filename = f"hailong-{office.code}-{period.start}-{period.end}.xlsx"
    return Response(
        exports.workbook(rows, insight),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
