"""Citizens' comments: reading, filtering and marking them handled, with personal data masked.

Comments are read from the responses by index (office and time, then the answers of one page
of responses), never all at once. Phone numbers, e-mail addresses and 9- or 12-digit ID numbers
in a comment are masked when it is shown or exported to anyone but an administrator; the stored
text is never changed.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session

from surveys.accounts import visible_offices
from surveys.errors import NotFound, PermissionDenied, Reason, ValidationError
from surveys.figures import is_reason_question
from surveys.models import (
    Answer,
    Choice,
    CommentReview,
    Counter,
    Office,
    Officer,
    Question,
    Response,
    User,
)
from surveys.periods import DateRange, to_local

#: E-mail addresses.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
#: Runs of 9 or more digits, possibly grouped by spaces, dots or dashes, with an optional +:
#: phone numbers (10 or 11 digits, +84 …) and ID numbers (9-digit CMND, 12-digit CCCD).
_NUMBER = re.compile(r"\+?\d(?:[ .\-]?\d){8,}")
NOTE_MAX_LENGTH = 1000
PAGE_SIZE = 50


def mask_personal_data(text: str, placeholder: str = "***") -> str:
    """Return the text with phone, e-mail and ID numbers replaced by ``placeholder``."""
    return _NUMBER.sub(placeholder, _EMAIL.sub(placeholder, text))


@dataclass(frozen=True)
class CommentFilter:
    """What the inbox shows; every field optional."""

    period: DateRange
    office_code: str | None = None
    counter_code: str | None = None
    officer_code: str | None = None
    #: 1 positive, 0 neutral, -1 negative headline answers.
    polarity: int | None = None
    reason: str | None = None
    #: True: only handled ones; False: only those still to handle.
    handled: bool | None = None
    search: str | None = None


@dataclass
class Comment:
    response_id: uuid.UUID
    office: Office
    counter_name: str | None
    officer_name: str | None
    #: When the citizen answered, in the office's time zone.
    submitted_at: datetime
    channel: str
    polarity: int
    #: (key, Vietnamese, English) of the headline answer.
    rating: tuple[str, str, str]
    text: str
    reasons: list[tuple[str, str, str, bool]] = field(default_factory=list)
    handled_at: datetime | None = None
    note: str = ""

    def as_dict(self) -> dict:
        return {
            "id": str(self.response_id),
            "office": self.office.code,
            "counter": self.counter_name,
            "officer": self.officer_name,
            "submitted_at": self.submitted_at.isoformat(timespec="seconds"),
            "channel": self.channel,
            "rating": self.rating[0],
            "polarity": self.polarity,
            "reasons": [key for key, *_ in self.reasons],
            "text": self.text,
            "handled": self.handled_at is not None,
            "note": self.note,
        }


@dataclass(frozen=True)
class CommentPage:
    comments: list[Comment]
    page: int
    has_more: bool


def find_comments(
    session: Session,
    actor: User,
    wanted: CommentFilter,
    *,
    page: int = 1,
    per_page: int = PAGE_SIZE,
    mask: bool | None = None,
) -> CommentPage:
    """Return one page of the comments in the actor's scope that match, newest first.

    ``mask`` defaults to masking for everyone but administrators.
    """
    if mask is None:
        mask = actor.role != "admin"
    offices = {o.id: o for o in session.scalars(visible_offices(actor))}
    if wanted.office_code:
        offices = {i: o for i, o in offices.items() if o.code == wanted.office_code}
        if not offices:
            raise _unknown_or_outside(session, wanted.office_code)
    page = max(1, page)
    by_zone: dict[str, list[int]] = defaultdict(list)
    for office in offices.values():
        by_zone[office.timezone].append(office.id)
    in_range = [
        and_(
            Response.office_id.in_(ids), Response.submitted_at >= low, Response.submitted_at < high
        )
        for zone, ids in by_zone.items()
        for low, high in [wanted.period.utc_bounds(zone)]
    ]
    query = (
        select(
            Response.id,
            Response.office_id,
            Counter.name,
            Officer.name,
            Response.submitted_at,
            Response.channel,
            Response.headline_polarity,
            Answer.text,
            CommentReview.handled_at,
            CommentReview.note,
        )
        .join(Answer, Answer.response_id == Response.id)
        .outerjoin(Counter, Counter.id == Response.counter_id)
        .outerjoin(Officer, Officer.id == Response.officer_id)
        .outerjoin(CommentReview, CommentReview.response_id == Response.id)
        .where(
            Answer.text.is_not(None),
            Response.is_counted,
            or_(*in_range) if in_range else false(),
        )
        .order_by(Response.submitted_at.desc(), Response.id)
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    )
    if wanted.counter_code:
        query = query.where(Counter.code == wanted.counter_code)
    if wanted.officer_code:
        query = query.where(Officer.code == wanted.officer_code)
    if wanted.polarity is not None:
        query = query.where(Response.headline_polarity == wanted.polarity)
    if wanted.handled is True:
        query = query.where(CommentReview.handled_at.is_not(None))
    elif wanted.handled is False:
        query = query.where(CommentReview.handled_at.is_(None))
    if wanted.search:
        escaped = wanted.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Answer.text.ilike(f"%{escaped}%", escape="\\"))
    if wanted.reason:
        reason_answer = (
            select(Answer.response_id)
            .join(Choice, Choice.id == Answer.choice_id)
            .join(Question, Question.id == Answer.question_id)
            .where(Question.kind == "multi", Choice.key == wanted.reason)
        )
        query = query.where(Response.id.in_(reason_answer))
    rows = session.execute(query).all()
    has_more = len(rows) > per_page
    rows = rows[:per_page]
    details = _answers_of(session, [row[0] for row in rows])
    comments = []
    for id_, office_id, counter, officer, submitted_at, channel, polarity, text, at, note in rows:
        office = offices[office_id]
        rating, reasons = details.get(id_, (("", "", ""), []))
        comments.append(
            Comment(
                id_,
                office,
                counter,
                officer,
                to_local(submitted_at, office.timezone),
                channel,
                polarity,
                rating,
                mask_personal_data(text) if mask else text,
                reasons,
                at,
                mask_personal_data(note or "") if mask else (note or ""),
            )
        )
    return CommentPage(comments, page, has_more)


def _answers_of(session: Session, ids: list[uuid.UUID]) -> dict:
    """Return {response id: (headline choice, [reasons])} for one page of comments."""
    if not ids:
        return {}
    found: dict = defaultdict(lambda: [("", "", ""), []])
    for response_id, question, choice in session.execute(
        select(Answer.response_id, Question, Choice)
        .join(Question, Question.id == Answer.question_id)
        .join(Choice, Choice.id == Answer.choice_id)
        .where(Answer.response_id.in_(ids))
        .order_by(Choice.position)
    ).all():
        if question.is_headline:
            found[response_id][0] = (choice.key, choice.text_vi, choice.text_en)
        elif is_reason_question(question):
            found[response_id][1].append(
                (choice.key, choice.text_vi, choice.text_en, choice.is_charged_to_officer)
            )
    return {k: (v[0], v[1]) for k, v in found.items()}


def _unknown_or_outside(session: Session, office_code: str) -> Exception:
    if session.scalar(select(Office.id).where(Office.code == office_code)) is None:
        return NotFound("No office has this code.", {"office": Reason.UNKNOWN_CODE})
    return PermissionDenied("This office is outside your scope.", {"office": Reason.NOT_IN_SCOPE})


def mark_handled(
    session: Session, actor: User, response_id: uuid.UUID, note: str, *, now: datetime
) -> CommentReview:
    """Mark a comment handled with a note (again: the note is replaced); flush, never commit."""
    if actor.role not in ("admin", "manager"):
        raise PermissionDenied("Only managers mark comments handled.")
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError("The note is too long.", {"note": Reason.TOO_LONG})
    office_id = session.scalar(
        select(Response.office_id)
        .join(Answer, Answer.response_id == Response.id)
        .where(Response.id == response_id, Answer.text.is_not(None))
    )
    if office_id is None:
        raise NotFound("No comment has this id.", {"id": Reason.INVALID})
    if session.scalar(visible_offices(actor).where(Office.id == office_id)) is None:
        raise PermissionDenied("This comment is outside your scope.", {"id": Reason.NOT_IN_SCOPE})
    review = session.get(CommentReview, response_id)
    if review is None:
        review = CommentReview(response_id=response_id)
        session.add(review)
    review.handled_at = now
    review.handled_by_id = actor.id
    review.note = note
    session.flush()
    return review


def reopen(session: Session, actor: User, response_id: uuid.UUID) -> None:
    """Mark a handled comment as still to handle; flush, never commit."""
    if actor.role not in ("admin", "manager"):
        raise PermissionDenied("Only managers mark comments handled.")
    review = session.get(CommentReview, response_id)
    if review is None:
        return
    office_id = session.scalar(select(Response.office_id).where(Response.id == response_id))
    if session.scalar(visible_offices(actor).where(Office.id == office_id)) is None:
        raise PermissionDenied("This comment is outside your scope.", {"id": Reason.NOT_IN_SCOPE})
    session.delete(review)
    session.flush()
