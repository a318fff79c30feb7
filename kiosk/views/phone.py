"""The phone survey behind a QR code: a plain HTML form that works without JavaScript.

Also the public QR images and posters of a code, and the page to type a code by hand.
"""

from __future__ import annotations

import dataclasses
import uuid

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import select

from kiosk import callback_offer, phone_window, posters
from kiosk.database import get_session
from kiosk.forms import answers_from_form, response_id_from_form
from kiosk.i18n import current_language
from kiosk.messages import answer_errors
from kiosk.settings import settings
from surveys.db import utcnow
from surveys.errors import (
    AlreadyAnswered,
    Conflict,
    InvalidTransition,
    NotFound,
    ValidationError,
)
from surveys.models import Target
from surveys.qr import qr_png, qr_svg_document
from surveys.responses import ResponseInput, add_answers, second_step
from surveys.spec import SurveySpec
from surveys.targets import TargetRef, load_target, target_status
from surveys.tickets import find_ticket
from surveys.tokens import is_code_shaped, normalise_code

bp = Blueprint("phone", __name__, url_prefix="/s")
bp.after_app_request(phone_window.set_cookie)

#: The response this phone may still add its optional second step to, in the signed session.
SECOND_STEP = "hailong_second_step"
#: Pixels per QR module in the PNG: a ~37-module code becomes 740 px, 6 cm at 300 dpi.
PNG_BOX_SIZE = 20
QR_CACHE = "public, max-age=3600"


def unavailable_page(code: str):
    """Return the friendly page of a code that cannot be answered, with its status."""
    status = target_status(get_session(), code)
    page = render_template("phone/unavailable.html", state=status.state, code=code)
    return page, 410 if status.state == "replaced" else 404


def _target_or_page(code: str):
    """Return (target, spec), or a friendly page when the code is unknown, replaced or off."""
    try:
        return load_target(get_session(), code), None
    except NotFound:
        return None, unavailable_page(code)


def _canonical_redirect(code: str, endpoint: str):
    """Send a typed variant (lower case, spaces, dashes) to the code's one true address."""
    canonical = normalise_code(code)
    if canonical != code and is_code_shaped(canonical):
        return redirect(url_for(endpoint, code=canonical, **request.args))
    return None


#: Rendered questions, by (id of the survey spec, language); the spec is kept beside its markup
#: so an id reused by another object never matches.
_QUESTIONS: dict[tuple[int, str], tuple[SurveySpec, Markup]] = {}


def questions_markup(spec: SurveySpec, lang: str) -> Markup:
    """Return a survey's blank questions in one language, rendered once per process."""
    entry = _QUESTIONS.get((id(spec), lang))
    if entry is None or entry[0] is not spec:
        if len(_QUESTIONS) > 500:
            _QUESTIONS.clear()
        entry = (spec, Markup(render_template("phone/_questions.html", spec=spec)))
        _QUESTIONS[(id(spec), lang)] = entry
    return entry[1]


#: Stand-ins rendered into a kept blank page, replaced per request by the real values.
_CSRF_SLOT = "__hailong_csrf_token__"
_ID_SLOT = "00000000-0000-4000-8000-000000000000"
#: Blank survey pages, by (ids of the target and survey objects, language); both objects are
#: kept beside the page, and a new TargetRef (the cache refreshes it) makes a new page.
_PAGES: dict[tuple[int, int, str], tuple[TargetRef, SurveySpec, str]] = {}


def blank_survey_page(target: TargetRef, spec: SurveySpec) -> str:
    """Return the blank phone survey page: rendered once per code and language, then only its
    CSRF token and response id are written in (the page is most of a citizen's request)."""
    lang = current_language()
    key = (id(target), id(spec), lang)
    entry = _PAGES.get(key)
    if entry is None or entry[0] is not target or entry[1] is not spec:
        if len(_PAGES) > 2000:
            _PAGES.clear()
        html = render_template(
            "phone/survey.html",
            target=target,
            spec=spec,
            response_id=_ID_SLOT,
            selected={},
            errors={},
            questions_html=questions_markup(spec, lang),
            csrf_token=lambda: _CSRF_SLOT,
        )
        entry = _PAGES[key] = (target, spec, html)
    return entry[2].replace(_CSRF_SLOT, generate_csrf()).replace(_ID_SLOT, str(uuid.uuid4()))


