"""Versioned question sets: a survey has ordered questions, a question ordered choices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, utcnow

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

    questions: Mapped[list[Question]] = relationship(
        back_populates="survey", order_by="Question.position", cascade="all, delete-orphan"
    )

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
