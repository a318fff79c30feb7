"""A user's own account: who they are, their password, their second factor, their signed-in
browsers, their API tokens (create, shown once; revoke), and the one-time link through which
anyone chooses their own password."""

from __future__ import annotations

from datetime import timedelta

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
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.security import check_password_hash
from wtforms import IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from kiosk import i18n
from kiosk.auth import (
    begin_session,
    current_session,
    current_user,
    end_this_session,
    enrolling_user,
    login_required,
    session_secret,
)
from kiosk.database import get_session
from kiosk.i18n import LANGUAGE_CHOICES
from kiosk.messages import field_message
from kiosk.settings import settings
from surveys import accounts, mfa, sessions, users
from surveys.db import utcnow
from surveys.errors import DomainError, InvalidTransition
from surveys.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from surveys.qr import qr_svg

bp = Blueprint("account", __name__, url_prefix="/account")

SCOPE_CHOICES = [
    ("read", _l("Read only")),
    ("read+tickets", _l("Read and mint tickets")),
    ("admin", _l("Everything this account may do")),
]


class TokenForm(FlaskForm):
    label = StringField(_l("What the token is for"), validators=[Optional(), Length(max=100)])
    scope = SelectField(_l("What it may do"), choices=lambda: SCOPE_CHOICES, default="read")
    days = IntegerField(
        _l("Valid for (days)"), validators=[Optional(), NumberRange(min=1, max=3650)]
    )


class ActionForm(FlaskForm):
    """Only the CSRF token."""


class LanguageForm(FlaskForm):
    language = SelectField(
        _l("Language of the e-mails I receive"), choices=lambda: LANGUAGE_CHOICES
    )


RevokeForm = ActionForm


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    again = PasswordField(_l("The same password again"), validators=[DataRequired()])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    again = PasswordField(_l("The same password again"), validators=[DataRequired()])


class CodeForm(FlaskForm):
    code = StringField(
        _l("The 6-digit code the app shows"), validators=[DataRequired(), Length(max=32)]
    )


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Your password, to confirm"), validators=[DataRequired(), Length(max=200)]
    )


