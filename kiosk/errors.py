"""Error pages in both languages, and JSON errors under /api."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from surveys.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
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
}


def domain_status(error: DomainError) -> int:
    return next((s for cls, s in DOMAIN_STATUS.items() if isinstance(error, cls)), 400)


def json_error(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return jsonify(body), status


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


def handle_http_error(error: HTTPException):
    status = error.code or 500
    if wants_json():
        message = error.description if status < 500 else "Internal server error."
        return json_error(status, (error.name or "error").lower().replace(" ", "_"), message)
    return render_error(status)


def handle_csrf_error(error: CSRFError):
    if wants_json():
        return json_error(400, "csrf", error.description)
    return render_error(
        400, _("The form expired or was sent from elsewhere. Please reload the page and try again.")
    )


def handle_domain_error(error: DomainError):
    status = domain_status(error)
    if wants_json():
        return json_error(status, error.code, error.message, error.fields)
    return render_error(status)


def handle_unexpected(error: Exception):
    log.exception("Unhandled error on %s %s", request.method, request.path)
    return handle_http_error(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(Exception, handle_unexpected)
