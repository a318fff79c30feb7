"""Validating a citizen's answers against their survey and storing them once."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from surveys.errors import Conflict, NotFound, PermissionDenied, ValidationError
from surveys.models import Answer, KioskDevice, Response, Survey, Target
from surveys.models.survey import POLARITY_VALUE
from surveys.officers import officer_for_rating
from surveys.spec import SurveySpec, survey_spec
from surveys.tokens import normalise_code

LOCALES = ("vi", "en")
#: Kiosk clocks drift; a timestamp this far ahead of the server is still accepted.
CLOCK_SKEW = timedelta(minutes=5)
#: How old a kiosk's queued rating may be when it finally reaches the server.
KIOSK_MAX_AGE = timedelta(days=7)
#: A phone submits as it answers; anything older is not a live answer.
PHONE_MAX_AGE = timedelta(hours=1)


@dataclass(frozen=True)
class ResponseInput:
    """A submission as the client sent it, before validation against a survey."""

    id: uuid.UUID
    target_code: str
    answers: dict[str, Any]
    locale: str = "vi"
    comment: str | None = None
    submitted_at: datetime | None = None
    #: The one-time ticket this response redeems (its survey is the ticket's).
    ticket_code: str | None = None

    def body_hash(self) -> str:
        """Return a digest of everything the client said, to recognise a replay."""
        canonical = {
            "target": self.target_code,
            "answers": {
                k: sorted(v) if isinstance(v, list) else v for k, v in sorted(self.answers.items())
            },
            "comment": self.comment or None,
            "locale": self.locale,
            "submitted_at": self.submitted_at.isoformat() if self.submitted_at else None,
        }
        if self.ticket_code:
            # Only when present, so the digests of responses without a ticket never change.
            canonical["ticket"] = self.ticket_code
        encoded = json.dumps(canonical, ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(encoded.encode()).hexdigest()


def parse_response_input(data: Any) -> ResponseInput:
    """Turn a decoded JSON body into a ResponseInput, naming every malformed field."""
    if not isinstance(data, dict):
        raise ValidationError("The body must be a JSON object.", {"body": "not an object"})
    errors: dict[str, str] = {}
    try:
        response_id = uuid.UUID(str(data.get("id", "")))
    except ValueError:
        errors["id"] = "must be a UUID"
        response_id = None
    target = data.get("target")
    ticket = data.get("ticket")
    if ticket is not None and (not isinstance(ticket, str) or not ticket.strip()):
        errors["ticket"] = "must be a ticket code"
    if ticket is not None and target is None:
        target = ""  # a ticket names its own survey
    elif not isinstance(target, str) or not target.strip():
        errors["target"] = "must be a target code"
    answers = data.get("answers")
    if not isinstance(answers, dict):
        errors["answers"] = "must be an object of question key to answer"
    locale = data.get("locale", "vi")
    if locale not in LOCALES:
        errors["locale"] = "must be 'vi' or 'en'"
    comment = data.get("comment")
    if comment is not None and not isinstance(comment, str):
        errors["comment"] = "must be text"
    submitted_at = None
    raw_time = data.get("submitted_at")
    if raw_time is not None:
        submitted_at = _parse_time(raw_time)
        if submitted_at is None:
            errors["submitted_at"] = "must be an ISO-8601 date-time with a time zone"
    unknown = set(data) - {"id", "target", "ticket", "answers", "locale", "comment", "submitted_at"}
    for key in sorted(unknown):
        errors[key] = "unknown field"
    if errors:
        raise ValidationError("The response is not valid.", errors)
    return ResponseInput(
        id=response_id,
        target_code=target.strip().upper(),
        answers=answers,
        locale=locale,
        comment=comment,
        submitted_at=submitted_at,
        ticket_code=normalise_code(ticket) if isinstance(ticket, str) else None,
    )


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(UTC).replace(tzinfo=None)


def validate_answers(spec: SurveySpec, answers: dict[str, Any], comment: str | None = None):
    """Check answers against the survey; return [(question, choice ids or text)] to store.

    Raises ValidationError naming each field: unknown question or choice, wrong type, a
    follow-up answered without its trigger, a missing headline or required answer, a text
    over its limit.
    """
    errors: dict[str, str] = {}
    answers = dict(answers)
    if comment:
        target_question = spec.comment_question
        if target_question is None:
            errors["comment"] = "this survey takes no comment"
        elif answers.get(target_question.key) not in (None, "", comment):
            errors["comment"] = f"conflicts with answers.{target_question.key}"
        else:
            answers[target_question.key] = comment

    rows: list[tuple[Any, list[int] | str]] = []
    for key, value in answers.items():
        question = spec.question(key)
        field = f"answers.{key}"
        if question is None:
            errors[field] = "unknown question"
            continue
        if question.kind in ("scale", "choice"):
            if not isinstance(value, str):
                errors[field] = "must be one choice key"
            elif value not in question.by_key:
                errors[field] = f"unknown choice '{value}'"
            else:
                rows.append((question, [question.by_key[value].id]))
        elif question.kind == "multi":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors[field] = "must be a list of choice keys"
            elif unknown := [v for v in value if v not in question.by_key]:
                errors[field] = f"unknown choice '{unknown[0]}'"
            elif len(set(value)) != len(value):
                errors[field] = "a choice is listed twice"
            elif value:
                rows.append((question, [question.by_key[v].id for v in value]))
        else:
            if not isinstance(value, str):
                errors[field] = "must be text"
            elif len(value) > (question.max_length or 1000):
                errors[field] = f"longer than {question.max_length or 1000} characters"
            elif value.strip():
                rows.append((question, value.strip()))

    valid = {q.key: answers[q.key] for q, _ in rows}
    for question, _ in rows:
        if not spec.is_shown(question, valid):
            trigger = question.show_if["question"]
            errors[f"answers.{question.key}"] = f"only asked after a negative '{trigger}'"
    headline = spec.headline
    if headline.key not in valid and f"answers.{headline.key}" not in errors:
        errors[f"answers.{headline.key}"] = "the headline question must be answered"
    for question in spec.questions:
        field = f"answers.{question.key}"
        if question.is_required and question.key not in valid and field not in errors:
            if spec.is_shown(question, valid):
                errors[field] = "required"
    if errors:
        raise ValidationError("The answers do not fit the survey.", errors)
    return rows


def drop_hidden_answers(spec: SurveySpec, answers: dict[str, Any]) -> dict[str, Any]:
    """Return answers without those to questions their trigger did not open.

    The no-JavaScript phone form shows every question at once; a reason ticked before the
    citizen changed their overall answer to a positive one is simply not asked.
    """
    return {
        k: v
        for k, v in answers.items()
        if (q := spec.question(k)) is None or spec.is_shown(q, answers)
    }


@dataclass(frozen=True)
class Recorded:
    id: uuid.UUID
    is_new: bool


def load_target(session: Session, code: str) -> tuple[Target, SurveySpec]:
    """Return an active target and its survey spec, or raise NotFound."""
    row = session.execute(
        select(Target, Survey.created_at)
        .join(Survey, Survey.id == Target.survey_id)
        .where(Target.code == code.strip().upper())
    ).one_or_none()
    if row is None:
        raise NotFound("No survey has this code.", {"target": "unknown code"})
    target, created_at = row
    if not target.is_active:
        raise NotFound("This survey code is no longer in use.", {"target": "inactive code"})
    return target, survey_spec(session, target.survey_id, created_at)


def record_response(
    session: Session,
    payload: ResponseInput,
    *,
    now: datetime,
    channel: str,
    device: KioskDevice | None = None,
    officer_id: int | None = None,
    is_verified: bool = False,
    ticket_id: int | None = None,
    target_code: str | None = None,
) -> Recorded:
    """Validate and store one response; a replay of a stored one returns it unchanged.

    Flushes but does not commit. When two requests with the same id race, the second one's
    flush raises IntegrityError; the caller rolls back and calls ``find_replay``.
    ``target_code`` overrides the payload's (a ticket's survey); ``ticket_id`` links the ticket.
    """
    body_hash = payload.body_hash()
    existing = find_replay(session, payload.id, body_hash)
    if existing is not None:
        return existing

    target, spec = load_target(session, target_code or payload.target_code)
    if device is not None and device.counter_id != target.counter_id:
        raise PermissionDenied(
            "This kiosk may only send ratings for its own counter.", {"target": "not this kiosk's"}
        )
    submitted_at = _check_time(payload.submitted_at, now, device is not None)
    rows = validate_answers(spec, payload.answers, payload.comment)
    headline_choice = next(
        spec.headline.by_key[payload.answers[spec.headline.key]] for q, _ in rows if q.is_headline
    )
    # An officer's own code wins; else whoever was signed in on the kiosk when the citizen rated.
    officer_id = target.officer_id or officer_id
    if officer_id is None and device is not None:
        officer_id = officer_for_rating(session, device, submitted_at=submitted_at, now=now)
    # Core inserts on the tables: the ORM's bulk machinery costs more than the database here.
    session.execute(
        insert(Response.__table__).values(
            id=payload.id,
            target_id=target.id,
            survey_id=spec.id,
            office_id=target.office_id,
            counter_id=target.counter_id,
            officer_id=officer_id,
            device_id=device.id if device else None,
            channel=channel,
            locale=payload.locale,
            submitted_at=submitted_at,
            received_at=now,
            headline_polarity=POLARITY_VALUE[headline_choice.polarity],
            is_verified=is_verified,
            ticket_id=ticket_id,
            body_hash=body_hash,
        )
    )
    # Every row names the same columns, so the answers go in one executemany.
    answer_rows = []
    for question, value in rows:
        if isinstance(value, str):
            answer_rows.append(
                {
                    "response_id": payload.id,
                    "question_id": question.id,
                    "choice_id": None,
                    "text": value,
                }
            )
        else:
            answer_rows.extend(
                {
                    "response_id": payload.id,
                    "question_id": question.id,
                    "choice_id": choice_id,
                    "text": None,
                }
                for choice_id in value
            )
    session.execute(insert(Answer.__table__), answer_rows)
    return Recorded(payload.id, True)


def find_replay(session: Session, response_id: uuid.UUID, body_hash: str) -> Recorded | None:
    """Return the stored response with this id if the body matches; raise Conflict if not."""
    stored_hash = session.scalar(select(Response.body_hash).where(Response.id == response_id))
    if stored_hash is None:
        return None
    if stored_hash != body_hash:
        raise Conflict(
            "A different response was already stored under this id.", {"id": "already used"}
        )
    return Recorded(response_id, False)


def _check_time(submitted_at: datetime | None, now: datetime, is_kiosk: bool) -> datetime:
    if submitted_at is None:
        return now
    if submitted_at > now + CLOCK_SKEW:
        raise ValidationError(
            "The response is dated in the future.", {"submitted_at": "in the future"}
        )
    max_age = KIOSK_MAX_AGE if is_kiosk else PHONE_MAX_AGE
    if submitted_at < now - max_age:
        raise ValidationError(
            "The response is too old to be accepted.", {"submitted_at": f"older than {max_age}"}
        )
    return submitted_at
