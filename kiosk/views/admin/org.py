"""The organisation in the web UI: the unit tree, offices with their hours and surveys,
counters and officers. Create, rename, move, retire and reactivate; nothing is deleted.

Administrators edit the unit tree; administrators and managers edit the offices, counters and
officers of their scope (the domain, surveys/org.py, checks every rule).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from sqlalchemy import select
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional

from kiosk.auth import admin_required, current_user, manager_required
from kiosk.database import get_session
from kiosk.messages import field_message
from surveys import assignments, org
from surveys.db import utcnow
from surveys.errors import (
    DomainError,
    InvalidTransition,
    PermissionDenied,
    Reason,
    ValidationError,
)
from surveys.models import Office, Officer, Survey, Unit
from surveys.models.org import WEEKDAYS
from surveys.models.survey import CHANNELS
from surveys.targets import office_codes

bp = Blueprint("admin_org", __name__, url_prefix="/admin/org")

#: Officers' photos: small, and only what browsers show safely.
PHOTO_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
PHOTO_MAX_BYTES = 512 * 1024
PHOTO_TYPE_MESSAGE = _l("Use a JPEG, PNG or WebP photo.")
#: What a mistake means where the field name alone says too little.
FIELD_MESSAGES = {
    ("hours", "invalid"): _l(
        "Opening hours: write each time as HH:MM, with the closing time after the opening time."
    ),
    ("photo", "invalid"): PHOTO_TYPE_MESSAGE,
    ("photo", "too_long"): _l("The photo is larger than 512 KB."),
}
COMMON_ZONES = [
    "Asia/Ho_Chi_Minh",
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Kuala_Lumpur",
    "Asia/Manila",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/Paris",
    "UTC",
]


class UnitForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    parent = SelectField(_l("Parent unit"), validators=[Optional()])


class OfficeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    parent = SelectField(_l("Unit"), validators=[DataRequired()])
    address = StringField(_l("Address"), validators=[Length(max=300)])
    # A callable: WTForms 3.3 deprecates a list of tuples given here (not one set later).
    timezone = SelectField(_l("Time zone"), choices=lambda: [(z, z) for z in COMMON_ZONES])


class PlaceForm(FlaskForm):
    """A counter: its code and name."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])


class OfficerForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    counters = SelectMultipleField(_l("Counters usually served"), validators=[Optional()])
    photo = FileField(
        _l("Photo (optional, JPEG, PNG or WebP, at most 512 KB)"),
        validators=[FileAllowed([*PHOTO_TYPES.values(), "jpeg"], message=PHOTO_TYPE_MESSAGE)],
    )


class ConfirmForm(FlaskForm):
    """Only the CSRF token (retire, reactivate)."""

    confirm = BooleanField()


def _errors_into(form: FlaskForm, error: DomainError) -> None:
    """Show a domain error under the form fields it names (or at the top of the form).

    Acting outside one's scope is not a mistake in the form: it stays a 403.
    """
    if isinstance(error, PermissionDenied):
        raise error
    for field, reason in error.fields.items():
        message = str(FIELD_MESSAGES.get((field, reason), "")) or field_message(reason)
        target = getattr(form, field, None)
        if target is not None and hasattr(target, "errors"):
            target.errors = [*target.errors, message]
        else:
            form.form_errors.append(message)
    if not error.fields:
        form.form_errors.append(field_message("invalid"))


def _unit_choices(db, blank: str | None = None) -> list[tuple[str, str]]:
    choices = [("", blank)] if blank is not None else []
    for unit in org.visible_units(db, current_user()):
        depth = unit.path.count("/") - 2
        label = "\u2003" * depth + f"{unit.name} ({unit.code})"
        if not unit.is_active:
            label += " — " + _("retired")
        choices.append((unit.code, label))
    return choices


def _office_choices(db) -> list[tuple[str, str]]:
    from surveys.accounts import visible_offices

    return [(o.code, f"{o.name} ({o.code})") for o in db.scalars(visible_offices(current_user()))]


def _survey_choices(db) -> list[tuple[str, str]]:
    keys = {}
    for survey in db.scalars(
        select(Survey).where(Survey.published_at.is_not(None)).order_by(Survey.key, Survey.version)
    ):
        keys[survey.key] = f"{survey.name_vi} / {survey.name_en} (v{survey.version})"
    return [("", _("As the unit chooses"))] + sorted(keys.items(), key=lambda kv: kv[1])


@bp.get("")
@manager_required
def index():
    db, user = get_session(), current_user()
    return render_template(
        "admin/org/index.html",
        tree=org.tree(db, user),
        can_edit_units=user.role == "admin",
        can_add_offices=org.may_create_offices(user),
        whole_city=user.role == "admin" and not (user.scope_unit_id or user.scope_office_id),
    )


