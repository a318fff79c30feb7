"""Ratings held back because their code went over its hourly ceiling: accept or keep out."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from kiosk.auth import admin_required, current_user
from kiosk.database import get_session
from kiosk.settings import settings
from surveys.db import utcnow
from surveys.periods import to_local
from surveys.review import held_batches, review_held

bp = Blueprint("admin_suspect", __name__, url_prefix="/admin/held")


class ReviewForm(FlaskForm):
    """Only the CSRF token: the batch is named by the URL and the buttons."""


@bp.get("")
@admin_required
def index():
    batches = held_batches(get_session(), current_user())
    return render_template(
        "admin/suspect/index.html",
        batches=batches,
        form=ReviewForm(),
        local=to_local,
        ceiling=settings().code_hourly_ceiling,
    )


@bp.post("/<code>/<hour>")
@admin_required
def review(code: str, hour: str):
    form = ReviewForm()
    decision = request.form.get("decision")
    try:
        moment = datetime.fromisoformat(hour)
    except ValueError:
        abort(404)
    if not form.validate_on_submit() or decision not in ("accept", "reject"):
        abort(400)
    count = review_held(
        get_session(), current_user(), code, moment, accept=decision == "accept", now=utcnow()
    )
    if decision == "accept":
        flash(
            _(
                "%(count)s ratings of code %(code)s now count in the figures.",
                count=count,
                code=code,
            )
        )
    else:
        flash(
            _("%(count)s ratings of code %(code)s stay out of the figures.", count=count, code=code)
        )
    return redirect(url_for(".index"))
