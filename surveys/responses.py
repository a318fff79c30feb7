"""One door for every rating: checking a citizen's answers and storing them exactly once.

``submit_response`` is the only way a response enters the database, whatever the channel: the
phone form, the no-JavaScript kiosk form, the ticket form and the JSON API all call it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Insert, insert, select
from sqlalchemy.orm import Session

from surveys import alerts, rollups
from surveys.errors import (
    AlreadyAnswered,
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    Reason,
    TicketUsed,
    ValidationError,
)
from surveys.figures import ANSWERED
from surveys.models import Answer, KioskDevice, Response
from surveys.models.survey import POLARITY_VALUE
from surveys.officers import LIVE_WINDOW, officer_for_rating
from surveys.periods import to_local
from surveys.spec import QuestionSpec, SurveySpec, survey_spec
from surveys.targets import TargetRef, load_target
from surveys.tickets import claim_ticket, ticket_for_response

LOCALES = ("vi", "en")
CHANNELS = ("kiosk", "qr", "ticket")
#: Longest free text when a question does not set its own limit.
DEFAULT_TEXT_LIMIT = 1000


@dataclass(frozen=True)
class SubmitPolicy:
    """How far a response's own timestamp may stray from the server's clock."""

    #: Kiosk clocks drift; a timestamp this far ahead of the server is still accepted.
    clock_skew: timedelta = timedelta(minutes=5)
    #: How old a kiosk's queued rating may be when it finally reaches the server.
    kiosk_max_age: timedelta = timedelta(days=7)
    #: A phone submits as it answers; anything older is not a live answer.
    phone_max_age: timedelta = timedelta(hours=1)
    #: How long after its first step a phone response still takes its optional second step.
    second_step_window: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class ResponseInput:
    """A submission as the client sent it, before it is checked against a survey."""

    id: uuid.UUID
    #: The code answered; empty when a ticket names the survey.
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
        return hashlib.sha256(encoded.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Submission:
    """What happened to a submitted response."""

    id: uuid.UUID
    #: False when this was a replay of a response stored before (nothing new was stored).
    is_new: bool
    target: TargetRef
    channel: str
    #: Held back from the figures until an administrator accepts it.
    is_suspect: bool = False


#: Called with the target of a new live rating; True means the code is over its ceiling.
CeilingCheck = Callable[[TargetRef], bool]


def submit_response(
    session: Session,
    payload: ResponseInput,
    *,
    now: datetime,
    policy: SubmitPolicy = SubmitPolicy(),
    device: KioskDevice | None = None,
    replay_only: bool = False,
    over_ceiling: CeilingCheck | None = None,
) -> Submission:
    """Store one citizen's response exactly once; flush, never commit.

    The channel follows from what came in: "ticket" when the payload redeems a ticket, "kiosk"
    with a paired ``device``, else "qr". The same id with the same body again returns the
    stored result (``is_new`` False); with another body it raises Conflict. Two copies that
    arrive at the same instant are told apart by the database: the insert does nothing on an
    existing id, and the loser reads the winner's row (its transaction is never aborted, so
    whatever else the request writes, such as an outbox row, stays valid).

    ``replay_only``: this client may not add a new answer now (the phone window); a replay is
    still acknowledged, anything else raises AlreadyAnswered. ``over_ceiling`` decides, for
    a new live rating, whether its code is over its hourly ceiling: such a rating is stored
    but held as suspect. Raises ValidationError, NotFound, PermissionDenied, TicketUsed,
    TicketExpired, Conflict or AlreadyAnswered.
    """
    body_hash = payload.body_hash()
    if payload.ticket_code is not None:
        if device is not None:
            raise PermissionDenied(
                "Kiosks do not redeem tickets.", {"ticket": Reason.NOT_FROM_A_KIOSK}
            )
        return _redeem(session, payload, body_hash, now=now, policy=policy)

    channel = "kiosk" if device is not None else "qr"
    target, spec = load_target(session, payload.target_code, channel)
    if device is not None and device.counter_id != target.counter_id:
        raise PermissionDenied(
            "This kiosk may only send ratings for its own counter.",
            {"target": Reason.NOT_THIS_KIOSK},
        )
    if replay_only:
        replay = find_replay(session, payload.id, body_hash, target, channel)
        if replay is None:
            raise AlreadyAnswered(
                "This phone already rated this code a short while ago.",
                {"target": Reason.ANSWERED_RECENTLY},
            )
        return replay
    submitted_at = _check_time(payload.submitted_at, now, policy, is_kiosk=device is not None)
    rows = validate_answers(spec, payload.answers, payload.comment)
    officer_id = target.officer_id
    if officer_id is None and device is not None:
        officer_id = officer_for_rating(session, device, submitted_at=submitted_at, now=now)
    is_live = now - submitted_at <= LIVE_WINDOW
    is_suspect = bool(over_ceiling is not None and is_live and over_ceiling(target))
    return _store(
        session,
        payload,
        body_hash,
        target=target,
        spec=spec,
        rows=rows,
        channel=channel,
        now=now,
        submitted_at=submitted_at,
        officer_id=officer_id,
        device_id=device.id if device is not None else None,
        is_suspect=is_suspect,
    )


def _redeem(
    session: Session, payload: ResponseInput, body_hash: str, *, now: datetime, policy: SubmitPolicy
) -> Submission:
    """Store the one verified response of a ticket; a replay of it returns it unchanged.

    Single use holds under concurrency: the ticket is claimed by a conditional UPDATE in the
    same transaction as the insert (the loser of a race updates no row once the winner
    commits), and response.ticket_id is UNIQUE as a last line of defence.
    """
    ticket, target_code = ticket_for_response(session, payload.ticket_code)
    target, spec = load_target(session, target_code, "ticket")
    if payload.target_code and payload.target_code != target.code:
        raise ValidationError(
            "The target does not match the ticket.", {"target": Reason.NOT_THIS_TICKET}
        )
    if (replay := find_replay(session, payload.id, body_hash, target, "ticket")) is not None:
        return replay
    submitted_at = _check_time(payload.submitted_at, now, policy, is_kiosk=False)
    rows = validate_answers(spec, payload.answers, payload.comment)
    if not claim_ticket(session, ticket, now=now):
        # Used since our first look: by this very response (a concurrent copy) it is a replay.
        if (replay := find_replay(session, payload.id, body_hash, target, "ticket")) is not None:
            return replay
        ticket.check_usable(now)  # raises TicketUsed or TicketExpired
        raise TicketUsed("This ticket could not be claimed.", {"ticket": Reason.USED})
    return _store(
        session,
        payload,
        body_hash,
        target=target,
        spec=spec,
        rows=rows,
        channel="ticket",
        now=now,
        submitted_at=submitted_at,
        officer_id=target.officer_id or ticket.officer_id,
        device_id=None,
        is_suspect=False,
        ticket_id=ticket.id,
        is_verified=True,
    )


def _insert_statement(dialect: str) -> Insert:
    """INSERT INTO response ... ON CONFLICT (id) DO NOTHING, for the session's database."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - the two engines the product supports
        raise NotImplementedError(f"No idempotent insert for {dialect}")
    return (
        dialect_insert(Response.__table__)
        .on_conflict_do_nothing(index_elements=["id"])
        .execution_options(preserve_rowcount=True)
    )