# Units -------------------------------------------------------------------------------------


def _unit_page(form: UnitForm, unit: Unit | None, status: int = 200):
    db = get_session()
    return (
        render_template(
            "admin/org/unit.html",
            form=form,
            unit=unit,
            confirm=ConfirmForm(),
            channels=CHANNELS,
            surveys=_survey_choices(db),
            chosen=_unit_choices_of(db, unit) if unit else {},
        ),
        status,
    )


def _unit_choices_of(db, unit: Unit) -> dict[str, str]:
    from surveys.models import SurveyAssignment

    return {
        a.channel: a.survey_key
        for a in db.scalars(select(SurveyAssignment).where(SurveyAssignment.unit_id == unit.id))
    }


@bp.route("/units/new", methods=["GET", "POST"])
@admin_required
def new_unit():
    db = get_session()
    form = UnitForm(parent=request.args.get("parent", ""))
    form.parent.choices = _unit_choices(db, blank=_("None: a top-level unit"))
    if form.validate_on_submit():
        try:
            unit = org.create_unit(
                db,
                current_user(),
                code=form.code.data,
                name=form.name.data,
                parent=form.parent.data or None,
                now=utcnow(),
            )
        except DomainError as error:
            _errors_into(form, error)
        else:
            flash(_("Unit %(name)s was added.", name=unit.name))
            return redirect(url_for(".index"))
    return _unit_page(form, None, 400 if form.errors or form.form_errors else 200)


@bp.route("/units/<code>", methods=["GET", "POST"])
@admin_required
def unit(code: str):
    db = get_session()
    found = org.managed_unit(db, current_user(), code)
    form = UnitForm(
        code=found.code, name=found.name, parent=found.parent.code if found.parent else ""
    )
    form.parent.choices = _unit_choices(db, blank=_("None: a top-level unit"))
    if found.parent and found.parent.code not in dict(form.parent.choices):
        # A scoped administrator's own unit hangs under one outside their scope: keep it there.
        form.parent.choices.insert(0, (found.parent.code, found.parent.name))
    if form.validate_on_submit():
        try:
            org.update_unit(
                db,
                current_user(),
                found.code,
                name=form.name.data,
                parent=form.parent.data or None,
                now=utcnow(),
            )
        except DomainError as error:
            _errors_into(form, error)
        else:
            flash(_("Unit %(name)s was saved.", name=found.name))
            return redirect(url_for(".unit", code=found.code))
    return _unit_page(form, found, 400 if form.errors or form.form_errors else 200)


def _set_active(change, redirect_to: str, **kwargs):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    # "1" reactivates and "0" retires; anything else is a malformed form, never a retirement.
    if request.form.get("active") not in ("0", "1"):
        abort(400)
    active = request.form.get("active") == "1"
    try:
        place = change(active=active, now=utcnow())
    except (InvalidTransition, ValidationError) as error:
        # A unit still in use: say why on the page it came from (outside the scope, or an
        # unknown code, stays a 403 or 404).
        flash(
            " ".join(field_message(r) for r in error.fields.values())
            or _("This action cannot be done in the current state.")
        )
        return redirect(redirect_to)
    flash(
        _("%(name)s is in use again.", name=place.name)
        if active
        else _("%(name)s was retired: its history and figures are kept.", name=place.name)
    )
    return redirect(redirect_to)


@bp.post("/units/<code>/active")
@admin_required
def unit_active(code: str):
    db = get_session()
    return _set_active(
        lambda **kw: org.update_unit(db, current_user(), code, **kw),
        url_for(".unit", code=code.upper()),
    )


@bp.post("/units/<code>/surveys")
@admin_required
def unit_surveys(code: str):
    db = get_session()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    found = org.managed_unit(db, current_user(), code)
    _assign_from_form(db, unit=found)
    flash(_("The surveys of %(name)s were saved.", name=found.name))
    return redirect(url_for(".unit", code=found.code))


def _assign_from_form(db, *, unit: Unit | None = None, office: Office | None = None) -> None:
    for channel in CHANNELS:
        value = request.form.get(f"survey-{channel}", "")
        assignments.assign(
            db,
            current_user(),
            channel=channel,
            survey_key=value or None,
            now=utcnow(),
            unit=unit,
            office=office,
        )


# Offices -----------------------------------------------------------------------------------


