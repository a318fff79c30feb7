"""Error answers: JSON under /api, a calm page in the reader's language elsewhere. Never a 500
for what a client sent, and a 503 with Retry-After while the database is unreachable."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from kiosk.messages import error_message
from kiosk.settings import settings
from surveys.errors import (
    AlreadyAnswered,
    Conflict,
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    PinSetupRequired,
    Throttled,
    ValidationError,
    WrongCredentials,
)

log = logging.getLogger(__name__)

DOMAIN_STATUS = {
    ValidationError: 400,
    WrongCredentials: 401,
    PermissionDenied: 403,
    NotFound: 404,
    InvalidTransition: 409,
    Conflict: 422,
    AlreadyAnswered: 429,
    PinSetupRequired: 409,
    Throttled: 429,
}
#: Headers of an HTTP error that its JSON or page must keep (Allow on a 405, Retry-After...).
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def domain_status(error: DomainError) -> int:
    return next((s for cls, s in DOMAIN_STATUS.items() if isinstance(error, cls)), 400)


def error_body(code: str, message: str | None = None, fields: dict | None = None) -> dict:
    """Return the error of the contract: {"error": {"code", "message", "fields"}}."""
    return {
        "error": {
            "code": code,
            "message": message or error_message(code),
            "fields": fields or {},
        }
    }


def json_error(status: int, code: str, message: str | None = None, fields: dict | None = None):
    """Return the JSON error answer of the contract."""
    return jsonify(error_body(code, message, fields)), status


def wants_json() -> bool:
    return request.path.startswith("/api/")


def page_texts(status: int) -> tuple[str, str]:
    """Return the title and explanation of an error page, in the request's language."""
    texts = {
        400: (_("The request could not be understood"), _("Please go back and try again.")),
        401: (_("Please sign in"), _("This page is for signed-in staff.")),
        403: (_("Access denied"), _("You do not have permission to see this page.")),
        404: (_("Page not found"), _("The address may be mistyped, or the page no longer exists.")),
        405: (_("Not allowed"), _("This address does not accept that kind of request.")),
        409: (_("Not possible now"), _("This action cannot be done in the current state.")),
        413: (_("Too much data"), _("What was sent is too large.")),
        422: (_("Conflict"), _("This contradicts what is already stored.")),
        429: (
            _("Too many attempts"),
            _("Please wait a moment before trying again."),
        ),
        500: (
            _("Something went wrong on our side"),
            _("Please try again in a moment. If it keeps happening, tell the staff."),
        ),
        503: (
            _("Briefly unavailable"),
            _("The service is catching its breath. Please try again in a moment."),
        ),
    }
    return texts.get(status, texts[400] if status < 500 else texts[500])


def render_error(status: int, message: str | None = None):
    title, explanation = page_texts(status)
    return (
        render_template(
            "errors/error.html", status=status, title=title, explanation=message or explanation
        ),
        status,
    )


def _with_headers(result, error: HTTPException) -> Response:
    response = current_app.make_response(result)
    for name, value in error.get_headers():
        if name in _KEPT_HEADERS:
            response.headers[name] = value
    return response


def handle_http_error(error: HTTPException):
    status = error.code or 500
    if wants_json():
        code = (error.name or "error").lower().replace(" ", "_")
        # Werkzeug's descriptions are English: a code without words of ours gets the
        # explanation of its error page, in the request's language.
        fallback = page_texts(status)[1]
        return _with_headers(json_error(status, code, error_message(code, fallback)), error)
    return _with_headers(render_error(status), error)


def handle_csrf_error(error: CSRFError):
    if wants_json():
        return json_error(400, "csrf")
    return render_error(
        400, _("The form expired or was sent from elsewhere. Please reload the page and try again.")
    )


def handle_domain_error(error: DomainError):
    status = domain_status(error)
    if wants_json():
        response = current_app.make_response(json_error(status, error.code, None, error.fields))
    else:
        response = current_app.make_response(render_error(status))
    if isinstance(error, Throttled):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _unavailable():
    retry_after = str(settings().retry_after_seconds)
    response = current_app.make_response(
        json_error(503, "unavailable") if wants_json() else render_error(503)
    )
    response.headers["Retry-After"] = retry_after
    response.headers["Cache-Control"] = "no-store"
    return response


def handle_database_error(error: DBAPIError):
    """The database is down, restarting or too busy: 503 and a time to retry, never a 500."""
    if isinstance(error, IntegrityError):
        log.warning("Constraint refused %s %s: %s", request.method, request.path, error.orig)
        if wants_json():
            return json_error(409, "conflict")
        return render_error(409)
    if isinstance(error, DataError):
        # Input the boundary should have refused; say so, and keep the trace for a fix.
        log.error("Data refused by the database on %s %s", request.method, request.path)
        if wants_json():
            return json_error(400, "validation_error")
        return render_error(400)
    if isinstance(error, OperationalError) or error.connection_invalidated:
        log.warning("Database unavailable on %s %s: %s", request.method, request.path, error)
        return _unavailable()
    return handle_unexpected(error)


def handle_pool_timeout(_error: PoolTimeout):
    log.warning("No database connection free for %s %s", request.method, request.path)
    return _unavailable()


def handle_unexpected(error: Exception):
    original = getattr(error, "original_exception", None)
    if isinstance(original, DBAPIError | PoolTimeout):
        return (
            handle_database_error(original)
            if isinstance(original, DBAPIError)
            else handle_pool_timeout(original)
        )
    log.exception("Unhandled error on %s %s", request.method, request.path)
    return handle_http_error(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(PoolTimeout, handle_pool_timeout)
    app.register_error_handler(Exception, handle_unexpected)