def _is_plain_request() -> bool:
    """No query argument but the language, and no message waiting to be shown."""
    return set(request.args) <= {"lang"} and "_flashes" not in session


def survey_page(
    target: TargetRef,
    spec: SurveySpec,
    response_id: uuid.UUID,
    *,
    selected: dict | None = None,
    errors: dict | None = None,
    status: int = 200,
    **extra,
):
    """Render the phone survey form (also the ticket's), fresh or with the citizen's answers."""
    blank = not selected and not errors
    page = render_template(
        "phone/survey.html",
        target=target,
        spec=spec,
        response_id=response_id,
        selected=selected or {},
        errors=errors or {},
        questions_html=questions_markup(spec, current_language()) if blank else None,
        **extra,
    )
    return page, status


@bp.get("")
@bp.get("/")
def enter_code():
    """Let someone who cannot scan type the code printed under the QR code."""
    typed = request.args.get("code")
    if typed is None:
        return render_template("phone/enter_code.html", typed="", error=None)
    canonical = normalise_code(typed)
    if not canonical:
        error, status = _("Please type the code printed under the QR code."), 400
    elif not is_code_shaped(canonical):
        error, status = _("A code has only letters and digits. Please check it."), 400
    else:
        db = get_session()
        if target_status(db, canonical).state != "unknown":
            return redirect(url_for("phone.survey", code=canonical))
        try:
            ticket = find_ticket(db, canonical)
            return redirect(url_for("tickets.survey", code=ticket.code))
        except NotFound:
            error, status = _("No survey or ticket has this code. Please check it."), 404
    return render_template("phone/enter_code.html", typed=typed, error=error), status


@bp.get("/<code>")
def survey(code: str):
    if moved := _canonical_redirect(code, "phone.survey"):
        return moved
    found, page = _target_or_page(code)
    if page:
        return page
    target, spec = found
    if phone_window.answered_recently(target.code):
        return render_template("phone/answered.html", target=target)
    if _is_plain_request():
        return blank_survey_page(target, spec)
    return survey_page(target, spec, uuid.uuid4())


@bp.post("/<code>")
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
    try:
        phone_window.submit_phone_answer(get_session(), payload, channel_label="phone")
    except ValidationError as error:
        return survey_page(
            target, spec, payload.id, selected=answers, errors=answer_errors(error), status=400
        )
    except AlreadyAnswered:
        return render_template("phone/answered.html", target=target), 429
    except Conflict:
        pass  # The citizen went back and changed an answer after sending: the first one counts.
    callback_offer.remember(payload.id, target.code, spec, answers)
    if spec.has_second_step:
        # Stored already: what follows only adds to it, and only from this phone's session.
        session[SECOND_STEP] = {"id": str(payload.id), "code": target.code}
        return redirect(url_for("phone.more", code=target.code))
    return redirect(url_for("phone.thanks", code=target.code))


def _own_response(code: str) -> uuid.UUID | None:
    """Return the response this phone stored for ``code`` and may still add to."""
    step = session.get(SECOND_STEP)
    if not isinstance(step, dict) or step.get("code") != code:
        return None
    try:
        return uuid.UUID(str(step.get("id")))
    except ValueError:
        return None


def _step_spec(spec: SurveySpec, asked: list) -> SurveySpec:
    """Return the survey of the second step: only what the first step opened, so nothing
    depends on a question (the headline) that is not on the page."""
    return dataclasses.replace(
        spec, questions=tuple(dataclasses.replace(q, show_if=None) for q in asked)
    )


