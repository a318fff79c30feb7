"""The phone survey behind a QR code: a plain HTML form that works without JavaScript."""

from __future__ import annotations

import uuid

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kiosk.database import get_session
from kiosk.extensions import limiter
from kiosk.forms import answers_from_form, form_errors, response_id_from_form
from kiosk.i18n import current_language
from surveys.db import utcnow
from surveys.errors import Conflict, NotFound, ValidationError
from surveys.models import Target
from surveys.responses import ResponseInput, find_replay, load_target, record_response

bp = Blueprint("phone", __name__, url_prefix="/s")


def _target_or_page(code: str):
    """Return (target, spec), or a friendly page when the code is unknown or retired."""
    db = get_session()
    try:
        return load_target(db, code), None
    except NotFound:
        stored = db.scalar(select(Target).where(Target.code == code.strip().upper()))
        page = render_template("phone/unavailable.html", retired=stored is not None, code=code)
        return None, (page, 404)


@bp.get("/<code>")
def survey(code: str):
    found, page = _target_or_page(code)
    if page:
        return page
    target, spec = found
    return render_template(
        "phone/survey.html",
        target=target,
        spec=spec,
        response_id=uuid.uuid4(),
        selected={},
        errors={},
    )


@bp.post("/<code>")
@limiter.limit(lambda: current_app.config["PHONE_RATE_LIMIT"])
def submit(code: str):
    found, page = _target_or_page(code)
    if page:
        return page
    target, spec = found
    answers = answers_from_form(spec, request.form)
    payload = ResponseInput(
        id=response_id_from_form(request.form),
        target_code=target.code,
        answers=answers,
        locale=current_language(),
    )
    db = get_session()
    try:
        record_response(db, payload, now=utcnow(), channel="qr")
        db.commit()
    except ValidationError as error:
        db.rollback()
        return (
            render_template(
                "phone/survey.html",
                target=target,
                spec=spec,
                response_id=payload.id,
                selected=answers,
                errors=form_errors(error),
            ),
            400,
        )
    except Conflict:
        # The citizen went back and changed an answer after sending: the first one counts.
        db.rollback()
    except IntegrityError:
        db.rollback()
        if find_replay(db, payload.id, payload.body_hash()) is None:
            raise
    return redirect(url_for("phone.thanks", code=target.code))


@bp.get("/<code>/thanks")
def thanks(code: str):
    return render_template("phone/thanks.html", code=code)
