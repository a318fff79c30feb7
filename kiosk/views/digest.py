"""Unsubscribing from the weekly digest by the signed link in the e-mail (no sign-in needed).

The link only shows a page; the button on it (a POST with a CSRF token) unsubscribes, so a
mail scanner following links changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, url_for
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeSerializer

from kiosk.database import get_session
from surveys import digest
from surveys.db import utcnow

bp = Blueprint("digest", __name__, url_prefix="/digest")
_SALT = "hailong.digest-unsubscribe"


class UnsubscribeForm(FlaskForm):
    """The CSRF token only."""


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def unsubscribe_url(user_id: int) -> str:
    token = _serializer().dumps(user_id)
    return url_for("digest.unsubscribe", token=token, _external=True)


def _user_id(token: str) -> int:
    try:
        user_id = _serializer().loads(token)
    except BadSignature:
        abort(404)
    if not isinstance(user_id, int):
        abort(404)
    return user_id


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str):
    _user_id(token)
    return render_template("digest/unsubscribe.html", form=UnsubscribeForm(), done=False)


@bp.post("/unsubscribe/<token>")
def confirm(token: str):
    user_id = _user_id(token)
    if not UnsubscribeForm().validate_on_submit():
        abort(400)
    digest.opt_out(get_session(), user_id, now=utcnow())
    return render_template("digest/unsubscribe.html", form=None, done=True)
