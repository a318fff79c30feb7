"""Domain errors, and the machine reasons they give per field.

``message`` is a sentence for logs and the command line; what a citizen or a client reads is
chosen by the web layer from ``code`` and from the reason of each field (see kiosk/messages.py),
so rewording a message here never changes what anyone is shown.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why one field was refused: the value of ``fields[name]`` in every error."""

    REQUIRED = "required"
    TOO_LONG = "too_long"
    TOO_SHORT = "too_short"
    NOT_TEXT = "not_text"
    INVALID_TEXT = "invalid_text"  # a NUL or a lone surrogate: not storable text
    NOT_A_CHOICE = "not_a_choice"  # wrong type for a one-choice question
    NOT_A_LIST = "not_a_list"  # wrong type for a several-choices question
    UNKNOWN_CHOICE = "unknown_choice"
    REPEATED_CHOICE = "repeated_choice"
    UNKNOWN_QUESTION = "unknown_question"
    NOT_ASKED = "not_asked"  # a follow-up answered although its trigger did not open it
    NO_COMMENT = "no_comment"  # the survey has no free-text question for a comment
    UNKNOWN_FIELD = "unknown_field"
    NOT_AN_OBJECT = "not_an_object"
    NOT_JSON = "not_json"
    TOO_DEEP = "too_deep"
    NOT_UUID = "not_uuid"
    NOT_A_DATETIME = "not_a_datetime"  # ISO 8601 with a time zone
    NOT_A_DATE = "not_a_date"  # YYYY-MM-DD
    NOT_AN_INTEGER = "not_an_integer"
    OUT_OF_RANGE = "out_of_range"
    AFTER_END = "after_end"
    IN_FUTURE = "in_future"
    TOO_OLD = "too_old"
    UNKNOWN_LOCALE = "unknown_locale"
    UNKNOWN_CODE = "unknown_code"
    INACTIVE_CODE = "inactive_code"
    NOT_THIS_KIOSK = "not_this_kiosk"
    NOT_FROM_A_KIOSK = "not_from_a_kiosk"
    NOT_THIS_TICKET = "not_this_ticket"
    USED = "used"
    EXPIRED = "expired"
    ALREADY_USED = "already_used"
    ANSWERED_RECENTLY = "answered_recently"
    GUESSABLE = "guessable"
    COMMON_PASSWORD = "common_password"  # on the bundled list of passwords people choose most
    WRONG_PASSWORD = "wrong_password"  # the current password, asked to confirm a change
    WRONG_CODE = "wrong_code"  # a second-factor or recovery code that does not match
    LAST_ADMIN = "last_admin"  # the last active administrator cannot be switched off or demoted
    NOT_DIGITS = "not_digits"
    NOT_IN_OFFICE = "not_in_office"
    NO_ACTIVE_CODE = "no_active_code"
    NOT_IN_SCOPE = "not_in_scope"
    CYCLE = "cycle"  # a unit placed under itself or one of its own sub-units
    IN_USE = "in_use"  # retiring a unit whose offices or sub-units are still in use
    RETIRED = "retired"  # a retired office, counter or officer: it takes no ratings
    UNSAFE_KEY = "unsafe_key"  # a survey, question or choice key: a-z, 0-9, _, a letter first
    TOO_FEW_CHOICES = "too_few_choices"
    ONE_HEADLINE = "one_headline"  # exactly one headline: a scale or one choice, always shown
    NOT_BEST_FIRST = "not_best_first"  # a scale's levels go from positive to negative
    NOT_EARLIER = "not_earlier"  # a follow-up follows an earlier question that has choices
    UNREACHABLE = "unreachable"  # no answer of the question it follows opens the follow-up
    TEXT_HAS_CHOICES = "text_has_choices"
    SHARED_CODE = "shared_code"  # a unit and an office (which share one space of codes)
    ONE_ONLY = "one_only"  # one way to be reached: a phone number or an e-mail, not both
    INVALID = "invalid"


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "invalid"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        #: {field name: Reason}; a field of a nested body is dotted, e.g. "answers.overall".
        self.fields = {name: str(reason) for name, reason in (fields or {}).items()}


class ValidationError(DomainError):
    """Input does not fit the rules; ``fields`` names each offending field and why."""

    code = "validation_error"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    """The request contradicts what is already stored (same id, other body)."""

    code = "conflict"


class PermissionDenied(DomainError):
    code = "forbidden"


class InvalidTransition(DomainError):
    """A state change that is not allowed from the current state."""

    code = "invalid_transition"


class AlreadyExists(InvalidTransition):
    """Something with this code exists already (a 409, as creating it twice would be)."""

    code = "already_exists"


class TicketUsed(InvalidTransition):
    """A one-time ticket that already carried a response."""

    code = "ticket_used"


class TicketExpired(InvalidTransition):
    """A ticket past its expiry time."""

    code = "ticket_expired"


class AlreadyAnswered(DomainError):
    """This phone already gave a counted answer to this code a short while ago."""

    code = "already_answered"


class PinSetupRequired(DomainError):
    """An officer signed in with the setup code of a reset: they choose their own PIN first."""

    code = "pin_setup_required"


class Throttled(DomainError):
    """Too many failed attempts: wait ``retry_after`` seconds (never a permanent lockout)."""

    code = "throttled"

    def __init__(self, message: str, retry_after: int, fields: dict[str, str] | None = None):
        super().__init__(message, fields)
        self.retry_after = max(1, int(retry_after))


class PinLocked(Throttled):
    """An officer's PIN sign-in is locked after too many wrong PINs (a badge still works)."""

    code = "pin_locked"


class WrongCredentials(DomainError):
    """Credentials that let nobody in here; the message never says which part was wrong."""

    code = "wrong_credentials"
