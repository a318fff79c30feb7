"""What a survey version says, as an administrator writes it, and the rules it must follow:
keys that are safe and unique, exactly one headline, enough choices, a scale's levels best
first, follow-ups on an earlier question, texts in both languages and of sane length.

Used by surveys/survey_admin.py on every draft it saves or publishes; no session needed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from surveys.defaults import COMMENT_MAX_LENGTH
from surveys.errors import Reason, ValidationError
from surveys.models import Choice, Question, Survey
from surveys.models.survey import KINDS, POLARITIES

#: A survey, question or choice key: it names form fields, API answers and CSV columns.
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")
#: Names the phone form uses beside the questions' own.
RESERVED_KEYS = frozenset({"csrf_token", "response_id"})
NAME_MAX = 200
QUESTION_TEXT_MAX = 500
CHOICE_TEXT_MAX = 200
MAX_QUESTIONS = 30
MAX_CHOICES = 20
#: Bounds of a free-text question's longest answer, in characters.
TEXT_LIMIT_MAX = 2000
#: Best first: a scale's levels never go from a worse polarity back to a better one.
POLARITY_RANK = {"positive": 0, "neutral": 1, "negative": 2}
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class ChoiceInput:
    key: str
    polarity: str
    text_vi: str
    text_en: str
    #: False for a reason about the procedure or the building, not the person who served.
    is_charged_to_officer: bool = True


@dataclass(frozen=True)
class QuestionInput:
    key: str
    kind: str
    text_vi: str
    text_en: str
    is_headline: bool = False
    is_required: bool = False
    #: The longest answer to a free-text question (None: the default, 1000 characters).
    max_length: int | None = None
    #: {"question": an earlier question's key, "polarity": the kind of answer that opens it}.
    show_if: dict[str, str] | None = None
    #: In the order they are shown; a scale's best level first.
    choices: tuple[ChoiceInput, ...] = ()


@dataclass(frozen=True)
class DraftInput:
    """What an administrator writes into a draft: its names and its questions, in order."""

    name_vi: str
    name_en: str
    questions: tuple[QuestionInput, ...]


# Checking a draft --------------------------------------------------------------------------


def check_key(value: str | None, at: str, errors: dict[str, Reason]) -> str:
    key = (value or "").strip().lower()
    if not key:
        errors[at] = Reason.REQUIRED
    elif not KEY_PATTERN.fullmatch(key) or key in RESERVED_KEYS:
        errors[at] = Reason.UNSAFE_KEY
    return key


def check_text(value: str | None, at: str, errors: dict[str, Reason], limit: int) -> str:
    text = (value or "").strip()
    if not text:
        errors[at] = Reason.REQUIRED
    elif len(text) > limit:
        errors[at] = Reason.TOO_LONG
    elif _UNSTORABLE.search(text):
        errors[at] = Reason.INVALID_TEXT
    return text


def check_name(value: str | None, at: str, errors: dict[str, Reason]) -> str:
    return check_text(" ".join((value or "").split()), at, errors, NAME_MAX)


def _clean_choices(
    question: QuestionInput, at: str, errors: dict[str, Reason]
) -> tuple[ChoiceInput, ...]:
    choices, seen = [], set()
    for j, choice in enumerate(question.choices):
        cat = f"{at}.choices.{j}"
        key = check_key(choice.key, f"{cat}.key", errors)
        if key in seen and f"{cat}.key" not in errors:
            errors[f"{cat}.key"] = Reason.ALREADY_USED
        seen.add(key)
        if choice.polarity not in POLARITIES:
            errors[f"{cat}.polarity"] = Reason.INVALID
        choices.append(
            ChoiceInput(
                key=key,
                polarity=choice.polarity,
                text_vi=check_text(choice.text_vi, f"{cat}.text_vi", errors, CHOICE_TEXT_MAX),
                text_en=check_text(choice.text_en, f"{cat}.text_en", errors, CHOICE_TEXT_MAX),
                is_charged_to_officer=bool(choice.is_charged_to_officer),
            )
        )
    kind = question.kind
    if kind == "text":
        if choices:
            errors[f"{at}.choices"] = Reason.TEXT_HAS_CHOICES
    elif len(choices) < (1 if kind == "multi" else 2):
        errors[f"{at}.choices"] = Reason.TOO_FEW_CHOICES
    elif len(choices) > MAX_CHOICES:
        errors[f"{at}.choices"] = Reason.TOO_LONG
    elif kind == "scale":
        ranks = [POLARITY_RANK.get(c.polarity, 1) for c in choices]
        if ranks != sorted(ranks):
            errors[f"{at}.choices"] = Reason.NOT_BEST_FIRST
    return tuple(choices)


def _clean_show_if(
    condition: dict[str, str] | None,
    earlier: dict[str, QuestionInput],
    at: str,
    errors: dict[str, Reason],
) -> dict[str, str] | None:
    if not condition:
        return None
    trigger = earlier.get(str(condition.get("question") or "").strip().lower())
    polarity = condition.get("polarity")
    if trigger is None or trigger.kind == "text":
        errors[at] = Reason.NOT_EARLIER
    elif polarity not in POLARITIES:
        errors[at] = Reason.INVALID
    elif not any(c.polarity == polarity for c in trigger.choices):
        errors[at] = Reason.UNREACHABLE
    else:
        return {"question": trigger.key, "polarity": polarity}
    return dict(condition)


def clean_draft(data: DraftInput) -> DraftInput:
    """Return the draft with keys and texts tidied, or raise ValidationError naming every
    field that is wrong ("questions.2.choices.0.text_en", ...; indices as given)."""
    errors: dict[str, Reason] = {}
    name_vi = check_name(data.name_vi, "name_vi", errors)
    name_en = check_name(data.name_en, "name_en", errors)
    if not data.questions:
        errors["questions"] = Reason.REQUIRED
    elif len(data.questions) > MAX_QUESTIONS:
        errors["questions"] = Reason.TOO_LONG
    questions: list[QuestionInput] = []
    earlier: dict[str, QuestionInput] = {}
    for i, question in enumerate(data.questions[:MAX_QUESTIONS]):
        at = f"questions.{i}"
        key = check_key(question.key, f"{at}.key", errors)
        if key in earlier and f"{at}.key" not in errors:
            errors[f"{at}.key"] = Reason.ALREADY_USED
        if question.kind not in KINDS:
            errors[f"{at}.kind"] = Reason.INVALID
        max_length = None
        if question.kind == "text":
            max_length = question.max_length or COMMENT_MAX_LENGTH
            if not 1 <= max_length <= TEXT_LIMIT_MAX:
                errors[f"{at}.max_length"] = Reason.OUT_OF_RANGE
        cleaned = QuestionInput(
            key=key,
            kind=question.kind,
            text_vi=check_text(question.text_vi, f"{at}.text_vi", errors, QUESTION_TEXT_MAX),
            text_en=check_text(question.text_en, f"{at}.text_en", errors, QUESTION_TEXT_MAX),
            is_headline=bool(question.is_headline),
            is_required=bool(question.is_required or question.is_headline),
            max_length=max_length,
            show_if=_clean_show_if(question.show_if, earlier, f"{at}.show_if", errors),
            choices=_clean_choices(question, at, errors),
        )
        questions.append(cleaned)
        earlier.setdefault(key, cleaned)
    headlines = [i for i, q in enumerate(questions) if q.is_headline]
    if questions and not headlines:
        errors.setdefault("questions", Reason.ONE_HEADLINE)
    for i in headlines[1:]:
        errors[f"questions.{i}.is_headline"] = Reason.ONE_HEADLINE
    if headlines and (
        questions[headlines[0]].kind not in ("scale", "choice") or questions[headlines[0]].show_if
    ):
        errors[f"questions.{headlines[0]}.is_headline"] = Reason.ONE_HEADLINE
    if errors:
        raise ValidationError("The survey cannot be saved as it is.", errors)
    return DraftInput(name_vi=name_vi, name_en=name_en, questions=tuple(questions))


# Between the models and the inputs ---------------------------------------------------------


def draft_input(survey: Survey) -> DraftInput:
    """Return a version's names and questions as an administrator would write them."""
    return DraftInput(
        name_vi=survey.name_vi,
        name_en=survey.name_en,
        questions=tuple(
            QuestionInput(
                key=q.key,
                kind=q.kind,
                text_vi=q.text_vi,
                text_en=q.text_en,
                is_headline=q.is_headline,
                is_required=q.is_required,
                max_length=q.max_length,
                show_if=dict(q.show_if) if q.show_if else None,
                choices=tuple(
                    ChoiceInput(
                        key=c.key,
                        polarity=c.polarity,
                        text_vi=c.text_vi,
                        text_en=c.text_en,
                        is_charged_to_officer=c.is_charged_to_officer,
                    )
                    for c in q.choices
                ),
            )
            for q in survey.questions
        ),
    )


