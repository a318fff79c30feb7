"""Typed SQLAlchemy models, split by concept; import them from here."""

from surveys.models.account import ApiToken, User
from surveys.models.device import KioskDevice, PairingCode
from surveys.models.org import Counter, Office, Officer, Unit
from surveys.models.response import Answer, Response
from surveys.models.survey import Choice, Question, Survey
from surveys.models.target import Target

__all__ = [
    "Answer",
    "ApiToken",
    "Choice",
    "Counter",
    "KioskDevice",
    "Office",
    "Officer",
    "PairingCode",
    "Question",
    "Response",
    "Survey",
    "Target",
    "Unit",
    "User",
]
