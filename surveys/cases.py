"""Call-back cases (closing the loop): after a negative rating the citizen may leave a phone
number or an e-mail address, with explicit consent, to be contacted again.

A case is open → contacted → resolved, each step with who, when and a note. It is due a
number of working days after it was opened (CASE_DUE_WORKING_DAYS, default 3); an overdue
case raises the alert ``case_overdue`` (rule 5). The contact is shown only to the office's
managers, masked everywhere else, never exported nor sent to a webhook, and erased
CASE_ERASE_DAYS (default 30) after the case is resolved.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from surveys import alerts, audit, webhooks
from surveys.accounts import visible_offices
from surveys.errors import InvalidTransition, NotFound, PermissionDenied, Reason, ValidationError
from surveys.models import CallbackCase, Office, Response, User
from surveys.periods import to_local

_PHONE = re.compile(r"^\+?[0-9][0-9 .-]{6,18}[0-9]$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
#: A call-back is asked for right after the rating, on the same screen.
ASK_WINDOW = timedelta(hours=24)
NOTE_MAX = 1000
NEXT_STATE = {"open": "contacted", "contacted": "resolved"}


@dataclass(frozen=True)
class CasePolicy:
    due_working_days: int = 3
    erase_after: timedelta = timedelta(days=30)


def add_working_days(start: datetime, days: int, timezone: str) -> datetime:
    """Return ``start`` moved on by ``days`` working days (Monday to Friday, local)."""
    moment = start
    left = days
    while left > 0:
        moment += timedelta(days=1)
        if to_local(moment, timezone).weekday() < 5:
            left -= 1
    return moment


def mask(contact: str | None, kind: str) -> str:
    """Return a contact as anyone but the office's managers sees it."""
    if not contact:
        return "—"
    if kind == "email":
        name, _, domain = contact.partition("@")
        return f"{name[:1]}***@{domain}"
    digits = re.sub(r"\D", "", contact)
    return "*" * max(len(digits) - 3, 3) + digits[-3:]


def case_data(case: CallbackCase) -> dict:
    """What a webhook receives about a case: never the contact."""
    return {
        "case": case.id,
        "office": {"code": case.office.code, "name": case.office.name},
        "status": case.status,
        "opened_at": case.opened_at.isoformat(timespec="seconds") + "Z",
        "due_at": case.due_at.isoformat(timespec="seconds") + "Z",
    }


def open_case(
    session: Session,
    response_id: uuid.UUID,
    *,
    phone: str | None,
    email: str | None,
    consent: bool,
    now: datetime,
    policy: CasePolicy = CasePolicy(),
) -> CallbackCase:
    """Open a case for a negative rating whose author left a contact and consented.

    Everything is checked before anything is written, so a caller may report a refusal and
    still commit the rest of its work (the rating a kiosk sends with its call-back)."""
    problems: dict[str, Reason] = {}
    phone, email = (phone or "").strip(), (email or "").strip()
    if not consent:
        problems["consent"] = Reason.REQUIRED
    if not phone and not email:
        problems["phone"] = Reason.REQUIRED
    elif phone and email:
        problems["email"] = Reason.ONE_ONLY
    elif phone and not _PHONE.match(phone):
        problems["phone"] = Reason.INVALID
    elif email and (len(email) > 254 or not _EMAIL.match(email)):
        problems["email"] = Reason.INVALID
    if problems:
        raise ValidationError("The call-back request is not complete.", problems)
    response = session.get(Response, response_id)
    if response is None:
        raise NotFound("No such response.", {"id": Reason.UNKNOWN_CODE})
    if response.headline_polarity >= 0:
        raise InvalidTransition("Call-backs follow unhappy ratings only.", {"id": Reason.INVALID})
    if response.received_at < now - ASK_WINDOW:
        raise InvalidTransition("This rating is too old for a call-back.", {"id": Reason.TOO_OLD})
    if session.scalar(select(CallbackCase.id).where(CallbackCase.response_id == response_id)):
        raise InvalidTransition("A call-back was already asked for.", {"id": Reason.ALREADY_USED})
    office = session.get(Office, response.office_id)
    case = CallbackCase(
        office_id=office.id,
        response_id=response_id,
        counter_id=response.counter_id,
        contact_kind="phone" if phone else "email",
        contact=phone or email,
        consent_at=now,
        status="open",
        opened_at=now,
        due_at=add_working_days(now, policy.due_working_days, office.timezone),
    )
    session.add(case)
    session.flush()
    webhooks.publish(session, "case.opened", case_data(case), now=now)
    return case


def cases_query(actor: User):
    offices = visible_offices(actor).with_only_columns(Office.id).order_by(None)
    return (
        select(CallbackCase)
        .where(CallbackCase.office_id.in_(offices))
        .order_by(CallbackCase.status == "resolved", CallbackCase.due_at, CallbackCase.id)
    )


def advance(
    session: Session, actor: User, case_id: int, *, to: str, note: str, now: datetime
) -> CallbackCase:
    """Move a case one step on (open → contacted → resolved), with who, when and a note."""
    if actor.role not in ("admin", "manager"):
        raise PermissionDenied("Only managers handle call-backs.")
    case = session.get(CallbackCase, case_id) if 0 < case_id < 2**31 else None
    if case is None:
        raise NotFound("No such case.")
    if session.scalar(cases_query(actor).where(CallbackCase.id == case_id)) is None:
        raise PermissionDenied("This case is of an office outside your scope.")
    if NEXT_STATE.get(case.status) != to:
        raise InvalidTransition("A case goes open → contacted → resolved.")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError("The note is too long.", {"note": Reason.TOO_LONG})
    if to == "contacted":
        case.contacted_at, case.contacted_by_id, case.contacted_note = now, actor.id, note
    else:
        case.resolved_at, case.resolved_by_id, case.resolved_note = now, actor.id, note
        alerts.close_episode(session, case.office_id, "case_overdue", f"case:{case.id}", now)
    case.status = to
    session.flush()
    audit.record(
        session,
        actor,
        f"case.{to}",
        now=now,
        subject_type="case",
        subject=str(case.id),
        after={"note": note},
    )
    webhooks.publish(session, "case.updated", case_data(case), now=now)
    return case


def check_overdue(session: Session, *, now: datetime) -> int:
    """Rule 5: raise ``case_overdue`` once for each unresolved case past its due time."""
    raised = 0
    for case in session.scalars(
        select(CallbackCase).where(CallbackCase.status != "resolved", CallbackCase.due_at < now)
    ):
        office = session.get(Office, case.office_id)
        if not alerts.rule_settings(session, office, "case_overdue").is_enabled:
            continue
        alert = alerts.raise_alert(
            session,
            office,
            "case_overdue",
            now=now,
            figures={
                "case": case.id,
                "status": case.status,
                "due_at": case.due_at.isoformat(timespec="seconds") + "Z",
            },
            episode_key=f"case:{case.id}",
            counter_id=case.counter_id,
            ends_on_acknowledgement=False,
        )
        raised += alert is not None
    return raised


def erase_contacts(session: Session, *, now: datetime, policy: CasePolicy = CasePolicy()) -> int:
    """Erase the contact of every case resolved ``erase_after`` ago; return how many."""
    return session.execute(
        update(CallbackCase)
        .where(
            CallbackCase.status == "resolved",
            CallbackCase.resolved_at < now - policy.erase_after,
            CallbackCase.contact.is_not(None),
        )
        .values(contact=None, erased_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
