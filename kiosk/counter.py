"""The counter kiosk: pairing a tablet, and the rating screen it shows all day."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import (
    Blueprint,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from kiosk.database import get_session
from kiosk.extensions import limiter
from kiosk.forms import answers_from_form, form_errors, response_id_from_form
from kiosk.i18n import current_language
from kiosk.kiosk_shell import kiosk_context, service_worker_response
from surveys import kiosks
from surveys.db import utcnow
from surveys.errors import Conflict, InvalidTransition, ValidationError
from surveys.models import PairingCode
from surveys.responses import ResponseInput, find_replay, load_target, record_response
from surveys.tokens import hash_secret

bp = Blueprint("counter", __name__, url_prefix="/kiosk")
bp.context_processor(kiosk_context)

DEVICE_COOKIE = "hailong_device"
#: A paired tablet keeps its credential for years; revoking it is an admin action.
DEVICE_COOKIE_AGE = 5 * 365 * 86400


def _device():
    return kiosks.device_for_token(get_session(), request.cookies.get(DEVICE_COOKIE))


def _kiosk_context():
    """Return (device, target, spec) for this tablet, or None when it is not paired."""
    device = _device()
    if device is None:
        return None
    db = get_session()
    target = kiosks.counter_target(db, device.counter_id)
    if target is None:
        return None
    target, spec = load_target(db, target.code)
    return device, target, spec


@bp.get("")
def index():
    context = _kiosk_context()
    if context is None:
        return render_template("counter/unpaired.html"), 403
    device, target, spec = context
    return render_template(
        "counter/kiosk.html",
        device=device,
        target=target,
        spec=spec,
        device_token=request.cookies.get(DEVICE_COOKIE),
        response_id=uuid.uuid4(),
        selected={},
        errors={},
        thanks_seconds=current_app.config["KIOSK_THANKS_SECONDS"],
        officer=device.officer,
    )


@bp.get("/sw.js")
def service_worker():
    """The kiosk's service worker: it keeps the page and its assets for offline reloads."""
    return service_worker_response()


@bp.post("")
def submit():
    """Take a rating from the no-JavaScript form (the JavaScript kiosk posts to the API)."""
    context = _kiosk_context()
    if context is None:
        return render_template("counter/unpaired.html"), 403
    device, target, spec = context
    answers = answers_from_form(spec, request.form)
    payload = ResponseInput(
        id=response_id_from_form(request.form),
        target_code=target.code,
        answers=answers,
        locale=current_language(),
    )
    db = get_session()
    try:
        record_response(db, payload, now=utcnow(), channel="kiosk", device=device)
        db.commit()
    except ValidationError as error:
        db.rollback()
        return (
            render_template(
                "counter/kiosk.html",
                device=device,
                target=target,
                spec=spec,
                device_token=request.cookies.get(DEVICE_COOKIE),
                response_id=payload.id,
                selected=answers,
                errors=form_errors(error),
                thanks_seconds=current_app.config["KIOSK_THANKS_SECONDS"],
            ),
            400,
        )
    except Conflict:
        db.rollback()
    except IntegrityError:
        db.rollback()
        if find_replay(db, payload.id, payload.body_hash()) is None:
            raise
    return redirect(url_for("counter.thanks"))


@bp.get("/thanks")
def thanks():
    return render_template(
        "counter/thanks.html", thanks_seconds=current_app.config["KIOSK_THANKS_SECONDS"]
    )


def _bind_browser(device_token: str):
    """Hand the browser its device credential and send it to the kiosk screen."""
    response = make_response(redirect(url_for("counter.index")))
    response.set_cookie(
        DEVICE_COOKIE,
        device_token,
        max_age=DEVICE_COOKIE_AGE,
        httponly=True,
        samesite="Strict",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        path="/",
    )
    return response


class PairingCodeForm(FlaskForm):
    code = StringField(_l("Pairing code"), validators=[DataRequired(), Length(max=32)])


@bp.route("/pair", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PAIRING_RATE_LIMIT"], methods=["POST"])
def pair_by_code():
    """Pair this browser by the 8-digit code an administrator reads out or shows."""
    form = PairingCodeForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            _paired, token = kiosks.pair_by_numeric_code(
                db,
                form.code.data,
                now=utcnow(),
                code_ttl=timedelta(minutes=current_app.config["PAIRING_CODE_MINUTES"]),
                replacing=_device(),
            )
        except (InvalidTransition, ValidationError):
            db.rollback()
            form.code.errors.append(
                _("This code is wrong, used or expired. Check the 8 digits or ask for a new one.")
            )
        else:
            db.commit()
            return _bind_browser(token)
    return render_template("counter/keypad.html", form=form), 400 if form.errors else 200


@bp.route("/pair/<secret>", methods=["GET", "POST"])
def pair(secret: str):
    """Show which counter this link binds; bind the browser only on an explicit tap (POST).

    A GET must not consume the one-time link: chat apps and mail scanners open links too.
    """
    db = get_session()
    pairing = db.scalar(select(PairingCode).where(PairingCode.secret_hash == hash_secret(secret)))
    form = FlaskForm()
    now = utcnow()
    if pairing is None or pairing.used_at is not None or now >= pairing.expires_at:
        return render_template("counter/pair.html", pairing=None), 410
    if request.method == "POST" and form.validate_on_submit():
        try:
            _paired, token = kiosks.pair_device(db, secret, now=now, replacing=_device())
        except InvalidTransition:
            db.rollback()
            return render_template("counter/pair.html", pairing=None), 410
        db.commit()
        return _bind_browser(token)
    return render_template("counter/pair.html", pairing=pairing, form=form)