#: Built once per dialect: statements SQLAlchemy has compiled before cost only their parameters.
_INSERT_RESPONSE: dict[str, Insert] = {}
_INSERT_ANSWERS = insert(Answer.__table__)


def _store(
    session: Session,
    payload: ResponseInput,
    body_hash: str,
    *,
    target: TargetRef,
    spec: SurveySpec,
    rows: list[tuple[QuestionSpec, list[int] | str]],
    channel: str,
    now: datetime,
    submitted_at: datetime,
    officer_id: int | None,
    device_id: int | None,
    is_suspect: bool,
    ticket_id: int | None = None,
    is_verified: bool = False,
) -> Submission:
    connection = session.connection()
    dialect = connection.dialect.name
    statement = _INSERT_RESPONSE.get(dialect)
    if statement is None:
        statement = _INSERT_RESPONSE[dialect] = _insert_statement(dialect)
    headline = spec.headline
    headline_choice = headline.by_key[payload.answers[headline.key]]
    inserted = connection.execute(
        statement,
        {
            "id": payload.id,
            "target_id": target.id,
            "survey_id": spec.id,
            "office_id": target.office_id,
            "counter_id": target.counter_id,
            "officer_id": officer_id,
            "device_id": device_id,
            "channel": channel,
            "locale": payload.locale,
            "submitted_at": submitted_at,
            "received_at": now,
            "headline_polarity": POLARITY_VALUE[headline_choice.polarity],
            "is_verified": is_verified,
            "ticket_id": ticket_id,
            "body_hash": body_hash,
            "is_suspect": is_suspect,
        },
    ).rowcount
    if inserted != 1:
        # The id is taken: by an earlier copy of this response, or by another response.
        replay = find_replay(session, payload.id, body_hash, target, channel)
        if replay is None:  # pragma: no cover - a row that vanished between two statements
            raise Conflict(
                "The response could not be stored; send it again.", {"id": Reason.INVALID}
            )
        return replay
    connection.execute(_INSERT_ANSWERS, _answer_rows(payload.id, rows))
    if not is_suspect:
        # In the same transaction, so the figures are never stale; a held rating is added
        # when it is accepted (surveys/review.py).
        rollups.add_response(
            session,
            rollups.Counted(
                office_id=target.office_id,
                counter_id=target.counter_id,
                officer_id=officer_id,
                channel=channel,
                local_time=to_local(submitted_at, target.office_timezone),
                polarity=POLARITY_VALUE[headline_choice.polarity],
                answers=_counted_answers(rows),
            ),
        )
        # Alert rules 1 and 2, in this transaction (surveys/alerts.py).
        alerts.check_new_rating(
            session,
            alerts.NewRating(
                target.office_id,
                target.counter_id,
                officer_id,
                channel,
                submitted_at,
                POLARITY_VALUE[headline_choice.polarity],
                alerts.reasons_of(rows),
                payload.id,
                tuple(rows),
            ),
            now=now,
        )
    return Submission(payload.id, True, target, channel, is_suspect)


