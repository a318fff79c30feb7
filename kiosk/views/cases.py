"""Call-back cases of the offices in scope: managers see the contact and move each case on;
everyone else sees it masked."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload

from kiosk.auth import current_user, login_required, manager_required
from kiosk.database import get_session
from kiosk.messages import field_errors
from surveys import cases
from surveys.db import utcnow
from surveys.errors import ValidationError
from surveys.models import CallbackCase

bp = Blueprint("cases", __name__, url_prefix="/cases")


class CaseForm(FlaskForm):
    """The CSRF token; the note is read from the form."""


@bp.get("")
@login_required
def index():
    user = current_user()
    found = (
        get_session()
        .scalars(
            cases.cases_query(user)
            .options(
                selectinload(CallbackCase.office),
                selectinload(CallbackCase.contacted_by),
                selectinload(CallbackCase.resolved_by),
            )
            .limit(200)
        )
        .all()
    )
    return render_template(
        "cases/index.html",
        cases=found,
        is_manager=user.role in ("admin", "manager"),
        mask=cases.mask,
        next_state=cases.NEXT_STATE,
        form=CaseForm(),
        now=utcnow(),
    )


@bp.post("/<int:case_id>/<to>")
@manager_required
def advance(case_id: int, to: str):
    if to not in ("contacted", "resolved"):
        abort(404)
    if not CaseForm().validate_on_submit():
        flash(_("The form expired; please try again."))
        return redirect(url_for(".index"))
    try:
        cases.advance(
            get_session(),
            current_user(),
            case_id,
            to=to,
            note=request.form.get("note", ""),
            now=utcnow(),
        )
    except ValidationError as error:
        flash(" ".join(field_errors(error).values()))
        return redirect(url_for(".index"))
    flash(_("The case is updated."))
    return redirect(url_for(".index"))