def _hours_from_form() -> list[list[str] | None]:
    hours: list[list[str] | None] = []
    for day in WEEKDAYS:
        if request.form.get(f"open-{day}"):
            hours.append(
                [request.form.get(f"opens-{day}", ""), request.form.get(f"closes-{day}", "")]
            )
        else:
            hours.append(None)
    return hours


@bp.route("/offices/new", methods=["GET", "POST"])
@manager_required
def new_office():
    db = get_session()
    if not org.may_create_offices(current_user()):
        abort(403)
    form = OfficeForm(parent=request.args.get("unit", ""))
    form.parent.choices = _unit_choices(db)
    if form.validate_on_submit():
        try:
            office = org.create_office(
                db,
                current_user(),
                code=form.code.data,
                name=form.name.data,
                parent=form.parent.data,
                address=form.address.data,
                timezone=form.timezone.data,
                hours=_hours_from_form() if request.form.get("hours") else None,
                now=utcnow(),
            )
        except DomainError as error:
            _errors_into(form, error)
        else:
            flash(_("Office %(name)s was added with its survey code.", name=office.name))
            return redirect(url_for(".office", code=office.code))
    return (
        render_template("admin/org/new_office.html", form=form, weekdays=WEEKDAYS, hours=None),
        400 if form.errors or form.form_errors else 200,
    )


def _office_page(found: Office, status: int = 200, **forms):
    db = get_session()
    details = forms.get("details") or OfficeForm(
        code=found.code,
        name=found.name,
        parent=found.unit.code,
        address=found.address,
        timezone=found.timezone,
    )
    details.parent.choices = _unit_choices(db)
    if found.timezone not in dict(details.timezone.choices):
        details.timezone.choices = [(found.timezone, found.timezone), *details.timezone.choices]
    officer_form = forms.get("officer") or OfficerForm()
    officer_form.counters.choices = [(c.code, c.name) for c in found.counters if c.is_active]
    keys = assignments.chosen_keys(db, found)
    own = {channel: key for channel, (key, source) in keys.items() if source == "office"}
    return (
        render_template(
            "admin/org/office.html",
            office=found,
            details=details,
            counter_form=forms.get("counter") or PlaceForm(),
            officer_form=officer_form,
            confirm=ConfirmForm(),
            weekdays=WEEKDAYS,
            codes=office_codes(db, found),
            channels=CHANNELS,
            surveys=_survey_choices(db),
            chosen=own,
            inherited=keys,
        ),
        status,
    )


@bp.get("/offices/<code>")
@manager_required
def office(code: str):
    return _office_page(org.get_office(get_session(), current_user(), code))


@bp.post("/offices/<code>")
@manager_required
def save_office(code: str):
    db = get_session()
    found = org.get_office(db, current_user(), code)
    form = OfficeForm()
    form.parent.choices = _unit_choices(db)
    form.timezone.choices = [(found.timezone, found.timezone), *form.timezone.choices]
    form.code.data = found.code
    if form.validate_on_submit():
        try:
            org.update_office(
                db,
                current_user(),
                found.code,
                name=form.name.data,
                parent=form.parent.data,
                address=form.address.data,
                timezone=form.timezone.data,
                hours=_hours_from_form() if request.form.get("hours") else org.UNCHANGED,
                now=utcnow(),
            )
        except DomainError as error:
            _errors_into(form, error)
        else:
            flash(_("Office %(name)s was saved.", name=found.name))
            return redirect(url_for(".office", code=found.code))
    return _office_page(found, 400, details=form)


@bp.post("/offices/<code>/active")
@manager_required
def office_active(code: str):
    db = get_session()
    return _set_active(
        lambda **kw: org.update_office(db, current_user(), code, **kw),
        url_for(".office", code=code.upper()),
    )


@bp.post("/offices/<code>/surveys")
@manager_required
def office_surveys(code: str):
    db = get_session()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    found = org.get_office(db, current_user(), code)
    _assign_from_form(db, office=found)
    flash(_("The surveys of %(name)s were saved.", name=found.name))
    return redirect(url_for(".office", code=found.code))


@bp.post("/offices/<code>/counters")
@manager_required
def add_counter(code: str):
    db = get_session()
    found = org.get_office(db, current_user(), code)
    form = PlaceForm()
    if form.validate_on_submit():
        try:
            counter = org.create_counter(
                db,
                current_user(),
                found.code,
                code=form.code.data,
                name=form.name.data,
                now=utcnow(),
            )
        except DomainError as error:
            _errors_into(form, error)
        else:
            flash(_("Counter %(name)s was added with its survey code.", name=counter.name))
            return redirect(url_for(".office", code=found.code) + "#counters")
    return _office_page(found, 400, counter=form)


