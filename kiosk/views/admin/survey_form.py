"""The survey editor's plain HTML form, which works without JavaScript: every question and
every choice is a row of fields with a position number (to reorder) and a "remove" box; a
blank choice row under each question and a blank question at the end add one.

Rows come in from the request, go to the domain as a DraftInput in position order, and the
domain's errors ("questions.2.choices.0.text_en") go back under the row and field they name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from kiosk.messages import field_message
from surveys.errors import DomainError, Reason
from surveys.models import Survey
from surveys.survey_content import ChoiceInput, DraftInput, QuestionInput

_QUESTION_ROW = re.compile(r"q-(\d{1,3})-key")
_CHOICE_ROW = re.compile(r"q-(\d{1,3})-c-(\d{1,3})-key")
_WHOLE_NUMBER = re.compile(r"[0-9]{1,6}")
#: Blank choice rows under a new question: enough for a three-level scale in one go.
NEW_QUESTION_CHOICES = 3
#: The domain's name of a field, and the form's.
_FIELDS = {"show_if": "follows", "is_headline": "headline"}


@dataclass
class ChoiceRow:
    position: str = ""
    key: str = ""
    polarity: str = "positive"
    text_vi: str = ""
    text_en: str = ""
    charged: bool = True
    remove: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def is_blank(self) -> bool:
        return not (self.key.strip() or self.text_vi.strip() or self.text_en.strip())


@dataclass
class QuestionRow:
    position: str = ""
    key: str = ""
    kind: str = "choice"
    headline: bool = False
    required: bool = False
    text_vi: str = ""
    text_en: str = ""
    max_length: str = ""
    follows: str = ""
    when: str = "negative"
    remove: bool = False
    choices: list[ChoiceRow] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def is_blank(self) -> bool:
        return not (self.key.strip() or self.text_vi.strip() or self.text_en.strip()) and all(
            c.is_blank for c in self.choices
        )


@dataclass
class SurveyEditor:
    """The form's content: names and rows, with a message per field that was refused."""

    name_vi: str = ""
    name_en: str = ""
    questions: list[QuestionRow] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    #: For each question passed to the domain (in order), its row and its choices' rows.
    _sent: list[tuple[int, list[int]]] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(
            q.errors or any(c.errors for c in q.choices) for q in self.questions
        )

    @property
    def question_keys(self) -> list[str]:
        """Keys a follow-up may follow: the questions written so far."""
        return [q.key.strip() for q in self.questions if q.key.strip() and not q.remove]

    def follow_options(self, row: QuestionRow) -> list[tuple[str, str]]:
        """Return the questions ``row`` may follow, as (value, label) options."""
        return [(key, key) for key in self.question_keys if key != row.key.strip()]

    def with_blank_rows(self) -> SurveyEditor:
        """Add a blank choice row under each question and a blank question at the end."""
        for question in self.questions:
            if not any(c.is_blank for c in question.choices):
                question.choices.append(ChoiceRow(position=str(len(question.choices) + 1)))
        if not self.questions or not self.questions[-1].is_blank:
            self.questions.append(
                QuestionRow(
                    position=str(len(self.questions) + 1),
                    choices=[ChoiceRow(position=str(j + 1)) for j in range(NEW_QUESTION_CHOICES)],
                )
            )
        return self

    def draft(self) -> DraftInput | None:
        """Return what the rows say, in position order, or None when a position or a length
        is not a number (marked under its field)."""
        questions: list[tuple[tuple[int, int], int, QuestionInput, list[int]]] = []
        for i, row in enumerate(self.questions):
            if row.remove or row.is_blank:
                continue
            order = _position(row.position, row.errors, i)
            max_length = None
            if row.kind == "text" and row.max_length.strip():
                max_length = _number(row.max_length, row.errors, "max_length")
            choices = []
            for j, choice in enumerate(row.choices):
                if choice.remove or choice.is_blank:
                    continue
                choices.append((_position(choice.position, choice.errors, j), j, choice))
            choices.sort(key=lambda item: item[:2])
            question = QuestionInput(
                key=row.key,
                kind=row.kind,
                text_vi=row.text_vi,
                text_en=row.text_en,
                is_headline=row.headline,
                is_required=row.required,
                max_length=max_length,
                show_if={"question": row.follows, "polarity": row.when} if row.follows else None,
                choices=tuple(
                    ChoiceInput(
                        key=c.key,
                        polarity=c.polarity,
                        text_vi=c.text_vi,
                        text_en=c.text_en,
                        is_charged_to_officer=c.charged,
                    )
                    for _order, _j, c in choices
                ),
            )
            questions.append((order, i, question, [j for _order, j, _c in choices]))
        if self.has_errors:
            return None
        questions.sort(key=lambda item: item[:2])
        self._sent = [(i, choice_rows) for _order, i, _q, choice_rows in questions]
        return DraftInput(
            name_vi=self.name_vi,
            name_en=self.name_en,
            questions=tuple(q for _order, _i, q, _rows in questions),
        )

    def show_errors(self, error: DomainError) -> None:
        """Put each refused field's message under the row and field the domain named."""
        for name, reason in error.fields.items():
            message = field_message(reason)
            parts = name.split(".")
            if parts[0] != "questions" or len(parts) < 3 or not parts[1].isdigit():
                self.errors[name] = message
                continue
            d = int(parts[1])
            if d >= len(self._sent):
                self.errors["questions"] = message
                continue
            row_index, choice_rows = self._sent[d]
            row = self.questions[row_index]
            if parts[2] == "choices" and len(parts) == 5 and parts[3].isdigit():
                row.choices[choice_rows[int(parts[3])]].errors[parts[4]] = message
            else:
                row.errors[_FIELDS.get(parts[2], parts[2])] = message


