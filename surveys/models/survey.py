"""Versioned question sets: a survey has ordered questions, a question ordered choices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from surveys.db import Base, utcnow
from surveys.errors import InvalidTransition

KINDS = ("scale", "choice", "multi", "text")
POLARITIES = ("positive", "neutral", "negative")
POLARITY_VALUE = {"positive": 1, "neutral": 0, "negative": -1}


class Survey(Base):
    """One version of a question set; a new version is a new row with the same key."""

    __tablename__ = "survey"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_survey_key_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When this version was published; None for a draft, as every new version starts. A
    #: published version never changes: an edit makes the next version, and each response
    #: keeps the version it answered.
    published_at: Mapped[datetime | None]

    questions: Mapped[list[Question]] = relationship(
        back_populates="survey", order_by="Question.position", cascade="all, delete-orphan"
    )

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def check_draft(self) -> None:
        """Raise InvalidTransition unless this version is a draft, the only kind that changes."""
        if self.is_published:
            raise InvalidTransition(
                f"Version {self.version} of survey {self.key} is published and never changes."
            )

    def publish(self, now: datetime) -> None:
        """Make this draft the version citizens are asked from now on."""
        self.check_draft()
        self.published_at = now

    @property
    def headline(self) -> Question:
        return next(q for q in self.questions if q.is_headline)

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)


class Question(Base):
    __tablename__ = "question"
    __table_args__ = (UniqueConstraint("survey_id", "key", name="uq_question_survey_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int]
    #: scale (ordered levels, best first), choice (one of), multi (several of), text.
    kind: Mapped[str] = mapped_column(String(16))
    is_headline: Mapped[bool] = mapped_column(default=False)
    is_required: Mapped[bool] = mapped_column(default=False)
    text_vi: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    #: Longest accepted free text, for kind "text".
    max_length: Mapped[int | None]
    #: Condition for showing the question, e.g. {"question": "overall", "polarity": "negative"}.
    show_if: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    survey: Mapped[Survey] = relationship(back_populates="questions")
    choices: Mapped[list[Choice]] = relationship(
        back_populates="question", order_by="Choice.position", cascade="all, delete-orphan"
    )

    def text(self, locale: str) -> str:
        return self.text_en if locale == "en" else self.text_vi

    def choice(self, key: str) -> Choice | None:
        return next((c for c in self.choices if c.key == key), None)


class Choice(Base):
    __tablename__ = "choice"
    __table_args__ = (UniqueConstraint("question_id", "key", name="uq_choice_question_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    #: 0 is the best choice of a scale.
    position: Mapped[int]
    polarity: Mapped[str] = mapped_column(String(16), default="neutral")
    text_vi: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    #: False for reasons about the process or the building, not the person who served.
    is_charged_to_officer: Mapped[bool] = mapped_column(default=True)

    question: Mapped[Question] = relationship(back_populates="choices")

    def text(self, locale: str) -> str:
        return self.text_en if locale == "en" else self.text_vi


#: Where a survey is asked: the kiosk, the QR code of the office, of a counter or of an
#: officer, or a one-time ticket.
CHANNELS = ("kiosk", "office", "counter", "officer", "ticket")


class SurveyAssignment(Base):
    """Which survey (by key: its newest published version) a channel asks, for a unit's
    offices or for one office. An office without its own takes its nearest unit's, else the
    default (quick everywhere, office culture on officers' codes)."""

    __tablename__ = "survey_assignment"
    __table_args__ = (
        UniqueConstraint("unit_id", "office_id", "channel", name="uq_survey_assignment_place"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    survey_key: Mapped[str] = mapped_column(String(64))


def _was_published(survey: Survey) -> bool:
    """Return whether the survey was published before the changes now being flushed."""
    state = inspect(survey)
    if not state.persistent:
        return False
    history = state.attrs.published_at.history
    if history.deleted:
        return history.deleted[0] is not None
    return survey.published_at is not None


def _survey_of(session: Session, thing: object) -> Survey | None:
    """Return the survey a survey, question or choice belongs to (as stored, for a removed one)."""
    if isinstance(thing, Choice):
        question = thing.question or session.get(Question, thing.question_id)
        return _survey_of(session, question) if question is not None else None
    if isinstance(thing, Question):
        return thing.survey or (
            session.get(Survey, thing.survey_id) if thing.survey_id is not None else None
        )
    return thing if isinstance(thing, Survey) else None


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_published_versions(session: Session, _context, _instances) -> None:
    """Refuse any change to a published version, whatever code attempts it: the domain checks
    first (Survey.check_draft); this keeps the promise that each response's version stays as
    it was answered."""
    touched = [
        *(t for t in session.new if isinstance(t, Question | Choice)),
        *(t for t in session.deleted if isinstance(t, Survey | Question | Choice)),
        *(
            t
            for t in session.dirty
            if isinstance(t, Survey | Question | Choice) and session.is_modified(t)
        ),
    ]
    with session.no_autoflush:
        for thing in touched:
            survey = _survey_of(session, thing)
            if survey is not None and _was_published(survey):
                raise InvalidTransition(
                    f"Version {survey.version} of survey {survey.key} is published and never "
                    "changes."
                )
