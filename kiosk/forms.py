"""Reading a survey's answers from a plain HTML form (phone page and no-JavaScript kiosk)."""

from __future__ import annotations

import uuid
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from surveys.errors import ValidationError
from surveys.responses import drop_hidden_answers
from surveys.spec import SurveySpec


def answers_from_form(spec: SurveySpec, form: MultiDict) -> dict[str, Any]:
    """Return the answers the citizen gave, leaving out follow-ups their answers did not open."""
    answers: dict[str, Any] = {}
    for question in spec.questions:
        if question.kind == "multi":
            values = [v for v in form.getlist(question.key) if v]
            if values:
                answers[question.key] = values
        elif (value := form.get(question.key, "")) != "":
            answers[question.key] = value
    return drop_hidden_answers(spec, answers)


def response_id_from_form(form: MultiDict) -> uuid.UUID:
    """Return the id rendered into the form, so a double submit stores one response."""
    try:
        return uuid.UUID(form.get("response_id", ""))
    except ValueError:
        return uuid.uuid4()


def form_errors(error: ValidationError) -> dict[str, str]:
    """Return a citizen-readable message per question for a domain validation error."""
    messages = {}
    for field, problem in error.fields.items():
        key = field.removeprefix("answers.")
        if problem in ("required", "the headline question must be answered"):
            messages[key] = _("Please choose an answer.")
        elif problem.startswith("longer than"):
            messages[key] = _("This text is too long.")
        else:
            messages[key] = _("This answer is not valid; please choose again.")
    return messages