@bp.post("/offices/<code>/officers")
@manager_required
def add_officer(code: str):
    db = get_session()
    found = org.get_office(db, current_user(), code)
    form = OfficerForm()
    form.counters.choices = [(c.code, c.name) for c in found.counters if c.is_active]
    if form.validate_on_submit():
        try:
            officer = org.create_officer(
                db,
                current_user(),
                found.code,
                code=form.code.data,
                name=form.name.data,
                title=form.title.data or "",
                counters=form.counters.data,
                now=utcnow(),
            )
            _save_photo(officer, form)
        except DomainError as error:
            _errors_into(form, error)
        else:
            flash(_("Officer %(name)s was added with their survey code.", name=officer.name))
            return redirect(url_for(".office", code=found.code) + "#officers")
    return _office_page(found, 400, officer=form)


# Counters and officers ---------------------------------------------------------------------


@bp.route("/counters/<code>", methods=["GET", "POST"])
@manager_required
def counter(code: str):
    db = get_session()
    found = org.get_counter(db, current_user(), code)
    form = UnitForm(code=found.code, name=found.name, parent=found.office.code)
    form.parent.choices = _office_choices(db)
    form.parent.label.text = _("Office")
    if form.validate_on_submit():
        try:
            org.update_counter(
                db,
                current_user(),
                found.code,
                name=form.name.data,
                parent=form.parent.data,
                now=utcnow(),
            )
        except DomainError as error:
            _errors_into(form, error)
        else:
            flash(_("Counter %(name)s was saved.", name=found.name))
            return redirect(url_for(".office", code=found.office.code) + "#counters")
    return (
        render_template("admin/org/counter.html", counter=found, form=form, confirm=ConfirmForm()),
        400 if form.errors or form.form_errors else 200,
    )


@bp.post("/counters/<code>/active")
@manager_required
def counter_active(code: str):
    db = get_session()
    found = org.get_counter(db, current_user(), code)
    return _set_active(
        lambda **kw: org.update_counter(db, current_user(), found.code, **kw),
        url_for(".office", code=found.office.code) + "#counters",
    )


def _save_photo(officer: Officer, form: OfficerForm) -> None:
    upload = form.photo.data
    if not upload or not getattr(upload, "filename", ""):
        return
    content = upload.read(PHOTO_MAX_BYTES + 1)
    if len(content) > PHOTO_MAX_BYTES:
        raise ValidationError("The photo is too large.", {"photo": Reason.TOO_LONG})
    # The type the bytes say, not the one the browser declared: it is served back as that.
    kind = _image_type(content)
    if kind is None:
        raise ValidationError("The photo is not JPEG, PNG or WebP.", {"photo": Reason.INVALID})
    officer.photo = content
    officer.photo_type = kind


def _image_type(content: bytes) -> str | None:
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


@bp.route("/officers/<code>", methods=["GET", "POST"])
@manager_required
def officer(code: str):
    db = get_session()
    found = org.get_officer(db, current_user(), code)
    form = OfficerForm(
        code=found.code,
        name=found.name,
        title=found.title,
        counters=[c.code for c in found.counters],
    )
    form.counters.choices = [(c.code, c.name) for c in found.office.counters if c.is_active]
    offices = _office_choices(db)
    if form.validate_on_submit():
        try:
            org.update_officer(
                db,
                current_user(),
                found.code,
                name=form.name.data,
                title=form.title.data or "",
                parent=request.form.get("parent") or found.office.code,
                counters=form.counters.data,
                now=utcnow(),
            )
            _save_photo(found, form)
        except DomainError as error:
            _errors_into(form, error)
        else:
            flash(_("Officer %(name)s was saved.", name=found.name))
            return redirect(url_for(".office", code=found.office.code) + "#officers")
    return (
        render_template(
            "admin/org/officer.html",
            officer=found,
            form=form,
            offices=offices,
            confirm=ConfirmForm(),
        ),
        400 if form.errors or form.form_errors else 200,
    )


@bp.post("/officers/<code>/active")
@manager_required
def officer_active(code: str):
    db = get_session()
    found = org.get_officer(db, current_user(), code)
    return _set_active(
        lambda **kw: org.update_officer(db, current_user(), found.code, **kw),
        url_for(".office", code=found.office.code) + "#officers",
    )


@bp.get("/officers/<code>/photo")
@manager_required
def officer_photo(code: str):
    found = org.get_officer(get_session(), current_user(), code)
    if not found.photo:
        abort(404)
    response = Response(found.photo, mimetype=found.photo_type or "image/jpeg")
    response.headers["Cache-Control"] = "private, no-store"
    return response
