"""The counter kiosk: pairing a tablet, and the rating screen it shows all day."""

from __future__ import annotations

import uuid

from flask import (
    Blueprint,
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
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from kiosk.auth import DEVICE_COOKIE, set_device_cookie
from kiosk.database import get_session
from kiosk.forms import answers_from_form, response_id_from_form
from kiosk.i18n import current_language
from kiosk.messages import answer_errors
from kiosk.ratelimit import over_ceiling
from kiosk.settings import settings
from kiosk.views.kiosk_shell import compact_html, kiosk_context, service_worker_response
from surveys import kiosks
from surveys.db import utcnow
from surveys.errors import Conflict, InvalidTransition, NotFound, ValidationError
from surveys.models import KioskDevice, PairingCode
from surveys.responses import ResponseInput, submit_response
from surveys.spec import SurveySpec
from surveys.targets import TargetRef, load_target
from surveys.tokens import hash_secret

bp = Blueprint("counter", __name__, url_prefix="/kiosk")
bp.context_processor(kiosk_context)


def _device() -> KioskDevice | None:
    return kiosks.device_for_token(get_session(), request.cookies.get(DEVICE_COOKIE), utcnow())


def _kiosk_context():
    """Return (device, target, spec) for this tablet, or None when it is not paired."""
    device = _device()
    if device is None:
        return None
    db = get_session()
    target = kiosks.counter_target(db, device.counter_id)
    if target is None:
        return None
    try:
        ref, spec = load_target(db, target.code, "kiosk")
    except NotFound:
        return None
    return device, ref, spec


def _unpaired(status: int = 200):
    """The page that asks staff to pair this tablet.

    A GET answers 200: the page is what the tablet should show (a 403 reads as an error in its
    console); a rating posted from it is refused with 403. ``no-store`` tells the kiosk's
    service worker never to keep this page in place of the rating screen.
    """
    response = make_response(render_template("counter/unpaired.html"), status)
    response.headers["Cache-Control"] = "no-store"
    return response


def kiosk_page(
    device: KioskDevice,
    target: TargetRef,
    spec: SurveySpec,
    response_id: uuid.UUID | None = None,
    *,
    selected: dict | None = None,
    errors: dict | None = None,
    status: int = 200,
):
    """Render the kiosk screen: the one place its template gets its arguments."""
    page = compact_html(
        render_template(
            "counter/kiosk.html",
            device=device,
            target=target,
            spec=spec,
            response_id=response_id or uuid.uuid4(),
            selected=selected or {},
            errors=errors or {},
            officer=kiosks.kiosk_state(get_session(), device, now=utcnow()).officer,
        )
    )
    return page, status


@bp.get("")
def index():
    context = _kiosk_context()
    if context is None:
        return _unpaired()
    return kiosk_page(*context)


@bp.get("/sw.js")
def service_worker():
    """The kiosk's service worker: it keeps the page and its assets for offline reloads."""
    return service_worker_response()


@bp.get("/callback")
def callback_offer():
    """The call-back offer's texts in every kiosk language, fetched by static/js/callback.js
    after an unhappy rating and kept by the service worker for offline use."""
    cases = settings().cases
    response = make_response(
        compact_html(
            render_template(
                "counter/callback.html",
                due_working_days=cases.due_working_days,
                erase_days=cases.erase_after.days,
            )
        )
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.post("")
def submit():
    """Take a rating from the no-JavaScript form (the JavaScript kiosk posts to the API)."""
    context = _kiosk_context()
    if context is None:
        return _unpaired(403)
    device, target, spec = context
    answers = answers_from_form(spec, request.form)
    payload = ResponseInput(
        id=response_id_from_form(request.form),
        target_code=target.code,
        answers=answers,
        locale=current_language(),
    )
    try:
        submit_response(
            get_session(),
            payload,
            now=utcnow(),
            policy=settings().submit,
            device=device,
            over_ceiling=over_ceiling,
        )
    except ValidationError as error:
        return kiosk_page(
            device,
            target,
            spec,
            payload.id,
            selected=answers,
            errors=answer_errors(error),
            status=400,
        )
    except Conflict:
        pass
    return redirect(url_for("counter.thanks"))


@bp.get("/thanks")
def thanks():
    return render_template("counter/thanks.html")


def _bind_browser(device_token: str):
    """Hand the browser its device credential and send it to the kiosk screen."""
    return set_device_cookie(make_response(redirect(url_for("counter.index"))), device_token)


class PairingCodeForm(FlaskForm):
    code = StringField(_l("Pairing code"), validators=[DataRequired(), Length(max=32)])


@bp.route("/pair", methods=["GET", "POST"])
def pair_by_code():
    """Pair this browser by the 8-digit code an administrator reads out or shows."""
    form = PairingCodeForm()
    if form.validate_on_submit():
        try:
            _paired, token = kiosks.pair_by_numeric_code(
                get_session(),
                form.code.data,
                now=utcnow(),
                code_ttl=settings().pairing_code_ttl,
                replacing=_device(),
            )
        except (InvalidTransition, ValidationError):
            form.code.errors.append(
                _("This code is wrong, used or expired. Check the 8 digits or ask for a new one.")
            )
        else:
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
            return render_template("counter/pair.html", pairing=None), 410
        return _bind_browser(token)
    return render_template("counter/pair.html", pairing=pairing, form=form)
