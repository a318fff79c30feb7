"""Human words for machine reasons, in the reader's language.

The domain raises errors with a stable ``code`` and a Reason per field (surveys/errors.py);
this module is the one place that turns them into sentences. A citizen's form shows
``answer_message``; an administrator's form ``field_message``; a JSON client gets the stable
codes plus ``error_message`` in the language of its request.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from surveys.errors import DomainError, Reason

#: What a citizen reads under a question of the survey form.
_ANSWER_MESSAGES = {
    Reason.REQUIRED: _l("Please choose an answer."),
    Reason.TOO_LONG: _l("This text is too long."),
    Reason.INVALID_TEXT: _l("This text contains characters that cannot be stored."),
}
_ANSWER_DEFAULT = _l("This answer is not valid; please choose again.")

#: What anyone reads under a field of a form, or in an API error's message.
_FIELD_MESSAGES = {
    Reason.REQUIRED: _l("This is required."),
    Reason.TOO_LONG: _l("This is too long."),
    Reason.TOO_SHORT: _l("This is too short."),
    Reason.NOT_TEXT: _l("This must be text."),
    Reason.INVALID_TEXT: _l("This contains characters that cannot be stored."),
    Reason.NOT_AN_INTEGER: _l("This must be a whole number."),
    Reason.OUT_OF_RANGE: _l("This number is out of the allowed range."),
    Reason.NOT_A_DATE: _l("This must be a date written as YYYY-MM-DD."),
    Reason.NOT_A_DATETIME: _l("This must be a date and time with its time zone."),
    Reason.UNKNOWN_CODE: _l("No such code."),
    Reason.INACTIVE_CODE: _l("This code is not in use."),
    Reason.NOT_IN_OFFICE: _l("Choose one of this office."),
    Reason.NO_ACTIVE_CODE: _l("This place has no survey code in use: enable one first."),
    Reason.NOT_DIGITS: _l("Use digits only."),
    Reason.GUESSABLE: _l("This is too easy to guess; avoid repeated or consecutive digits."),
    Reason.COMMON_PASSWORD: _l(
        "This password is one of those people use most: choose another, a sentence is best."
    ),
    Reason.WRONG_PASSWORD: _l("This is not your current password."),
    Reason.WRONG_CODE: _l("This code is wrong."),
    Reason.LAST_ADMIN: _l(
        "The last administrator of the whole city cannot be switched off or demoted."
    ),
    Reason.ALREADY_USED: _l("This is already in use."),
    Reason.NOT_IN_SCOPE: _l("This is outside your scope."),
    Reason.CYCLE: _l("A unit cannot be placed under itself or one of its sub-units."),
    Reason.IN_USE: _l("Retire or move its offices and sub-units first."),
    Reason.RETIRED: _l("This is retired: reactivate it first."),
    Reason.UNSAFE_KEY: _l(
        "Use lower-case letters without accents, digits and underscores, starting with a letter."
    ),
    Reason.TOO_FEW_CHOICES: _l(
        "A scale or one-choice question needs at least two choices; several-choice, at least one."
    ),
    Reason.ONE_HEADLINE: _l(
        "A survey has exactly one headline question: a scale or one-choice question that is "
        "always shown."
    ),
    Reason.NOT_BEST_FIRST: _l(
        "List a scale's levels best first: positive ones, then neutral, then negative."
    ),
    Reason.NOT_EARLIER: _l("A follow-up follows an earlier question that has choices."),
    Reason.UNREACHABLE: _l("No answer of that kind exists in the question it follows."),
    Reason.TEXT_HAS_CHOICES: _l(
        "A free-text question has no choices: remove them or change its kind."
    ),
}
_FIELD_DEFAULT = _l("This value is not valid.")

#: The message of a JSON error, by its code.
_ERROR_MESSAGES = {
    "validation_error": _l("The request is not valid; see the fields."),
    "not_found": _l("Nothing with this code was found."),
    "conflict": _l("This contradicts what is already stored."),
    "forbidden": _l("You may not do this."),
    "invalid_transition": _l("This cannot be done in the current state."),
    "ticket_used": _l("This ticket was already used."),
    "ticket_expired": _l("This ticket has expired."),
    "already_answered": _l("This phone already rated this code a short while ago."),
    "wrong_credentials": _l("Wrong officer code, PIN or badge."),
    "pin_setup_required": _l("Choose your own PIN now."),
    "unknown_device": _l("This kiosk is not paired or was revoked."),
    "unauthorized": _l("Sign in or send 'Authorization: Bearer API_TOKEN'."),
    "token_expired": _l("This API token has expired: make a new one on your account page."),
    "insufficient_scope": _l("This API token may not do this: make one with a wider scope."),
    "throttled": _l("Too many failed attempts; wait before trying again."),
    "pin_locked": _l(
        "Too many wrong PINs for this officer: PIN sign-in is locked for a while. "
        "Sign in with the badge, or wait."
    ),
    "unavailable": _l("The service is briefly unavailable; please try again in a moment."),
    "too_many_requests": _l("Too many requests; please wait a moment."),
    "method_not_allowed": _l("This address does not accept that method."),
    "request_entity_too_large": _l("What was sent is too large."),
    "internal_server_error": _l("Something went wrong on our side."),
    "csrf": _l(
        "The form expired or was sent from elsewhere. Please reload the page and try again."
    ),
}


def answer_message(reason: str) -> str:
    return str(_ANSWER_MESSAGES.get(reason, _ANSWER_DEFAULT))


def answer_errors(error: DomainError) -> dict[str, str]:
    """Return a citizen-readable message per question key of a survey form."""
    return {
        field.removeprefix("answers."): answer_message(reason)
        for field, reason in error.fields.items()
    }


def field_message(reason: str) -> str:
    return str(_FIELD_MESSAGES.get(reason, _FIELD_DEFAULT))


def field_errors(error: DomainError) -> dict[str, str]:
    """Return a readable message per field of an administration form."""
    return {field: field_message(reason) for field, reason in error.fields.items()}


def error_message(code: str, fallback: str | None = None) -> str:
    """Return the message of a JSON error in the request's language."""
    message = _ERROR_MESSAGES.get(code)
    if message is None:
        return fallback or _("The request could not be completed.")
    return str(message)
