"""A user's own account: who they are, their API tokens (create, shown once; revoke), and the
one-time link through which anyone chooses their own password."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional

from kiosk.auth import current_user, login_required
from kiosk.database import get_session
from kiosk.messages import field_message
from surveys import accounts, users
from surveys.accounts import MIN_PASSWORD_LENGTH
from surveys.db import utcnow
from surveys.errors import DomainError, InvalidTransition

bp = Blueprint("account", __name__, url_prefix="/account")


class TokenForm(FlaskForm):
    label = StringField(_l("What the token is for"), validators=[Optional(), Length(max=100)])


class RevokeForm(FlaskForm):
    """Only the CSRF token."""


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    again = PasswordField(_l("The same password again"), validators=[DataRequired()])


def _no_store(page):
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(form: TokenForm, new_token: str | None = None, status: int = 200):
    user = current_user()
    return _no_store(
        (
            render_template(
                "account/index.html",
                user=user,
                tokens=users.tokens_of(get_session(), user),
                form=form,
                revoke=RevokeForm(),
                new_token=new_token,
            ),
            status,
        )
    )


@bp.get("")
@login_required
def index():
    return _page(TokenForm())


@bp.post("/tokens")
@login_required
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    user = current_user()
    token = accounts.create_api_token(
        get_session(), user.email, now=utcnow(), label=form.label.data or "", actor=user
    )
    return _page(TokenForm(), new_token=token)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    if not RevokeForm().validate_on_submit():
        abort(400)
    users.revoke_token(get_session(), current_user(), token_id, now=utcnow())
    flash(_("The token was revoked: it no longer opens anything."))
    return redirect(url_for(".index"))


@bp.route("/password/<secret>", methods=["GET", "POST"])
def choose_password(secret: str):
    """Choose one's own password through a one-time link (a new account, or a reset)."""
    db = get_session()
    try:
        user = users.user_for_password_link(db, secret, utcnow())
    except InvalidTransition:
        return _no_store((render_template("account/link_expired.html"), 410))
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            users.choose_password(db, secret, form.password.data, form.again.data, now=utcnow())
        except DomainError as error:
            for field, reason in error.fields.items():
                getattr(form, field).errors = [
                    _("At least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
                    if reason == "too_short"
                    else _("The two passwords differ.")
                    if field == "again"
                    else field_message(reason)
                ]
        else:
            flash(_("Your password is set. Sign in with it."))
            return redirect(url_for("auth.login"))
    return _no_store(
        (
            render_template(
                "account/password.html", form=form, user=user, min_length=MIN_PASSWORD_LENGTH
            ),
            400 if form.errors else 200,
        )
    )
