"""Domain errors; the web layer maps each to a form error or a JSON error with a status."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "invalid"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationError(DomainError):
    """Input does not fit the rules; ``fields`` names each offending field."""

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


class TicketUsed(InvalidTransition):
    """A one-time ticket that already carried a response."""

    code = "ticket_used"


class TicketExpired(InvalidTransition):
    """A ticket past its expiry time."""

    code = "ticket_expired"


class WrongCredentials(DomainError):
    """Credentials that let nobody in here; the message never says which part was wrong."""

    code = "wrong_credentials"
