"""The comments inbox: read, search and filter citizens' comments; mark them handled."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select

from kiosk.auth import current_user, login_required, manager_required
from kiosk.database import get_session
from kiosk.settings import settings
from kiosk.views.api.insights import page_number
from surveys import accounts, comments
from surveys.db import utcnow
from surveys.errors import ValidationError
from surveys.figures import is_reason_question
from surveys.models import Choice, Question
from surveys.periods import DateRange, local_today

bp = Blueprint("comments", __name__, url_prefix="/dashboard/comments")

RATINGS = {"positive": 1, "neutral": 0, "negative": -1}
FILTERS = ("office", "counter", "officer", "rating", "reason", "handled", "q", "from", "to")


class HandledForm(FlaskForm):
    """The CSRF token; the note is read from the form."""


def _filter() -> tuple[comments.CommentFilter, ValidationError | None]:
    config = settings()
    args = request.args
    error = None
    today = local_today(config.default_timezone, utcnow())
    try:
        period = DateRange.parse(
            args.get("from") or None,
            args.get("to") or None,
            today=today,
            default_days=config.default_range_days,
        )
    except ValidationError as bad:
        period, error = DateRange.last_days(config.default_range_days, today=today), bad
    handled = {"yes": True, "no": False}.get(args.get("handled", ""))
    return (
        comments.CommentFilter(
            period=period,
            office_code=args.get("office") or None,
            counter_code=args.get("counter") or None,
            officer_code=args.get("officer") or None,
            polarity=RATINGS.get(args.get("rating", "")),
            reason=args.get("reason") or None,
            handled=handled,
            search=(args.get("q") or "").strip()[:200] or None,
        ),
        error,
    )


def _reason_choices() -> list[tuple[str, str, str]]:
    """Return (key, Vietnamese, English) of every reason any survey offers, once per key."""
    seen: dict[str, tuple[str, str, str]] = {}
    for question, choice in get_session().execute(
        select(Question, Choice).join(Choice, Choice.question_id == Question.id)
    ):
        if is_reason_question(question):
            seen.setdefault(choice.key, (choice.key, choice.text_vi, choice.text_en))
    return list(seen.values())


@bp.get("")
@login_required
def inbox():
    db = get_session()
    wanted, error = _filter()
    try:
        page = page_number()
    except ValidationError:
        page = 1
    found = comments.find_comments(db, current_user(), wanted, page=page)
    current = {k: v for k, v in request.args.items() if k in FILTERS and v}
    return render_template(
        "dashboard/comments.html",
        found=found,
        wanted=wanted,
        current=current,
        period=wanted.period,
        date_error=error,
        default_days=settings().default_range_days,
        offices=db.scalars(accounts.visible_offices(current_user())).all(),
        reasons=_reason_choices(),
        form=HandledForm(),
        may_handle=current_user().role in ("admin", "manager"),
        back=request.full_path.rstrip("?"),
    )


@bp.post("/<response_id>/handled")
@manager_required
def handled(response_id: str):
    try:
        parsed = uuid.UUID(response_id)
    except ValueError:
        abort(404)
    if not HandledForm().validate_on_submit():
        abort(400)
    if request.form.get("decision") == "reopen":
        comments.reopen(get_session(), current_user(), parsed)
        flash(_("The comment is marked as still to handle."))
    else:
        try:
            comments.mark_handled(
                get_session(), current_user(), parsed, request.form.get("note", ""), now=utcnow()
            )
            flash(_("The comment is marked as handled."))
        except ValidationError:
            flash(
                _("The note is too long: at most %(max)s characters.", max=comments.NOTE_MAX_LENGTH)
            )
    back = request.form.get("back", "")
    # Only back to the inbox itself, never to another site.
    if not back.startswith("/dashboard/comments") or "//" in back:
        back = url_for(".inbox")
    return redirect(back)
