"""Administration of counter kiosks: pairing, renaming, moving, revoking, health, officers."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_timedelta, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from kiosk.auth import current_user, manager_required
from kiosk.database import get_session
from kiosk.settings import settings
from surveys import kiosks, officers
from surveys.accounts import office_in_scope, visible_offices
from surveys.db import utcnow
from surveys.errors import ValidationError
from surveys.models import Office
from surveys.qr import qr_svg

bp = Blueprint("admin_kiosks", __name__, url_prefix="/admin/kiosks")


class PairForm(FlaskForm):
    counter = SelectField(_l("Counter"), validators=[DataRequired()])


class RenameForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=kiosks.NAME_MAX)])


class MoveForm(FlaskForm):
    counter = SelectField(_l("Move to counter"), validators=[DataRequired()])


class RevokeForm(FlaskForm):
    confirm = BooleanField(
        _l("I understand: this tablet stops recording ratings until it is paired again."),
        validators=[InputRequired(message=_l("Tick the box to confirm."))],
    )


class ResetForm(FlaskForm):
    """Only the CSRF token: resetting a PIN takes no input."""


class BadgeForm(FlaskForm):
    """Only the CSRF token: issuing a badge takes no input."""


def office_time(moment: datetime | None, office: Office) -> str:
    """Format a stored UTC time in the office's own time zone and the reader's language."""
    if moment is None:
        return "–"
    return format_datetime(
        moment, "short", tzinfo=ZoneInfo(office.timezone), locale=str(get_locale())
    )


def time_ago(delta: timedelta) -> str:
    return format_timedelta(-delta, granularity="minute", add_direction=True)


@bp.context_processor
def helpers() -> dict:
    return {"office_time": office_time, "time_ago": time_ago}


def _no_store(page: str):
    """Keep a page showing a one-time secret out of every cache and the back button's memory."""
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response


