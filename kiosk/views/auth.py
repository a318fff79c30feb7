"""Staff sign-in (password, then the second factor when one is set up) and sign-out.

Per-account throttling happens in the domain (surveys/accounts.sign_in); the per-IP limit of
kiosk/ratelimit.py stands in front of it. A browser that signed in to an account before is
remembered by a signed cookie and is not slowed by someone else's failures on that account.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from kiosk.auth import (
    begin_session,
    current_session,
    end_this_session,
    is_known_browser,
    needs_enrolment,
    remember_browser,
)
from kiosk.database import get_session
from kiosk.settings import settings
from surveys import accounts, mfa, sessions, throttle
from surveys.db import utcnow
from surveys.errors import Throttled

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class SecondFactorForm(FlaskForm):
    code = StringField(
        _l("Code from the authenticator app, or a recovery code"),
        validators=[DataRequired(), Length(max=32)],
    )


def _safe_next(target: str | None) -> str:
    """Only follow a local path after sign-in, never another site."""
    if not target:
        return url_for("dashboard.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("dashboard.index")
    return target


def _wait_message(seconds: int) -> str:
    minutes = (seconds + 59) // 60
    if seconds < 120:
        return _(
            "Too many failed attempts for this account. Try again in %(n)s seconds.", n=seconds
        )
    return _("Too many failed attempts for this account. Try again in %(n)s minutes.", n=minutes)


def _no_store(result, status: int = 200, retry_after: int | None = None):
    response = make_response(result, status)
    response.headers["Cache-Control"] = "no-store"
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _after_password(user):
    """The password was right: where this browser goes next, with a new session."""
    if mfa.is_enabled(user):
        begin_session(user, sessions.SECOND_FACTOR)
        return redirect(url_for(".second_factor"))
    if needs_enrolment(user):
        begin_session(user, sessions.ENROL)
        flash(_("Your role requires a second factor. Set it up now to continue."))
        return redirect(url_for("account.second_factor"))
    target = _safe_next(session.get("next"))
    begin_session(user, sessions.FULL)
    return redirect(target)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "GET" and request.args.get("next"):
        session["next"] = request.args["next"]
    if form.validate_on_submit():
        email = form.email.data
        try:
            outcome = accounts.sign_in(
                get_session(),
                email,
                form.password.data,
                now=utcnow(),
                policy=settings().sign_in_throttle,
                known_browser=is_known_browser(email),
            )
        except Throttled as refusal:
            form.password.errors.append(_wait_message(refusal.retry_after))
            page = render_template("auth/login.html", form=form)
            return _no_store(page, 429, refusal.retry_after)
        if outcome.user is None:
            form.password.errors.append(
                _wait_message(int(outcome.wait.total_seconds()))
                if outcome.wait
                else _("Wrong email or password.")
            )
        else:
            if request.args.get("next"):
                session["next"] = request.args["next"]
            return remember_browser(make_response(_after_password(outcome.user)), email)
    # A failed attempt answers 200 so that what it recorded (audit, throttle) is committed.
    return _no_store(render_template("auth/login.html", form=form))


@bp.route("/login/second-factor", methods=["GET", "POST"])
def second_factor():
    row = current_session()
    if row is None or row.stage != sessions.SECOND_FACTOR:
        return redirect(url_for(".login"))
    user = row.user
    form = SecondFactorForm()
    if form.validate_on_submit():
        db = get_session()
        now = utcnow()
        wait = throttle.wait_left(db, user.email, now)
        if wait is not None:
            seconds = int(wait.total_seconds()) + 1
            form.code.errors.append(_wait_message(seconds))
            page = render_template("auth/second_factor.html", form=form)
            return _no_store(page, 429, seconds)
        if mfa.verify(db, user, form.code.data, now=now):
            throttle.clear(db, user.email)
            target = _safe_next(session.pop("next", None))
            begin_session(user, sessions.FULL)
            return redirect(target)
        started = throttle.note_failure(db, user.email, now=now, policy=settings().sign_in_throttle)
        form.code.errors.append(
            _wait_message(int(started.total_seconds())) if started else _("This code is wrong.")
        )
    return _no_store(render_template("auth/second_factor.html", form=form))


@bp.post("/logout")
def logout():
    end_this_session()
    flash(_("You have signed out."))
    return redirect(url_for("auth.login"))
