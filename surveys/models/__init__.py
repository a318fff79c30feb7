"""Typed SQLAlchemy models, split by concept; import them from here."""

from surveys.models.account import ApiToken, RecoveryCode, SignInThrottle, User, UserSession
from surveys.models.alerts import (
    Alert,
    AlertRule,
    DigestOptOut,
    JobRun,
    OutboxMessage,
    PublishedAction,
    Webhook,
)
from surveys.models.audit import AuditEntry
from surveys.models.cases import CallbackCase
from surveys.models.comment import CommentReview
from surveys.models.device import KioskDevice, OfficerShift, PairingCode
from surveys.models.imports import OrgImport
from surveys.models.org import Counter, Office, Officer, Unit, officer_counter
from surveys.models.response import Answer, Response
from surveys.models.rollup import Rollup
from surveys.models.survey import Choice, Question, Survey, SurveyAssignment
from surveys.models.target import Target
from surveys.models.ticket import Ticket

__all__ = [
    "CallbackCase",
    "Alert",
    "AlertRule",
    "Answer",
    "ApiToken",
    "AuditEntry",
    "Choice",
    "CommentReview",
    "Counter",
    "DigestOptOut",
    "JobRun",
    "KioskDevice",
    "Office",
    "OfficerShift",
    "Officer",
    "OrgImport",
    "OutboxMessage",
    "PairingCode",
    "PublishedAction",
    "Question",
    "RecoveryCode",
    "Response",
    "Rollup",
    "SignInThrottle",
    "Survey",
    "SurveyAssignment",
    "Target",
    "Ticket",
    "Unit",
    "User",
    "UserSession",
    "Webhook",
    "officer_counter",
]
