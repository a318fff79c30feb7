"""Reading a survey's answers from a plain HTML form (phone page and no-JavaScript kiosk)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from werkzeug.datastructures import MultiDict

from surveys.errors import Reason, ValidationError
from surveys.responses import drop_hidden_answers
from surveys.spec import SurveySpec

#: ASCII digits only: str.isdigit() also says yes to "²", which int() refuses.
WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


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


def whole_number(text: str, field: str) -> int:
    """Return the whole number typed in a form field, or raise naming the field."""
    text = (text or "").strip()
    if not WHOLE_NUMBER.fullmatch(text):
        raise ValidationError("Not a whole number.", {field: Reason.NOT_AN_INTEGER})
    return int(text)
