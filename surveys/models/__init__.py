"""Typed SQLAlchemy models, split by concept; import them from here."""

from surveys.models.account import ApiToken, User
from surveys.models.device import KioskDevice, OfficerShift, PairingCode
from surveys.models.org import Counter, Office, Officer, Unit
from surveys.models.response import Answer, Response
from surveys.models.survey import Choice, Question, Survey
from surveys.models.target import Target
from surveys.models.ticket import Ticket

__all__ = [
    "Answer",
    "ApiToken",
    "Choice",
    "Counter",
    "KioskDevice",
    "Office",
    "OfficerShift",
    "Officer",
    "PairingCode",
    "Question",
    "Response",
    "Survey",
    "Target",
    "Ticket",
    "Unit",
    "User",
]
