"""Alerts for managers: the offices in their scope, newest first; acknowledge with a note."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload

from kiosk.alert_text import describe, rule_name
from kiosk.auth import current_user, login_required, manager_required
from kiosk.database import get_session
from kiosk.messages import field_errors
from surveys import alerts
from surveys.db import utcnow
from surveys.errors import ValidationError
from surveys.models import Alert, Office

bp = Blueprint("alerts", __name__, url_prefix="/alerts")
PAGE = 100


class AcknowledgeForm(FlaskForm):
    """The CSRF token; the note is read from the form."""


@bp.get("")
@login_required
def index():
    db = get_session()
    user = current_user()
    query = alerts.alerts_query(user).options(
        selectinload(Alert.office).selectinload(Office.counters),
        selectinload(Alert.office).selectinload(Office.officers),
        selectinload(Alert.acknowledged_by),
    )
    office_code = (request.args.get("office") or "").strip().upper()
    if office_code:
        query = query.where(Alert.office.has(Office.code == office_code))
    found = db.scalars(query.limit(PAGE)).all()
    return render_template(
        "alerts/index.html",
        alerts=found,
        office_code=office_code,
        describe=describe,
        rule_name=rule_name,
        may_acknowledge=user.role in ("admin", "manager"),
        form=AcknowledgeForm(),
    )


@bp.post("/<int:alert_id>/acknowledge")
@manager_required
def acknowledge(alert_id: int):
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."))
        return redirect(url_for(".index"))
    try:
        alerts.acknowledge(
            get_session(),
            current_user(),
            alert_id,
            note=request.form.get("note", ""),
            now=utcnow(),
        )
    except ValidationError as error:
        flash(" ".join(field_errors(error).values()))
        return redirect(url_for(".index"))
    flash(_("The alert is acknowledged."))
    return redirect(url_for(".index"))