def _answer_rows(
    response_id: uuid.UUID, rows: list[tuple[QuestionSpec, list[int] | str]]
) -> list[dict[str, Any]]:
    """Return the answer table's rows: one per chosen choice, one per text."""
    found = []
    for question, value in rows:
        if isinstance(value, str):
            found.append(
                {
                    "response_id": response_id,
                    "question_id": question.id,
                    "choice_id": None,
                    "text": value,
                }
            )
        else:
            found.extend(
                {
                    "response_id": response_id,
                    "question_id": question.id,
                    "choice_id": c,
                    "text": None,
                }
                for c in value
            )
    return found


def _counted_answers(
    rows: list[tuple[QuestionSpec, list[int] | str]],
) -> tuple[tuple[int, int], ...]:
    """Return (question, choice) pairs for the rollups, with ANSWERED once for each
    several-choice or free-text question (their answers do not add up to the responses)."""
    pairs: list[tuple[int, int]] = []
    for question, value in rows:
        if isinstance(value, str):
            pairs.append((question.id, ANSWERED))
            continue
        pairs.extend((question.id, choice) for choice in value)
        if question.kind == "multi":
            pairs.append((question.id, ANSWERED))
    return tuple(pairs)


def find_replay(
    session: Session, response_id: uuid.UUID, body_hash: str, target: TargetRef, channel: str
) -> Submission | None:
    """Return the stored response with this id if the body matches; raise Conflict if not."""
    stored = session.execute(
        select(Response.body_hash, Response.is_suspect).where(Response.id == response_id)
    ).one_or_none()
    if stored is None:
        return None
    if stored.body_hash != body_hash:
        raise Conflict(
            "A different response was already stored under this id.", {"id": Reason.ALREADY_USED}
        )
    return Submission(response_id, False, target, channel, stored.is_suspect)