def _no_store(page, status: int = 200):
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _password_errors(form, error: DomainError) -> None:
    for field, reason in error.fields.items():
        if reason == "too_short":
            message = _("At least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
        elif reason == "too_long":
            message = _("At most %(n)s characters.", n=MAX_PASSWORD_LENGTH)
        elif field == "again":
            message = _("The two passwords differ.")
        else:
            message = field_message(reason)
        getattr(form, field).errors = [message]


def _page(
    form: TokenForm | None = None,
    new_token: str | None = None,
    status: int = 200,
    sessions_form: ConfirmPasswordForm | None = None,
    language_form: LanguageForm | None = None,
):
    user = current_user()
    db = get_session()
    now = utcnow()
    return _no_store(
        render_template(
            "account/index.html",
            user=user,
            tokens=users.tokens_of(db, user),
            form=form or TokenForm(days=settings().api_token_lifetime.days),
            revoke=ActionForm(),
            new_token=new_token,
            now=now,
            mfa_enabled=mfa.is_enabled(user),
            live_sessions=sessions.live_sessions(
                db, user, now=now, lifetimes=settings().session_lifetimes
            ),
            this_session_id=current_session().id,
            sessions_form=sessions_form or ConfirmPasswordForm(),
            language_form=language_form or LanguageForm(language=user.language),
            max_days=settings().api_token_max_lifetime.days,
        ),
        status,
    )


@bp.get("")
@login_required
def index():
    return _page()


@bp.post("/language")
@login_required
def set_language():
    """Choose one's own language: of one's e-mails (alerts, weekly digest, security notices),
    and of the pages in this browser."""
    form = LanguageForm()
    if not form.validate_on_submit():
        return _page(language_form=form, status=400)
    users.set_language(get_session(), current_user(), form.language.data, now=utcnow())
    i18n.remember(form.language.data)
    with force_locale(form.language.data):
        flash(_("Your language is saved: your e-mails and this browser use it."))
    return redirect(url_for(".index"))


@bp.post("/tokens")
@login_required
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    config = settings()
    days = form.days.data or config.api_token_lifetime.days
    if days > config.api_token_max_lifetime.days:
        form.days.errors = [_("At most %(n)s days.", n=config.api_token_max_lifetime.days)]
        return _page(form, status=400)
    user = current_user()
    token = accounts.create_api_token(
        get_session(),
        user.email,
        now=utcnow(),
        label=form.label.data or "",
        actor=user,
        scope=form.scope.data,
        lifetime=timedelta(days=days),
        max_lifetime=config.api_token_max_lifetime,
    )
    return _page(new_token=token)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    users.revoke_token(get_session(), current_user(), token_id, now=utcnow())
    flash(_("The token was revoked: it no longer opens anything."))
    return redirect(url_for(".index"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password; every other signed-in browser is signed out."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            users.change_password(
                get_session(),
                current_user(),
                form.current.data,
                form.password.data,
                form.again.data,
                now=utcnow(),
                keep_secret=session_secret(),
            )
        except DomainError as error:
            if "current" in error.fields:
                form.current.errors = [_("This is not your current password.")]
            else:
                _password_errors(form, error)
        else:
            flash(_("Your password was changed. Your other sessions were signed out."))
            return redirect(url_for(".index"))
    return _no_store(
        render_template(
            "account/change_password.html",
            form=form,
            min_length=MIN_PASSWORD_LENGTH,
            max_length=MAX_PASSWORD_LENGTH,
        ),
        400 if form.errors else 200,
    )


@bp.post("/sessions/end")
@login_required
def end_sessions():
    """Sign out one chosen browser, or everywhere (this one included); the password is asked
    again, so someone who found a signed-in browser cannot sign its owner out elsewhere."""
    user = current_user()
    form = ConfirmPasswordForm()
    if not _password_confirmed(user, form):
        return _page(sessions_form=form, status=400)
    chosen = request.form.get("session_id", "all")
    db = get_session()
    if chosen == "all":
        sessions.end_all_sessions(db, user, now=utcnow())
        end_this_session()
        flash(_("You were signed out everywhere."))
        return redirect(url_for("auth.login"))
    if not chosen.isdigit():
        abort(400)
    if int(chosen) == current_session().id:
        end_this_session()
        return redirect(url_for("auth.login"))
    sessions.end_session_by_id(db, user, int(chosen), now=utcnow())
    flash(_("That browser was signed out."))
    return redirect(url_for(".index"))


# The second factor --------------------------------------------------------------------------


def _second_factor_page(user, *, code_form=None, confirm_form=None, codes=None, status=200):
    qr = None
    if user.totp_secret and not mfa.is_enabled(user):
        qr = Markup(qr_svg(mfa.provisioning_uri(user), title=_("QR code to scan")))
    return _no_store(
        render_template(
            "account/second_factor.html",
            user=user,
            enabled=mfa.is_enabled(user),
            required=user.role in settings().mfa_required_roles,
            key=user.totp_secret if qr is not None else None,
            key_groups=" ".join(
                user.totp_secret[i : i + 4] for i in range(0, len(user.totp_secret or ""), 4)
            ),
            qr=qr,
            code_form=code_form or CodeForm(),
            confirm_form=confirm_form or ConfirmPasswordForm(),
            action=ActionForm(),
            codes=codes,
            codes_left=mfa.recovery_codes_left(get_session(), user),
        ),
        status,
    )


@bp.get("/second-factor")
def second_factor():
    user = enrolling_user()
    if user is None:
        return redirect(url_for("auth.login"))
    return _second_factor_page(user)


@bp.post("/second-factor/start")
def start_second_factor():
    user = enrolling_user()
    if user is None:
        return redirect(url_for("auth.login"))
    # Changing how the account signs in asks for the password again, whatever the session.
    form = ConfirmPasswordForm()
    if not _password_confirmed(user, form):
        return _second_factor_page(user, confirm_form=form, status=400)
    try:
        mfa.begin_enrolment(get_session(), user, now=utcnow())
    except InvalidTransition:
        pass
    return redirect(url_for(".second_factor"))


@bp.post("/second-factor/confirm")
def confirm_second_factor():
    user = enrolling_user()
    if user is None:
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if not form.validate_on_submit():
        return _second_factor_page(user, code_form=form, status=400)
    try:
        codes = mfa.confirm_enrolment(get_session(), user, form.code.data, now=utcnow())
    except InvalidTransition:
        return redirect(url_for(".second_factor"))
    except DomainError:
        form.code.errors = [_("This code does not match. Check the phone's clock and try again.")]
        return _second_factor_page(user, code_form=form, status=400)
    # A new factor: every other browser signs in again, and this one gets a new session
    # secret (a change of privilege).
    sessions.end_all_sessions(get_session(), user, now=utcnow())
    begin_session(user, sessions.FULL)
    return _second_factor_page(user, codes=codes)


def _password_confirmed(user, form) -> bool:
    if not form.validate_on_submit():
        return False
    if not check_password_hash(user.password_hash, form.password.data):
        form.password.errors = [_("This is not your current password.")]
        return False
    return True


@bp.post("/second-factor/recovery-codes")
@login_required
def renew_recovery_codes():
    user = current_user()
    form = ConfirmPasswordForm()
    if not _password_confirmed(user, form):
        return _second_factor_page(user, confirm_form=form, status=400)
    codes = mfa.renew_recovery_codes(get_session(), user, now=utcnow())
    return _second_factor_page(user, codes=codes)


@bp.post("/second-factor/off")
@login_required
def turn_off_second_factor():
    user = current_user()
    form = ConfirmPasswordForm()
    if not _password_confirmed(user, form):
        return _second_factor_page(user, confirm_form=form, status=400)
    mfa.turn_off(get_session(), user, now=utcnow(), actor=user)
    sessions.end_all_sessions(get_session(), user, now=utcnow(), keep_secret=session_secret())
    flash(_("The second factor is off. Your other sessions were signed out."))
    return redirect(url_for(".second_factor"))


@bp.route("/password/<secret>", methods=["GET", "POST"])
def choose_password(secret: str):
    """Choose one's own password through a one-time link (a new account, or a reset)."""
    db = get_session()
    try:
        user = users.user_for_password_link(db, secret, utcnow())
    except InvalidTransition:
        return _no_store(render_template("account/link_expired.html"), 410)
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            users.choose_password(db, secret, form.password.data, form.again.data, now=utcnow())
        except DomainError as error:
            _password_errors(form, error)
        else:
            flash(_("Your password is set. Sign in with it."))
            return redirect(url_for("auth.login"))
    return _no_store(
        render_template(
            "account/password.html", form=form, user=user, min_length=MIN_PASSWORD_LENGTH
        ),
        400 if form.errors else 200,
    )
