"""Surveys for administrators: the default surveys and the city's own copies with their
versions and who asks them; copying, editing a draft of the next version, publishing,
discarding, and a preview of any version exactly as the phone and the kiosk show it.

Which survey each office asks is chosen on the organisation pages (admin/org.py); the rules
live in surveys/survey_admin.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from kiosk.auth import admin_required, current_user
from kiosk.database import get_session
from kiosk.forms import answers_from_form
from kiosk.messages import answer_errors, field_message
from kiosk.views.admin.survey_form import editor_for, editor_from
from kiosk.views.kiosk_shell import kiosk_context
from surveys import survey_admin
from surveys.db import utcnow
from surveys.errors import InvalidTransition, ValidationError
from surveys.models import Survey
from surveys.models.survey import CHANNELS
from surveys.responses import validate_answers
from surveys.spec import build_spec

bp = Blueprint("admin_surveys", __name__, url_prefix="/admin/surveys")

#: What each channel is called on these pages.
CHANNEL_NAMES = {
    "kiosk": _l("Kiosk at the counters"),
    "office": _l("The office's QR code"),
    "counter": _l("Counters' QR codes"),
    "officer": _l("Officers' QR codes (badges)"),
    "ticket": _l("One-time tickets"),
}
KIND_NAMES = {
    "scale": _l("Scale (levels, best first)"),
    "choice": _l("One choice"),
    "multi": _l("Several choices"),
    "text": _l("Free text"),
}
POLARITY_NAMES = {
    "positive": _l("Positive (counts as satisfied)"),
    "neutral": _l("Neutral (counted, not as satisfied)"),
    "negative": _l("Negative (not satisfied)"),
}


class CopyForm(FlaskForm):
    key = StringField(_l("Key of the copy"), validators=[DataRequired(), Length(max=40)])
    name_vi = StringField(_l("Name in Vietnamese"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=200)])


class ConfirmForm(FlaskForm):
    """Only the CSRF token (start a draft, publish, discard)."""


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


def _labels() -> dict:
    return {
        "channel_names": CHANNEL_NAMES,
        "kind_names": KIND_NAMES,
        "polarity_names": POLARITY_NAMES,
        "channels": CHANNELS,
    }


@bp.get("")
@admin_required
def index():
    return render_template(
        "admin/surveys/index.html", uses=survey_admin.survey_uses(get_session()), **_labels()
    )


def _survey_page(key: str, copy_form: CopyForm | None = None, status: int = 200):
    use = survey_admin.survey_uses(get_session(), key)[0]
    if copy_form is None:
        copy_form = CopyForm(
            name_vi=_("%(name)s (copy)", name=use.newest.name_vi),
            name_en=f"{use.newest.name_en} (copy)",
        )
    return (
        render_template(
            "admin/surveys/survey.html",
            use=use,
            copy_form=copy_form,
            confirm=ConfirmForm(),
            **_labels(),
        ),
        status,
    )


@bp.get("/<key>")
@admin_required
def survey(key: str):
    return _survey_page(key)


@bp.post("/<key>/copy")
@admin_required
def copy(key: str):
    form = CopyForm()
    if form.validate_on_submit():
        try:
            made = survey_admin.copy_survey(
                get_session(),
                current_user(),
                key,
                key=form.key.data,
                name_vi=form.name_vi.data,
                name_en=form.name_en.data,
                now=utcnow(),
            )
        except (ValidationError, InvalidTransition) as error:
            for name, reason in error.fields.items():
                getattr(form, name, form.key).errors.append(field_message(reason))
        else:
            flash(
                _("The copy %(key)s was made as a draft: edit it, then publish it.", key=made.key)
            )
            return redirect(url_for(".edit", key=made.key, version=made.version))
    return _survey_page(key, form, 400)


@bp.post("/<key>/draft")
@admin_required
def start_draft(key: str):
    _confirmed()
    draft = survey_admin.start_draft(get_session(), current_user(), key, now=utcnow())
    return redirect(url_for(".edit", key=draft.key, version=draft.version))


@bp.get("/<key>/<int:version>")
@admin_required
def version(key: str, version: int):
    found = survey_admin.get_version(get_session(), key, version)
    return render_template(
        "admin/surveys/version.html", survey=found, confirm=ConfirmForm(), **_labels()
    )


def _edit_page(found: Survey, editor, status: int = 200):
    return (
        render_template(
            "admin/surveys/edit.html",
            survey=found,
            editor=editor,
            confirm=ConfirmForm(),
            **_labels(),
        ),
        status,
    )


@bp.route("/<key>/<int:version>/edit", methods=["GET", "POST"])
@admin_required
def edit(key: str, version: int):
    db = get_session()
    found = survey_admin.get_version(db, key, version)
    if request.method == "GET":
        if found.is_published:
            flash(_("A published version never changes: edit a draft of the next one."))
            return redirect(url_for(".survey", key=key))
        return _edit_page(found, editor_for(found))
    found.check_draft()
    editor = editor_from(request.form)
    draft = editor.draft()
    if draft is not None:
        try:
            survey_admin.update_draft(db, current_user(), key, version, draft, now=utcnow())
        except ValidationError as error:
            editor.show_errors(error)
        else:
            flash(_("The draft was saved. Preview it, or publish it when it is ready."))
            return redirect(url_for(".edit", key=key, version=version))
    return _edit_page(found, editor.with_blank_rows(), 400)


@bp.post("/<key>/<int:version>/publish")
@admin_required
def publish(key: str, version: int):
    _confirmed()
    try:
        published = survey_admin.publish_draft(
            get_session(), current_user(), key, version, now=utcnow()
        )
    except ValidationError:
        flash(_("This draft cannot be published as it is: save it to see what to correct."))
        return redirect(url_for(".edit", key=key, version=version))
    flash(
        _(
            "Version %(version)s is published. Offices asking this survey now: %(count)s.",
            version=published.survey.version,
            count=len(published.offices),
        )
    )
    return redirect(url_for(".survey", key=key))


@bp.post("/<key>/<int:version>/discard")
@admin_required
def discard(key: str, version: int):
    _confirmed()
    db = get_session()
    survey_admin.discard_draft(db, current_user(), key, version, now=utcnow())
    flash(_("The draft of version %(version)s was discarded.", version=version))
    # A draft is the newest version: the draft of version 1 was all the survey had.
    return redirect(url_for(".index") if version == 1 else url_for(".survey", key=key))


# Previews ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewPlace:
    """Stands for the office, counter or officer whose name heads the page."""

    label: str
    code: str = "PREVIEW"


def _preview_spec(key: str, version: int):
    found = survey_admin.get_version(get_session(), key, version)
    # Built afresh, never from the process's cache: a draft changes until it is published.
    return found, build_spec(found)


def _tried(spec) -> tuple[dict, dict, bool]:
    """Return (answers, errors, valid) of a preview's form; nothing is stored."""
    if request.method != "POST":
        return {}, {}, False
    answers = answers_from_form(spec, request.form)
    try:
        validate_answers(spec, answers)
    except ValidationError as error:
        return answers, answer_errors(error), False
    return {}, {}, True


