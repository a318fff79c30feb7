"""Per-question figures from answer counts, kept apart by survey version and scale.

The rule (PRODUCT.md, "Numbers that can be trusted"; docs/statistics.md): answers on different
scales or survey versions are never pooled into one count list or mean score. "Hài lòng" is the
second of three levels in the quick survey (score 50) and the second of five in the office
culture survey (score 75); adding their counts, or averaging their scores, mixes two different
things. The satisfaction rate (positive answers / all answers) means the same on every scale, so
it is pooled across versions, always with its n.

Where the counts come from (responses or rollups) is the caller's business: this module only
turns ``AnswerCount`` rows into figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from surveys.models import Question, Survey
from surveys.stats import Rate, choice_score, mean_score, satisfaction_rate

#: The choice id of a count that says how many responses answered a question (for several-choice
#: and free-text questions, where the choices' counts do not add up to it).
ANSWERED = 0


@dataclass(frozen=True)
class AnswerCount:
    """How many answers one question of one survey version got with one choice."""

    question_id: int
    #: The choice, or ``ANSWERED`` for the number of responses that answered the question.
    choice_id: int
    n: int


@dataclass
class VersionFigures:
    """One question of one survey version: counts, rate and mean score on its own scale."""

    survey_key: str
    survey_version: int
    survey_names: tuple[str, str]
    kind: str
    #: Choices of the question (a scale's levels), best first.
    levels: int
    n: int = 0
    positives: int = 0
    #: Choice key → count, best choice first.
    counts: dict[str, int] = field(default_factory=dict)
    choice_texts: dict[str, tuple[str, str]] = field(default_factory=dict)
    scores: list[tuple[float, int]] = field(default_factory=list)

    @property
    def has_rate(self) -> bool:
        return self.kind in ("scale", "choice")

    def survey_name(self, locale: str) -> str:
        return self.survey_names[1] if locale == "en" else self.survey_names[0]

    def choice_text(self, key: str, locale: str) -> str:
        vi, en = self.choice_texts.get(key, (key, key))
        return en if locale == "en" else vi

    def rate(self, min_n: int) -> Rate:
        return satisfaction_rate(self.positives, self.n, min_n)

    def mean_score(self, min_n: int) -> float | None:
        return mean_score(self.scores) if self.n >= min_n else None

    def as_dict(self, min_n: int) -> dict:
        rate = self.rate(min_n)
        return {
            "survey": self.survey_key,
            "version": self.survey_version,
            "levels": self.levels,
            "n": self.n,
            "rate": rate.rate if self.has_rate else None,
            "ci_low": rate.ci_low if self.has_rate else None,
            "ci_high": rate.ci_high if self.has_rate else None,
            "mean_score": self.mean_score(min_n),
            "counts": self.counts,
        }


@dataclass
class QuestionSummary:
    """A question key across the survey versions answered: the rate pooled, the rest apart."""

    key: str
    kind: str
    #: (Vietnamese, English) of the newest version's wording.
    texts: tuple[str, str] = ("", "")
    versions: list[VersionFigures] = field(default_factory=list)

    @property
    def n(self) -> int:
        return sum(v.n for v in self.versions)

    @property
    def positives(self) -> int:
        return sum(v.positives for v in self.versions)

    @property
    def is_pooled(self) -> bool:
        """Whether answers came from more than one survey version (so counts stay apart)."""
        return len(self.versions) > 1

    def text(self, locale: str) -> str:
        return self.texts[1] if locale == "en" else self.texts[0]

    def as_dict(self, min_n: int) -> dict:
        rate = satisfaction_rate(self.positives, self.n, min_n)
        has_rate = self.kind in ("scale", "choice")
        single = self.versions[0] if len(self.versions) == 1 else None
        return {
            "n": self.n,
            "rate": rate.rate if has_rate else None,
            "ci_low": rate.ci_low if has_rate else None,
            "ci_high": rate.ci_high if has_rate else None,
            # Only a single scale has one count list and one mean score.
            "mean_score": single.mean_score(min_n) if single else None,
            "counts": dict(single.counts) if single else {},
            "versions": [v.as_dict(min_n) for v in self.versions],
        }


@dataclass(frozen=True)
class ReasonFigure:
    """How often a reason was given, and whether it is held against the officer who served."""

    key: str
    texts: tuple[str, str]
    n: int
    #: False for reasons about the process or the building (procedure, facilities).
    is_charged_to_officer: bool

    def text(self, locale: str) -> str:
        return self.texts[1] if locale == "en" else self.texts[0]

    def as_dict(self) -> dict:
        return {"n": self.n, "charged_to_officer": self.is_charged_to_officer}


@dataclass
class QuestionFigures:
    """Every question's figures and the reasons, for one place and period."""

    questions: dict[str, QuestionSummary]
    reasons: dict[str, ReasonFigure]

    def by_version(
        self,
    ) -> list[tuple[VersionFigures, list[tuple[QuestionSummary, VersionFigures]]]]:
        """Return the questions grouped by survey version, for a page that lists each apart."""
        groups: dict[tuple[str, int], list] = {}
        heads: dict[tuple[str, int], VersionFigures] = {}
        for question in self.questions.values():
            for version in question.versions:
                key = (version.survey_key, version.survey_version)
                heads.setdefault(key, version)
                groups.setdefault(key, []).append((question, version))
        return [(heads[key], groups[key]) for key in sorted(groups)]


