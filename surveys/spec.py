"""Immutable, cached views of survey versions, used on every submission and survey fetch."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from surveys.errors import NotFound
from surveys.models import Question, Survey
from surveys.stats import choice_score


@dataclass(frozen=True)
class ChoiceSpec:
    id: int
    key: str
    position: int
    polarity: str
    text_vi: str
    text_en: str
    is_charged_to_officer: bool

    def text(self, locale: str) -> str:
        return self.text_en if locale == "en" else self.text_vi


@dataclass(frozen=True)
class QuestionSpec:
    id: int
    key: str
    kind: str
    is_headline: bool
    is_required: bool
    text_vi: str
    text_en: str
    max_length: int | None
    show_if: dict[str, Any] | None
    choices: tuple[ChoiceSpec, ...] = ()
    by_key: dict[str, ChoiceSpec] = field(default_factory=dict, compare=False)

    def text(self, locale: str) -> str:
        return self.text_en if locale == "en" else self.text_vi

    def score(self, choice: ChoiceSpec) -> float | None:
        """Return a scale choice's score: best 100, worst 0, evenly spaced between."""
        if self.kind != "scale":
            return None
        return choice_score(choice.position, len(self.choices))


@dataclass(frozen=True)
class SurveySpec:
    id: int
    key: str
    version: int
    name_vi: str
    name_en: str
    questions: tuple[QuestionSpec, ...]

    @property
    def headline(self) -> QuestionSpec:
        return next(q for q in self.questions if q.is_headline)

    @property
    def comment_question(self) -> QuestionSpec | None:
        """Return the free-text question that a top-level "comment" fills."""
        return next((q for q in self.questions if q.kind == "text"), None)

    def question(self, key: str) -> QuestionSpec | None:
        return next((q for q in self.questions if q.key == key), None)

    @property
    def has_second_step(self) -> bool:
        """Whether the phone asks the headline alone first and the rest as an optional step.

        So when other choice questions are always asked (the four conduct values of the office
        culture survey: a long page) and none of the rest is required, so the headline alone is
        a complete response. A survey with only follow-ups and a comment stays one short page.
        """
        rest = [q for q in self.questions if not q.is_headline]
        return not any(q.is_required for q in rest) and any(
            q.kind != "text" and not q.show_if for q in rest
        )

    @property
    def trigger_keys(self) -> frozenset[str]:
        """Return the keys of questions whose answer opens a follow-up."""
        return frozenset(q.show_if["question"] for q in self.questions if q.show_if)

    def is_shown(self, question: QuestionSpec, answers: dict[str, Any]) -> bool:
        """Return whether ``question`` applies, given the (validated) answers to others."""
        condition = question.show_if
        if not condition:
            return True
        trigger = self.question(condition["question"])
        if trigger is None:
            return False
        value = answers.get(trigger.key)
        chosen = value if isinstance(value, list) else [value]
        wanted = condition.get("polarity")
        return any(
            (choice := trigger.by_key.get(k)) is not None and choice.polarity == wanted
            for k in chosen
            if isinstance(k, str)
        )

    def to_dict(self, target_code: str) -> dict[str, Any]:
        """Return the survey as the API contract describes it, both languages, best choice first."""
        return {
            "target": target_code,
            "survey": {"key": self.key, "version": self.version},
            "questions": [
                {
                    "key": q.key,
                    "kind": q.kind,
                    "headline": q.is_headline,
                    "required": q.is_required,
                    "text": {"vi": q.text_vi, "en": q.text_en},
                    "choices": [
                        {
                            "key": c.key,
                            "polarity": c.polarity,
                            "text": {"vi": c.text_vi, "en": c.text_en},
                        }
                        for c in q.choices
                    ],
                    "max_length": q.max_length,
                    "show_if": q.show_if,
                }
                for q in self.questions
            ],
        }


_CACHE: dict[tuple[int, datetime], SurveySpec] = {}


def survey_spec(session: Session, survey_id: int, created_at: datetime | None = None) -> SurveySpec:
    """Return the spec of a survey version, loading it once per process.

    Published versions never change, so the cache needs no invalidation; the creation time in
    the key guards against a reused id after a database was wiped. A draft is built afresh
    each time and never kept: it changes until it is published.
    """
    if created_at is not None and (spec := _CACHE.get((survey_id, created_at))):
        return spec
    survey = session.scalars(
        select(Survey)
        .where(Survey.id == survey_id)
        .options(selectinload(Survey.questions).selectinload(Question.choices))
    ).one_or_none()
    if survey is None:
        raise NotFound("Unknown survey.")
    spec = build_spec(survey)
    if not survey.is_published:
        return spec
    if len(_CACHE) > 1000:
        _CACHE.clear()
    _CACHE[(survey.id, survey.created_at)] = spec
    return spec


def build_spec(survey: Survey) -> SurveySpec:
    """Return the spec of a survey version as it is now, without the cache (a draft's preview)."""
    questions = []
    for q in survey.questions:
        choices = tuple(
            ChoiceSpec(
                id=c.id,
                key=c.key,
                position=c.position,
                polarity=c.polarity,
                text_vi=c.text_vi,
                text_en=c.text_en,
                is_charged_to_officer=c.is_charged_to_officer,
            )
            for c in q.choices
        )
        questions.append(
            QuestionSpec(
                id=q.id,
                key=q.key,
                kind=q.kind,
                is_headline=q.is_headline,
                is_required=q.is_required,
                text_vi=q.text_vi,
                text_en=q.text_en,
                max_length=q.max_length,
                show_if=q.show_if,
                choices=choices,
                by_key={c.key: c for c in choices},
            )
        )
    return SurveySpec(
        id=survey.id,
        key=survey.key,
        version=survey.version,
        name_vi=survey.name_vi,
        name_en=survey.name_en,
        questions=tuple(questions),
    )
