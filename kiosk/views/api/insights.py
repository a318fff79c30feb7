"""The manager's figures beyond one office: fair rankings, and the comments inbox."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kiosk.auth import api_login_required, current_user
from kiosk.database import get_session
from kiosk.settings import settings
from kiosk.views.api.openapi import MANAGER, Answer, error, operation
from kiosk.views.api.schemas import CommentsOut, CommentsQuery, RankingOut, RankingsQuery
from surveys import accounts, comments, insights
from surveys.db import utcnow
from surveys.errors import NotFound, PermissionDenied, Reason, ValidationError
from surveys.models import Office, Unit
from surveys.periods import DateRange, local_today

bp = Blueprint("api_insights", __name__, url_prefix="/api/v1")

_ANSWERS = {
    400: error("A bound of the range is not a date (YYYY-MM-DD), or the page is not a number"),
    401: error("Not signed in"),
    403: error("Outside the caller's scope"),
    404: error("Unknown unit or office"),
}


def _period(timezone: str) -> DateRange:
    return DateRange.parse(
        request.args.get("from"),
        request.args.get("to"),
        today=local_today(timezone, utcnow()),
        default_days=settings().default_range_days,
    )


@operation(
    method="get",
    path="/rankings",
    summary="Offices in scope ranked by their shrunken rate (positives + 20·C) / (n + 20), "
    "C being the rate of the office's unit",
    query=RankingsQuery,
    security=MANAGER,
    answers={
        200: Answer("Best first; offices without responses last", RankingOut, many=True),
        **_ANSWERS,
    },  # fmt: skip
)
@bp.get("/rankings")
@api_login_required
def rankings():
    db = get_session()
    config = settings()
    query = accounts.visible_offices(current_user()).options(selectinload(Office.unit))
    unit_code = request.args.get("unit")
    if unit_code is not None:
        unit = db.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            raise NotFound("No unit has this code.", {"unit": Reason.UNKNOWN_CODE})
        subtree = select(Unit.id).where(Unit.path.startswith(unit.path))
        offices = db.scalars(query.where(Office.unit_id.in_(subtree))).all()
        if not offices and db.scalar(select(Office.id).where(Office.unit_id.in_(subtree)).limit(1)):
            # The unit has offices, and the caller may see none of them.
            raise PermissionDenied(
                "This unit is outside your scope.", {"unit": Reason.NOT_IN_SCOPE}
            )
    else:
        offices = db.scalars(query).all()
    period = _period(config.default_timezone)
    rows = insights.overview(db, list(offices), period, min_n=config.min_responses)
    ranked = sorted(
        rows,
        key=lambda r: (r.rank is None, r.rank or 0, r.office.name),
    )
    return jsonify(
        [
            {
                "office": row.office.code,
                "name": row.office.name,
                "unit": row.office.unit.code,
                **row.satisfaction.as_dict(),
                "shrunken_rate": row.shrunken_rate,
                "rank": row.rank,
                "overlaps_next": row.overlaps_next,
            }
            for row in ranked
        ]
    )


def page_number() -> int:
    """Return ?page= (1 when absent), or raise a 400."""
    value = request.args.get("page")
    if value is None:
        return 1
    if not value.isascii() or not value.isdigit():
        raise ValidationError("The page is a whole number.", {"page": Reason.NOT_AN_INTEGER})
    if not 1 <= int(value) <= 10_000:
        raise ValidationError("The page is out of range.", {"page": Reason.OUT_OF_RANGE})
    return int(value)


@operation(
    method="get",
    path="/comments",
    summary="Citizens' comments in scope, newest first, 50 a page; phone numbers, e-mail "
    "addresses and ID numbers are masked for everyone but administrators",
    query=CommentsQuery,
    security=MANAGER,
    answers={200: Answer("One page of comments", CommentsOut), **_ANSWERS},
)
@bp.get("/comments")
@api_login_required
def comment_list():
    db = get_session()
    config = settings()
    page = page_number()
    office_code = request.args.get("office")
    timezone = config.default_timezone
    if office_code is not None:
        timezone = accounts.office_in_scope(db, current_user(), office_code).timezone
    found = comments.find_comments(
        db,
        current_user(),
        comments.CommentFilter(period=_period(timezone), office_code=office_code),
        page=page,
    )
    return jsonify(
        {
            "comments": [c.as_dict() for c in found.comments],
            "page": found.page,
            "next_page": found.page + 1 if found.has_more else None,
        }
    )
