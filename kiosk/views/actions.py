"""Managers publish on an office's public page what citizens said and what was done about it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select

from kiosk import public_cache
from kiosk.auth import current_user, manager_required
from kiosk.database import get_session
from kiosk.messages import field_errors
from surveys import accounts, public
from surveys.db import utcnow
from surveys.errors import ValidationError
from surveys.models import Office, PublishedAction

bp = Blueprint("actions", __name__, url_prefix="/actions")


class ActionForm(FlaskForm):
    """The CSRF token; the fields are read from the form."""


def _page(errors: dict[str, str] | None = None, status: int = 200):
    db = get_session()
    offices = db.scalars(accounts.visible_offices(current_user()).where(Office.is_active)).all()
    by_id = {o.id: o for o in offices}
    actions = db.scalars(
        select(PublishedAction)
        .where(PublishedAction.office_id.in_(by_id), PublishedAction.withdrawn_at.is_(None))
        .order_by(PublishedAction.published_at.desc())
        .limit(100)
    ).all()
    return render_template(
        "actions/index.html",
        offices=offices,
        actions=[(a, by_id[a.office_id]) for a in actions],
        form=ActionForm(),
        errors=errors or {},
        values=request.form if request.method == "POST" else request.args,
        limit=public.ACTION_TEXT_MAX,
    ), status


@bp.get("")
@manager_required
def index():
    return _page()


@bp.post("")
@manager_required
def publish():
    if not ActionForm().validate_on_submit():
        flash(_("The form expired; please try again."))
        return redirect(url_for(".index"))
    office_code = request.form.get("office", "")
    try:
        public.publish_action(
            get_session(),
            current_user(),
            office_code,
            said=request.form.get("said", ""),
            done=request.form.get("done", ""),
            now=utcnow(),
        )
    except ValidationError as error:
        return _page(field_errors(error), 400)
    public_cache.clear()  # this process shows it at once; others within PUBLIC_CACHE_SECONDS
    flash(_("Published on the office's public page."))
    return redirect(url_for(".index"))


@bp.post("/<int:action_id>/withdraw")
@manager_required
def withdraw(action_id: int):
    if not ActionForm().validate_on_submit():
        flash(_("The form expired; please try again."))
        return redirect(url_for(".index"))
    public.withdraw_action(get_session(), current_user(), action_id, now=utcnow())
    public_cache.clear()
    flash(_("Taken off the public page."))
    return redirect(url_for(".index"))