def questions_from(data: DraftInput) -> list[Question]:
    return [
        Question(
            key=q.key,
            position=i,
            kind=q.kind,
            is_headline=q.is_headline,
            is_required=q.is_required,
            text_vi=q.text_vi,
            text_en=q.text_en,
            max_length=q.max_length,
            show_if=q.show_if,
            choices=[
                Choice(
                    key=c.key,
                    position=j,
                    polarity=c.polarity,
                    text_vi=c.text_vi,
                    text_en=c.text_en,
                    is_charged_to_officer=c.is_charged_to_officer,
                )
                for j, c in enumerate(q.choices)
            ],
        )
        for i, q in enumerate(data.questions)
    ]


def survey_facts(survey: Survey) -> dict[str, Any]:
    """Return a version's content for the audit log: a question per entry, so a change shows
    only the questions it touched."""
    facts: dict[str, Any] = {
        "name_vi": survey.name_vi,
        "name_en": survey.name_en,
        "questions": [q.key for q in survey.questions],
    }
    for q in draft_input(survey).questions:
        facts[f"question.{q.key}"] = {
            "kind": q.kind,
            "headline": q.is_headline,
            "required": q.is_required,
            "text": {"vi": q.text_vi, "en": q.text_en},
            "max_length": q.max_length,
            "show_if": q.show_if,
            "choices": [
                {
                    "key": c.key,
                    "polarity": c.polarity,
                    "text": {"vi": c.text_vi, "en": c.text_en},
                    "charged": c.is_charged_to_officer,
                }
                for c in q.choices
            ],
        }
    return facts