def _counter_choices(db) -> dict[str, list[tuple[str, str]]]:
    """Return the counters in scope as select options grouped by office."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for counter in kiosks.counters_in_scope(db, current_user()):
        label = f"{counter.name} · {counter.code}"
        grouped.setdefault(counter.office.name, []).append((counter.code, label))
    return grouped


def _health_settings() -> dict:
    config = settings()
    return {"silent_after": config.kiosk_silent, "heartbeat_interval": config.kiosk_heartbeat}


def _index_page(pair_form: PairForm, status: int = 200):
    db, user, now = get_session(), current_user(), utcnow()
    office_code = request.args.get("office") or None
    health = kiosks.kiosk_health(db, user, now=now, office_code=office_code, **_health_settings())
    return (
        render_template(
            "admin/kiosks/index.html",
            health=health,
            offices=db.scalars(visible_offices(user)).all(),
            office_code=office_code,
            pair_form=pair_form,
            silent_minutes=int(settings().kiosk_silent.total_seconds() // 60),
        ),
        status,
    )


@bp.get("")
@manager_required
def index():
    form = PairForm()
    form.counter.choices = _counter_choices(get_session())
    return _index_page(form)


@bp.post("/pair")
@manager_required
def pair():
    db = get_session()
    form = PairForm()
    form.counter.choices = _counter_choices(db)
    if not form.validate_on_submit():
        return _index_page(form, 400)
    config = settings()
    issued = kiosks.issue_pairing(
        db,
        form.counter.data,
        now=utcnow(),
        link_ttl=config.pairing_link_ttl,
        code_ttl=config.pairing_code_ttl,
        actor=current_user(),
    )
    base = config.public_base_url
    link = base + url_for("counter.pair", secret=issued.secret)
    qr = Markup(qr_svg(link, title=_("QR code of the pairing link"), css_class="qr pairing-qr"))
    return _no_store(
        render_template(
            "admin/kiosks/paired.html",
            issued=issued,
            counter=issued.pairing.counter,
            link=link,
            keypad_url=base + url_for("counter.pair_by_code"),
            qr=qr,
        )
    )


def _device_page(device_id: int, status: int = 200, **forms):
    db, user = get_session(), current_user()
    device = kiosks.device_in_scope(db, user, device_id)
    health = kiosks.kiosk_health(
        db, user, now=utcnow(), office_code=device.counter.office.code, **_health_settings()
    )
    state = next(h for h in health if h.device.id == device.id)
    rename = forms.get("rename") or RenameForm(name=device.name)
    move = forms.get("move") or MoveForm(counter=device.counter.code)
    move.counter.choices = _counter_choices(db)
    return (
        render_template(
            "admin/kiosks/device.html",
            kiosk=state,
            rename_form=rename,
            move_form=move,
            revoke_form=forms.get("revoke") or RevokeForm(),
        ),
        status,
    )


@bp.get("/<int:device_id>")
@manager_required
def device(device_id: int):
    return _device_page(device_id)


@bp.post("/<int:device_id>/rename")
@manager_required
def rename(device_id: int):
    form = RenameForm()
    if form.validate_on_submit():
        try:
            kiosks.rename_device(
                get_session(), current_user(), device_id, form.name.data, now=utcnow()
            )
        except ValidationError:
            form.name.errors.append(_("Give the kiosk a name of at most 200 characters."))
        else:
            flash(_("The kiosk was renamed."))
            return redirect(url_for(".device", device_id=device_id))
    return _device_page(device_id, 400, rename=form)


@bp.post("/<int:device_id>/move")
@manager_required
def move(device_id: int):
    db = get_session()
    form = MoveForm()
    form.counter.choices = _counter_choices(db)
    if form.validate_on_submit():
        device = kiosks.move_device(db, current_user(), device_id, form.counter.data, now=utcnow())
        flash(_("The kiosk now serves %(counter)s.", counter=device.counter.name))
        return redirect(url_for(".device", device_id=device_id))
    return _device_page(device_id, 400, move=form)


@bp.post("/<int:device_id>/revoke")
@manager_required
def revoke(device_id: int):
    form = RevokeForm()
    if form.validate_on_submit():
        device = kiosks.revoke_device(get_session(), current_user(), device_id, now=utcnow())
        flash(_("%(name)s was revoked; it now shows the “not connected” screen.", name=device.name))
        return redirect(url_for(".index"))
    return _device_page(device_id, 400, revoke=form)


def _officers_page(office_code: str | None, status: int = 200):
    db, user = get_session(), current_user()
    offices = db.scalars(visible_offices(user)).all()
    if office_code:
        office = office_in_scope(db, user, office_code.strip().upper())
    else:
        office = offices[0] if offices else None
    return (
        render_template(
            "admin/kiosks/officers.html",
            offices=offices,
            office=office,
            reset_form=ResetForm(),
            badge_form=BadgeForm(),
        ),
        status,
    )


@bp.get("/officers")
@manager_required
def officers_index():
    return _officers_page(request.args.get("office"))


@bp.post("/officers/<code>/pin")
@manager_required
def officer_pin(code: str):
    """Reset an officer's PIN: a one-time setup code, shown once, with which the officer
    chooses their own PIN on the kiosk. Nobody else ever sees the PIN."""
    form = ResetForm()
    if not form.validate_on_submit():
        return _officers_page(None, 400)
    officer, setup_code = officers.reset_officer_pin(
        get_session(), current_user(), code, now=utcnow()
    )
    return _no_store(
        render_template(
            "admin/kiosks/pin_reset.html",
            officer=officer,
            setup_code=f"{setup_code[:3]} {setup_code[3:]}",
            hours=round(officers.PIN_SETUP_TTL.total_seconds() / 3600),
        )
    )


@bp.post("/officers/<code>/badge")
@manager_required
def officer_badge(code: str):
    db = get_session()
    form = BadgeForm()
    if not form.validate_on_submit():
        return _officers_page(None, 400)
    officer, secret = officers.issue_badge(db, current_user(), code, now=utcnow())
    qr = Markup(
        qr_svg(
            secret, title=_("Sign-in badge of %(name)s", name=officer.name), css_class="qr badge-qr"
        )
    )
    return _no_store(render_template("admin/kiosks/badge.html", officer=officer, qr=qr))
