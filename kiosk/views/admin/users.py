"""Accounts, administered from the web: invite (the person chooses their password through a
one-time link), change role and scope, switch off and on, reset a password by a new link."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from kiosk.auth import admin_required, current_user, session_secret
from kiosk.database import get_session
from kiosk.i18n import LANGUAGE_CHOICES
from kiosk.messages import field_message
from kiosk.settings import settings
from kiosk.views.admin.org import _errors_into
from surveys import org, users
from surveys.accounts import visible_offices
from surveys.db import utcnow
from surveys.errors import DomainError, InvalidTransition

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")

ROLE_CHOICES = [
    ("viewer", _l("Viewer: reads the figures of their scope")),
    ("manager", _l("Manager: runs the offices of their scope")),
    ("admin", _l("Administrator: sets up the city")),
]


class UserForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    # A callable: WTForms 3.3 deprecates a list of tuples given here (not one set later).
    role = SelectField(_l("Role"), choices=lambda: ROLE_CHOICES)
    scope = SelectField(_l("Scope"), validators=[Optional()])
    language = SelectField(
        _l("Language of the e-mails they receive"), choices=lambda: LANGUAGE_CHOICES, default="vi"
    )


class ActionForm(FlaskForm):
    """Only the CSRF token (switch off or on, reset the password)."""


def _scope_choices(db) -> list[tuple[str, str]]:
    user = current_user()
    choices = []
    if not (user.scope_unit_id or user.scope_office_id):
        choices.append(("", _("The whole city")))
    for unit in org.visible_units(db, user):
        choices.append((unit.code, _("Unit: %(name)s", name=unit.name)))
    for office in db.scalars(visible_offices(user)):
        choices.append((office.code, _("Office: %(name)s", name=office.name)))
    return choices


def _link_page(user, secret: str, reason: str):
    link = settings().public_base_url + url_for("account.choose_password", secret=secret)
    response = make_response(
        render_template("admin/users/link.html", user=user, link=link, reason=reason)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("", methods=["GET", "POST"])
@admin_required
def index():
    db = get_session()
    form = UserForm()
    form.scope.choices = _scope_choices(db)
    if form.validate_on_submit():
        try:
            user, secret = users.invite_user(
                db,
                current_user(),
                email=form.email.data,
                name=form.name.data or "",
                role=form.role.data,
                scope=form.scope.data or None,
                language=form.language.data,
                now=utcnow(),
            )
        except DomainError as error:
            _errors_into(form, error)
        else:
            return _link_page(user, secret, "new")
    return _index_page(form=form, status=400 if form.errors or form.form_errors else 200)


def _index_page(*, form: UserForm | None = None, end_all: EndAllForm | None = None, status=200):
    """The list of accounts, the form to add one, and the "sign everyone out" form."""
    db = get_session()
    if form is None:
        form = UserForm(formdata=None)
        form.scope.choices = _scope_choices(db)
    page = render_template(
        "admin/users/index.html",
        users=users.users_in_scope(db, current_user()),
        form=form,
        action=ActionForm(),
        end_all=end_all or EndAllForm(formdata=None),
    )
    return page, status


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@admin_required
def edit(user_id: int):
    db = get_session()
    found = next((u for u in users.users_in_scope(db, current_user()) if u.id == user_id), None)
    if found is None:
        abort(404)
    scope = (
        found.scope_unit.code
        if found.scope_unit
        else (found.scope_office.code if found.scope_office else "")
    )
    form = UserForm(
        email=found.email,
        name=found.name,
        role=found.role,
        scope=scope,
        language=found.language,
    )
    form.scope.choices = _scope_choices(db)
    if form.validate_on_submit():
        try:
            users.update_user(
                db,
                current_user(),
                found.email,
                role=form.role.data,
                scope=form.scope.data or None,
                clear_scope=not form.scope.data,
                name=form.name.data or "",
                language=form.language.data,
                now=utcnow(),
            )
        except DomainError as error:
            _errors_into(form, error)
        else:
            flash(_("The account of %(email)s was saved.", email=found.email))
            return redirect(url_for(".index"))
    return (
        render_template("admin/users/edit.html", user=found, form=form, action=ActionForm()),
        400 if form.errors or form.form_errors else 200,
    )


@bp.post("/<int:user_id>/active")
@admin_required
def set_active(user_id: int):
    db = get_session()
    if not ActionForm().validate_on_submit():
        abort(400)
    found = next((u for u in users.users_in_scope(db, current_user()) if u.id == user_id), None)
    if found is None:
        abort(404)
    active = request.form.get("active") == "1"
    try:
        users.update_user(db, current_user(), found.email, active=active, now=utcnow())
    except InvalidTransition as error:
        # Switching oneself off, or the last administrator (a domain message is never shown).
        flash(
            field_message(error.fields["role"])
            if "role" in error.fields
            else _("You cannot switch off your own account.")
        )
        return redirect(url_for(".index"))
    flash(
        _("%(email)s can sign in again.", email=found.email)
        if active
        else _("%(email)s is switched off: their sessions and tokens stopped.", email=found.email)
    )
    return redirect(url_for(".index"))


@bp.post("/<int:user_id>/second-factor/off")
@admin_required
def turn_off_second_factor(user_id: int):
    """Remove the second factor of someone who lost their phone (audited); they set up a new
    one at their next sign-in if their role requires it."""
    db = get_session()
    if not ActionForm().validate_on_submit():
        abort(400)
    found = next((u for u in users.users_in_scope(db, current_user()) if u.id == user_id), None)
    if found is None:
        abort(404)
    users.turn_off_second_factor(db, current_user(), found.email, now=utcnow())
    flash(_("The second factor of %(email)s is off; their sessions ended.", email=found.email))
    return redirect(url_for(".edit", user_id=found.id))


@bp.post("/<int:user_id>/sessions/end")
@admin_required
def end_sessions(user_id: int):
    """Sign someone out of every browser at once (a lost laptop, a shared computer)."""
    db = get_session()
    if not ActionForm().validate_on_submit():
        abort(400)
    found = next((u for u in users.users_in_scope(db, current_user()) if u.id == user_id), None)
    if found is None:
        abort(404)
    users.end_sessions_of(db, current_user(), found.email, now=utcnow())
    flash(_("%(email)s was signed out everywhere.", email=found.email))
    return redirect(url_for(".edit", user_id=found.id))


class EndAllForm(FlaskForm):
    """Sign every account of the scope out: ticked on purpose."""

    confirm = BooleanField(
        _l("I understand: everyone in my scope must sign in again; I stay signed in here."),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )


@bp.post("/sessions/end")
@admin_required
def end_all_sessions():
    """Sign every account of the scope out of every browser at once (an incident)."""
    form = EndAllForm()
    if not form.validate_on_submit():
        return _index_page(end_all=form, status=400)
    count = users.end_sessions_in_scope(
        get_session(), current_user(), now=utcnow(), keep_secret=session_secret()
    )
    flash(_("Everyone in your scope was signed out: %(count)s sessions ended.", count=count))
    return redirect(url_for(".index"))


@bp.post("/<int:user_id>/password")
@admin_required
def reset_password(user_id: int):
    db = get_session()
    if not ActionForm().validate_on_submit():
        abort(400)
    found = next((u for u in users.users_in_scope(db, current_user()) if u.id == user_id), None)
    if found is None:
        abort(404)
    secret = users.reset_password(db, current_user(), found.email, now=utcnow())
    return _link_page(found, secret, "reset")