def _position(text: str, errors: dict[str, str], index: int) -> tuple[int, int]:
    """Return a sort key: the position typed, else after every numbered row."""
    text = text.strip()
    if not text:
        return (10**7, index)
    return (_number(text, errors, "position") or 0, index)


def _number(text: str, errors: dict[str, str], name: str) -> int | None:
    text = text.strip()
    if not _WHOLE_NUMBER.fullmatch(text):
        errors[name] = field_message(Reason.NOT_AN_INTEGER)
        return None
    return int(text)


def editor_for(survey: Survey) -> SurveyEditor:
    """Return the form of a stored version, numbered 1, 2, 3..., with its blank rows."""
    return SurveyEditor(
        name_vi=survey.name_vi,
        name_en=survey.name_en,
        questions=[
            QuestionRow(
                position=str(i + 1),
                key=q.key,
                kind=q.kind,
                headline=q.is_headline,
                required=q.is_required,
                text_vi=q.text_vi,
                text_en=q.text_en,
                max_length=str(q.max_length) if q.max_length else "",
                follows=(q.show_if or {}).get("question", ""),
                when=(q.show_if or {}).get("polarity", "negative"),
                choices=[
                    ChoiceRow(
                        position=str(j + 1),
                        key=c.key,
                        polarity=c.polarity,
                        text_vi=c.text_vi,
                        text_en=c.text_en,
                        charged=c.is_charged_to_officer,
                    )
                    for j, c in enumerate(q.choices)
                ],
            )
            for i, q in enumerate(survey.questions)
        ],
    ).with_blank_rows()


def editor_from(form: MultiDict) -> SurveyEditor:
    """Return the form as it was sent, every row kept (blank and removed ones too)."""
    rows: dict[int, set[int]] = {}
    for name in form:
        if m := _QUESTION_ROW.fullmatch(name):
            rows.setdefault(int(m[1]), set())
    for name in form:
        if (m := _CHOICE_ROW.fullmatch(name)) and int(m[1]) in rows:
            rows[int(m[1])].add(int(m[2]))
    headline = form.get("headline", "")
    questions = []
    for i, choice_rows in sorted(rows.items()):
        prefix = f"q-{i}-"
        questions.append(
            QuestionRow(
                position=form.get(prefix + "position", ""),
                key=form.get(prefix + "key", ""),
                kind=form.get(prefix + "kind", "choice"),
                headline=headline == str(i),
                required=bool(form.get(prefix + "required")),
                text_vi=form.get(prefix + "text_vi", ""),
                text_en=form.get(prefix + "text_en", ""),
                max_length=form.get(prefix + "max_length", ""),
                follows=form.get(prefix + "follows", ""),
                when=form.get(prefix + "when", "negative"),
                remove=bool(form.get(prefix + "remove")),
                choices=[
                    ChoiceRow(
                        position=form.get(f"{prefix}c-{j}-position", ""),
                        key=form.get(f"{prefix}c-{j}-key", ""),
                        polarity=form.get(f"{prefix}c-{j}-polarity", "positive"),
                        text_vi=form.get(f"{prefix}c-{j}-text_vi", ""),
                        text_en=form.get(f"{prefix}c-{j}-text_en", ""),
                        charged=bool(form.get(f"{prefix}c-{j}-charged")),
                        remove=bool(form.get(f"{prefix}c-{j}-remove")),
                    )
                    for j in sorted(choice_rows)
                ],
            )
        )
    return SurveyEditor(
        name_vi=form.get("name_vi", ""), name_en=form.get("name_en", ""), questions=questions
    )