def _reading_order(question: Question):
    # Headline, then rated questions, then follow-ups, then free text: surveys of different
    # lengths would otherwise interleave by position.
    return (
        not question.is_headline,
        question.show_if is not None,
        question.kind == "text",
        question.position,
        question.key,
    )


def is_reason_question(question: Question) -> bool:
    """Whether a question asks why the citizen was not satisfied (a multi-choice follow-up)."""
    return question.kind == "multi" and question.show_if is not None


def question_figures(session: Session, counts: Iterable[AnswerCount]) -> QuestionFigures:
    """Turn answer counts into per-question figures, each survey version on its own scale."""
    counts = [c for c in counts if c.n]
    question_ids = {c.question_id for c in counts}
    questions = (
        {
            q.id: q
            for q in session.scalars(
                select(Question)
                .where(Question.id.in_(question_ids))
                .options(selectinload(Question.choices), selectinload(Question.survey))
            )
        }
        if question_ids
        else {}
    )
    ordered = sorted(
        questions.values(),
        key=lambda q: (_reading_order(q), -q.survey.version, q.survey.key),
    )
    summaries: dict[str, QuestionSummary] = {}
    per_question: dict[int, VersionFigures] = {}
    for question in ordered:
        summary = summaries.setdefault(
            question.key,
            QuestionSummary(
                question.key, question.kind, texts=(question.text_vi, question.text_en)
            ),
        )
        survey: Survey = question.survey
        figures = VersionFigures(
            survey.key,
            survey.version,
            (survey.name_vi, survey.name_en),
            question.kind,
            len(question.choices),
        )
        # Every choice of the scale appears, best first, so a count list reads the same each time.
        for choice in question.choices:
            figures.counts[choice.key] = 0
            figures.choice_texts[choice.key] = (choice.text_vi, choice.text_en)
        summary.versions.append(figures)
        per_question[question.id] = figures
    for summary in summaries.values():
        summary.versions.sort(key=lambda v: (v.survey_key, v.survey_version))

    reasons: dict[str, list] = {}
    for count in counts:
        question = questions[count.question_id]
        figures = per_question[count.question_id]
        if count.choice_id == ANSWERED:
            if question.kind in ("multi", "text"):
                figures.n += count.n
            continue
        choice = next((c for c in question.choices if c.id == count.choice_id), None)
        if choice is None:  # pragma: no cover - a choice of another question
            continue
        figures.counts[choice.key] += count.n
        if question.kind in ("scale", "choice"):
            figures.n += count.n
            if choice.polarity == "positive":
                figures.positives += count.n
        if question.kind == "scale":
            score = choice_score(choice.position, len(question.choices))
            if score is not None:
                figures.scores.append((score, count.n))
        if is_reason_question(question):
            entry = reasons.setdefault(
                choice.key,
                [(choice.text_vi, choice.text_en), 0, choice.is_charged_to_officer, question],
            )
            entry[1] += count.n
            # The newest version's word on whom a reason is charged to stands.
            if question.survey.version >= entry[3].survey.version:
                entry[0] = (choice.text_vi, choice.text_en)
                entry[2] = choice.is_charged_to_officer
                entry[3] = question
    for figures in per_question.values():
        if figures.kind == "multi":
            # A several-choice question lists only the choices someone picked.
            figures.counts = {k: v for k, v in figures.counts.items() if v}
    return QuestionFigures(
        questions={k: s for k, s in summaries.items() if s.versions},
        reasons={
            key: ReasonFigure(key, texts, n, charged)
            for key, (texts, n, charged, _q) in sorted(reasons.items(), key=lambda i: -i[1][1])
        },
    )