@bp.route("/<key>/<int:version>/preview/phone", methods=["GET", "POST"])
@admin_required
def preview_phone(key: str, version: int):
    found, spec = _preview_spec(key, version)
    selected, errors, valid = _tried(spec)
    page = render_template(
        "phone/survey.html",
        target=PreviewPlace(_("Name of the office, counter or officer")),
        spec=spec,
        response_id=uuid.uuid4(),
        selected=selected,
        errors=errors,
        questions_html=None,
        form_action=url_for(".preview_phone", key=key, version=version),
        preview=found,
        preview_valid=valid,
    )
    return page, 400 if errors else 200


@bp.route("/<key>/<int:version>/preview/kiosk", methods=["GET", "POST"])
@admin_required
def preview_kiosk(key: str, version: int):
    found, spec = _preview_spec(key, version)
    selected, errors, valid = _tried(spec)
    shell = kiosk_context()
    # Stuffing is no concern here: every try reaches the thank-you.
    shell["kiosk_settings"] = {**shell["kiosk_settings"], "min-interval-seconds": 0}
    page = render_template(
        "counter/kiosk.html",
        device=None,
        target=PreviewPlace(_("Counter · Office")),
        spec=spec,
        response_id=uuid.uuid4(),
        selected=selected,
        errors=errors,
        officer=None,
        form_action=url_for(".preview_kiosk", key=key, version=version),
        preview=found,
        preview_valid=valid,
        **shell,
    )
    return page, 400 if errors else 200