def validate_answers(
    spec: SurveySpec, answers: dict[str, Any], comment: str | None = None
) -> list[tuple[QuestionSpec, list[int] | str]]:
    """Check answers against the survey; return [(question, choice ids or text)] to store.

    Raises ValidationError with a Reason per field: unknown question or choice, wrong type, a
    follow-up answered without its trigger, a missing headline or required answer, a text
    over its limit.
    """
    errors: dict[str, Reason] = {}
    answers = dict(answers)
    if comment:
        text_question = spec.comment_question
        if text_question is None:
            errors["comment"] = Reason.NO_COMMENT
        elif answers.get(text_question.key) not in (None, "", comment):
            errors["comment"] = Reason.INVALID
        else:
            answers[text_question.key] = comment

    rows: list[tuple[QuestionSpec, list[int] | str]] = []
    for key, value in answers.items():
        question = spec.question(key)
        field = f"answers.{key}"
        if question is None:
            errors[field] = Reason.UNKNOWN_QUESTION
            continue
        if question.kind in ("scale", "choice"):
            if not isinstance(value, str):
                errors[field] = Reason.NOT_A_CHOICE
            elif value not in question.by_key:
                errors[field] = Reason.UNKNOWN_CHOICE
            else:
                rows.append((question, [question.by_key[value].id]))
        elif question.kind == "multi":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors[field] = Reason.NOT_A_LIST
            elif any(v not in question.by_key for v in value):
                errors[field] = Reason.UNKNOWN_CHOICE
            elif len(set(value)) != len(value):
                errors[field] = Reason.REPEATED_CHOICE
            elif value:
                rows.append((question, [question.by_key[v].id for v in value]))
        else:
            if not isinstance(value, str):
                errors[field] = Reason.NOT_TEXT
            elif len(value) > (question.max_length or DEFAULT_TEXT_LIMIT):
                errors[field] = Reason.TOO_LONG
            elif value.strip():
                rows.append((question, value.strip()))

    valid = {q.key: answers[q.key] for q, _ in rows}
    for question, _ in rows:
        if not spec.is_shown(question, valid):
            errors[f"answers.{question.key}"] = Reason.NOT_ASKED
    for question in spec.questions:
        field = f"answers.{question.key}"
        needed = question.is_headline or (question.is_required and spec.is_shown(question, valid))
        if needed and question.key not in valid and field not in errors:
            errors[field] = Reason.REQUIRED
    if errors:
        raise ValidationError("The answers do not fit the survey.", errors)
    return rows


@dataclass(frozen=True)
class Addition:
    """What happened to the answers of a response's second step."""

    id: uuid.UUID
    #: False when every answer given was stored already (a replay: nothing new was stored).
    is_new: bool


def stored_answers(session: Session, spec: SurveySpec, response_id: uuid.UUID) -> dict[str, Any]:
    """Return a stored response's answers as a client sends them: {key: choice key, [choice
    keys] or text}."""
    rows = session.execute(
        select(Answer.question_id, Answer.choice_id, Answer.text).where(
            Answer.response_id == response_id
        )
    ).all()
    by_id = {q.id: q for q in spec.questions}
    found: dict[str, Any] = {}
    for question_id, choice_id, text in rows:
        question = by_id.get(question_id)
        if question is None:  # pragma: no cover - answers always belong to their survey version
            continue
        if question.kind == "text":
            found[question.key] = text
            continue
        key = next(c.key for c in question.choices if c.id == choice_id)
        if question.kind == "multi":
            found.setdefault(question.key, []).append(key)
        else:
            found[question.key] = key
    return found


