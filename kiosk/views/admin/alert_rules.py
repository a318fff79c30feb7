"""Alert rules per unit or office: on or off, the burst rule's numbers and the fall rule's
windows and minimum (administrators)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from kiosk.alert_text import rule_name
from kiosk.auth import admin_required, current_user
from kiosk.database import get_session
from kiosk.forms import whole_number
from kiosk.messages import field_errors
from kiosk.settings import settings
from surveys import alerts
from surveys.db import utcnow
from surveys.errors import DomainError, Reason, ValidationError

bp = Blueprint("admin_alert_rules", __name__, url_prefix="/admin/alerts")


class RuleForm(FlaskForm):
    """The CSRF token; the fields are read from the form."""


def _optional_number(name: str) -> int | None:
    text = request.form.get(name, "").strip()
    return whole_number(text, name) if text else None


def _messages(error: DomainError) -> dict[str, str]:
    """Return a message per field; a number out of range says which range."""
    messages = field_errors(error)
    for name, reason in error.fields.items():
        if reason == Reason.OUT_OF_RANGE and name in alerts.NUMBER_RANGES:
            low, high = alerts.NUMBER_RANGES[name]
            messages[name] = _("Give a whole number from %(low)s to %(high)s.", low=low, high=high)
    return messages


def _page(errors: dict[str, str] | None = None, status: int = 200):
    rows = alerts.rules_in_scope(get_session(), current_user())
    return render_template(
        "admin/alert_rules/index.html",
        rows=rows,
        rules=[(rule, rule_name(rule)) for rule in alerts.RULES],
        rule_name=rule_name,
        defaults=alerts.DEFAULTS,
        ranges=alerts.NUMBER_RANGES,
        min_responses=settings().min_responses,
        form=RuleForm(),
        errors=errors or {},
        values=request.form if request.method == "POST" else {},
    ), status


@bp.get("")
@admin_required
def index():
    return _page()


@bp.post("")
@admin_required
def save():
    if not RuleForm().validate_on_submit():
        flash(_("The form expired; please try again."))
        return redirect(url_for(".index"))
    numbers, problems = {}, {}
    for name in alerts.NUMBER_RANGES:
        try:
            numbers[name] = _optional_number(name)
        except ValidationError as error:
            problems.update(error.fields)
    try:
        if problems:
            raise ValidationError("Not whole numbers.", problems)
        alerts.set_rule(
            get_session(),
            current_user(),
            request.form.get("place", ""),
            request.form.get("rule", ""),
            is_enabled=request.form.get("enabled") == "on",
            now=utcnow(),
            **numbers,
        )
    except ValidationError as error:
        return _page(_messages(error), 400)
    except DomainError as error:
        if error.fields:
            return _page(_messages(error), 404 if error.code == "not_found" else 403)
        raise
    flash(_("The alert rule is saved."))
    return redirect(url_for(".index"))
