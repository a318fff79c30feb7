"""The call-back offer on the citizen's own phone: after an unhappy rating the thank-you page
asks "Ông/Bà có muốn được liên hệ lại không?" and, with a phone number or an e-mail address and
the consent sentence ticked, opens a case for the office (surveys/cases.py).

Only the phone that made the rating may ask: its id is kept in the signed session between the
rating and the thank-you. The kiosk sends the same request inside the rating itself (the
``callback`` of POST /api/v1/responses), see static/js/callback.js.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from kiosk.database import get_session
from kiosk.settings import settings
from surveys import cases
from surveys.db import utcnow
from surveys.errors import DomainError, Reason
from surveys.models import CallbackCase, Office, Response
from surveys.spec import SurveySpec

#: The unhappy rating this phone may still ask a call-back about: {"id", "code"}.
OFFER = "hailong_callback"

#: What a citizen reads under a field of the call-back form.
_MESSAGES = {
    ("phone", Reason.REQUIRED): _l("Please give a phone number or an e-mail address."),
    ("phone", Reason.INVALID): _l(
        "This phone number does not look right: write its digits, such as 0912 345 678."
    ),
    ("phone", Reason.TOO_LONG): _l("This phone number is too long."),
    ("email", Reason.INVALID): _l("This e-mail address does not look right."),
    ("email", Reason.TOO_LONG): _l("This e-mail address is too long."),
    ("email", Reason.ONE_ONLY): _l(
        "Please give either a phone number or an e-mail address, not both."
    ),
    ("consent", Reason.REQUIRED): _l(
        "Please tick the sentence above: without your consent we cannot contact you."
    ),
}
_LATE = _l("This rating can no longer be followed by a call-back request.")


def _is_unhappy(spec: SurveySpec, answers: dict) -> bool:
    headline = spec.headline
    answer = answers.get(headline.key)
    choice = headline.by_key.get(answer) if isinstance(answer, str) else None
    return choice is not None and choice.polarity == "negative"


def remember(response_id: uuid.UUID, code: str, spec: SurveySpec, answers: dict) -> None:
    """After a rating from this phone: keep its id when it is unhappy, to offer a call-back."""
    if _is_unhappy(spec, answers):
        session[OFFER] = {"id": str(response_id), "code": code}
    else:
        session.pop(OFFER, None)


def offered(code: str) -> uuid.UUID | None:
    """Return the unhappy rating of ``code`` this phone may ask a call-back about, if any."""
    kept = session.get(OFFER)
    if not isinstance(kept, dict) or kept.get("code") != code:
        return None
    try:
        response_id = uuid.UUID(str(kept.get("id")))
    except ValueError:
        return None
    db = get_session()
    response = db.get(Response, response_id)
    if (
        response is None
        or response.headline_polarity >= 0
        or response.received_at < utcnow() - cases.ASK_WINDOW
        or db.scalar(select(CallbackCase.id).where(CallbackCase.response_id == response_id))
    ):
        session.pop(OFFER, None)
        return None
    return response_id


def office_code(office_id: int) -> str | None:
    """Return the code of the office whose public page the thank-you links to."""
    office = get_session().get(Office, office_id)
    return office.code if office is not None and office.is_active else None


def form_values() -> dict[str, str]:
    return {name: request.form.get(name, "").strip()[:300] for name in ("phone", "email")}


def errors_of(error: DomainError) -> dict[str, str]:
    """Return a readable message per field of the call-back form."""
    if not error.fields or "id" in error.fields:
        return {"form": str(_LATE)}
    return {
        field: str(_MESSAGES.get((field, reason), _MESSAGES[("phone", Reason.REQUIRED)]))
        for field, reason in error.fields.items()
    }


def ask(response_id: uuid.UUID) -> dict[str, str] | None:
    """Open the case from the thank-you page's form; return errors per field, or None."""
    values = form_values()
    try:
        cases.open_case(
            get_session(),
            response_id,
            phone=values["phone"],
            email=values["email"],
            consent=request.form.get("consent") == "1",
            now=utcnow(),
            policy=settings().cases,
        )
    except DomainError as error:
        return errors_of(error)
    session.pop(OFFER, None)
    return None


def answer(code: str, *, thanks_endpoint: str, page: Callable[[str, dict], Any]):
    """Handle the thank-you page's call-back form: open the case and go back to the thank-you
    with a confirmation, or render ``page(code, errors)``. Without an offer due (another phone,
    too late, asked already) it only goes back."""
    back = redirect(url_for(thanks_endpoint, code=code))
    response_id = offered(code)
    if response_id is None:
        return back
    errors = ask(response_id)
    if errors:
        return page(code, errors)
    flash(
        _(
            "Thank you. The office will contact you within %(days)s working days.",
            days=settings().cases.due_working_days,
        )
    )
    return back


def context(code: str, *, office_id: int | None, errors: dict | None = None) -> dict:
    """Template data of the thank-you page: the offer (when due) and the public page's link."""
    response_id = offered(code)
    return {
        "callback": response_id is not None,
        "callback_errors": errors or {},
        "callback_values": form_values() if errors else {},
        "due_working_days": settings().cases.due_working_days,
        "erase_days": settings().cases.erase_after.days,
        "office_code": office_code(office_id) if office_id is not None else None,
    }