def _second_step_page(code: str, *, selected: dict | None = None, errors: dict | None = None):
    """Render the optional second step, or send the citizen to the thank-you when it has
    nothing (left) to ask."""
    response_id = _own_response(code)
    opened = response_id and second_step(
        get_session(), response_id, now=utcnow(), policy=settings().submit
    )
    found, page = _target_or_page(code)
    if page:
        return page
    if not opened or not opened[1]:
        return redirect(url_for("phone.thanks", code=code))
    page = render_template(
        "phone/more.html",
        target=found[0],
        spec=_step_spec(*opened),
        selected=selected or {},
        errors=errors or {},
    )
    return page, 400 if errors else 200


@bp.get("/<code>/more")
def more(code: str):
    """The optional second step: the questions after the headline, for those who care."""
    return _second_step_page(code)


@bp.post("/<code>/more")
def add_more(code: str):
    response_id = _own_response(code)
    opened = response_id and second_step(
        get_session(), response_id, now=utcnow(), policy=settings().submit
    )
    if not opened:
        return redirect(url_for("phone.thanks", code=code))
    answers = answers_from_form(_step_spec(*opened), request.form)
    try:
        add_answers(get_session(), response_id, answers, now=utcnow(), policy=settings().submit)
    except ValidationError as error:
        return _second_step_page(code, selected=answers, errors=answer_errors(error))
    except (Conflict, InvalidTransition, NotFound):
        pass  # Sent twice with other answers, or too late: the first step's rating stands.
    session.pop(SECOND_STEP, None)
    return redirect(url_for("phone.thanks", code=code))


def _thanks_page(code: str, errors: dict | None = None):
    try:
        office_id = load_target(get_session(), code)[0].office_id
    except NotFound:
        office_id = None
    page = render_template(
        "phone/thanks.html",
        code=code,
        callback_action=url_for("phone.callback", code=code),
        **callback_offer.context(code, office_id=office_id, errors=errors),
    )
    return page, 400 if errors else 200


@bp.get("/<code>/thanks")
def thanks(code: str):
    return _thanks_page(code)


@bp.post("/<code>/callback")
def callback(code: str):
    """The thank-you page's call-back form: open a case, or show the form's problems."""
    return callback_offer.answer(code, thanks_endpoint="phone.thanks", page=_thanks_page)


def _printable_target(code: str):
    """Return the active target of a code for a QR image or poster, or stop with its page.

    Replaced and disabled codes render nothing printable: a poster must never be made again
    for a code that no longer works.
    """
    db = get_session()
    try:
        ref, _spec = load_target(db, normalise_code(code))
    except NotFound:
        page, status = unavailable_page(code)
        abort(Response(page, status=status))
    return db.scalar(select(Target).where(Target.id == ref.id))


@bp.get("/<code>/qr.svg")
def qr_svg_file(code: str):
    target = _printable_target(code)
    return Response(
        qr_svg_document(posters.survey_url(target.code)),
        mimetype="image/svg+xml",
        headers={
            "Cache-Control": QR_CACHE,
            "Content-Disposition": f'inline; filename="hailong-{target.code}.svg"',
        },
    )


@bp.get("/<code>/qr.png")
def qr_png_file(code: str):
    target = _printable_target(code)
    return Response(
        qr_png(posters.survey_url(target.code), box_size=PNG_BOX_SIZE),
        mimetype="image/png",
        headers={
            "Cache-Control": QR_CACHE,
            "Content-Disposition": f'inline; filename="hailong-{target.code}.png"',
        },
    )


@bp.get("/<code>/poster")
def poster(code: str):
    """Return the A4 poster of a code, or with ?size=a5 the folded A5 table tent.

    Public: it shows only what the poster on the counter shows anyway.
    """
    target = _printable_target(code)
    size = request.args.get("size", "a4")
    if size not in ("a4", "a5"):
        size = "a4"
    url = posters.survey_url(target.code)
    title, subtitle = posters.place_lines(target)
    return render_template(
        "print/tent.html" if size == "a5" else "print/poster.html",
        target=target,
        title=title,
        subtitle=subtitle,
        url=url,
        short_url=posters.without_scheme(url),
        qr=posters.qr(url, title),
        texts=posters.bilingual_texts(target.kind),
    )


@bp.errorhandler(429)
def too_many(_error):
    return render_template("phone/busy.html"), 429