def _same_answer(stored: Any, given: Any) -> bool:
    if isinstance(stored, list) and isinstance(given, list):
        return sorted(stored) == sorted(given)
    if isinstance(stored, str) and isinstance(given, str):
        return stored.strip() == given.strip()
    return False


def second_step(
    session: Session,
    response_id: uuid.UUID,
    *,
    now: datetime,
    policy: SubmitPolicy = SubmitPolicy(),
) -> tuple[SurveySpec, list[QuestionSpec]] | None:
    """Return the survey of a response and the questions its second step still asks (those
    its stored answers open and leave unanswered), or None once the step is closed."""
    response = session.execute(
        select(Response.survey_id, Response.received_at).where(Response.id == response_id)
    ).one_or_none()
    if response is None or now - response.received_at > policy.second_step_window:
        return None
    spec = survey_spec(session, response.survey_id)
    stored = stored_answers(session, spec, response_id)
    return spec, [q for q in spec.questions if q.key not in stored and spec.is_shown(q, stored)]


def add_answers(
    session: Session,
    response_id: uuid.UUID,
    answers: dict[str, Any],
    *,
    now: datetime,
    policy: SubmitPolicy = SubmitPolicy(),
) -> Addition:
    """Add the optional second step to a stored response; flush, never commit.

    The first step stored a complete response (the headline, and whatever came with it); the
    second step only fills questions left unanswered, so the figures of the first step never
    change and its replay still matches its body hash. Sending the same answers again is a
    replay (``is_new`` False); a different answer to a question already answered raises
    Conflict (the first one counts, as for a response). The response must have been received
    within ``policy.second_step_window``. The caller proves the response is its own (the
    phone's signed session). Raises NotFound, InvalidTransition, ValidationError or Conflict.
    """
    response = session.execute(
        select(Response.survey_id, Response.received_at).where(Response.id == response_id)
    ).one_or_none()
    if response is None:
        raise NotFound("No response has this id.", {"id": Reason.UNKNOWN_CODE})
    if now - response.received_at > policy.second_step_window:
        raise InvalidTransition(
            "The second step of this response is closed.", {"id": Reason.EXPIRED}
        )
    spec = survey_spec(session, response.survey_id)
    stored = stored_answers(session, spec, response_id)
    given = {k: v for k, v in answers.items() if v not in (None, "", [])}
    if any(k in stored and not _same_answer(stored[k], v) for k, v in given.items()):
        raise Conflict(
            "A different answer was already stored for this question.",
            {"answers": Reason.ALREADY_USED},
        )
    new = {k: v for k, v in given.items() if k not in stored}
    rows = validate_answers(spec, {**stored, **new})
    added = [(question, value) for question, value in rows if question.key in new]
    if not added:
        return Addition(response_id, False)
    session.connection().execute(_INSERT_ANSWERS, _answer_rows(response_id, added))
    # The second step's answers count where the first step's do (a held rating's are added
    # with it when it is accepted, since rollups then recount its stored answers).
    rollups.add_later_answers(session, response_id, _counted_answers(added))
    alerts.check_later_answers(session, response_id, added, now=now)
    return Addition(response_id, True)


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


def _check_time(
    submitted_at: datetime | None, now: datetime, policy: SubmitPolicy, *, is_kiosk: bool
) -> datetime:
    if submitted_at is None:
        return now
    if submitted_at > now + policy.clock_skew:
        raise ValidationError(
            "The response is dated in the future.", {"submitted_at": Reason.IN_FUTURE}
        )
    max_age = policy.kiosk_max_age if is_kiosk else policy.phone_max_age
    if submitted_at < now - max_age:
        raise ValidationError(
            "The response is too old to be accepted.", {"submitted_at": Reason.TOO_OLD}
        )
    return submitted_at
