"""Manager sign-in and sign-out with a session cookie."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from kiosk.database import get_session
from surveys import accounts
from surveys.db import utcnow

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    """Only follow a local path after sign-in, never another site."""
    if not target:
        return url_for("dashboard.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("dashboard.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(
            get_session(), form.email.data, form.password.data, now=utcnow()
        )
        if user is None:
            form.password.errors.append(_("Wrong email or password."))
        else:
            session.clear()
            session.permanent = True
            session["user_id"] = user.id
            session["v"] = user.session_version
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    session.clear()
    flash(_("You have signed out."))
    return redirect(url_for("auth.login"))
