"""What may enter: text a database can store, and JSON of a sane shape.

Checked once, at the boundary, for every request: a NUL character or a lone surrogate in the
path, the query string, a form or a JSON body is refused with a clear 400 (a 404 in the path:
no code contains one) before any view, so no such string ever reaches PostgreSQL, a hash or a
template. JSON bodies are read by ``read_json`` alone, which also bounds their nesting.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, abort, request

from surveys.errors import Reason, ValidationError

#: The few forms that upload a file, or carry a whole survey in both languages, may send more
#: than MAX_CONTENT_LENGTH (64 KB).
LARGE_BODIES = {
    "admin_org.add_officer": 1024 * 1024,
    "admin_org.officer": 1024 * 1024,
    "admin_import.upload": 6 * 1024 * 1024,
    "admin_surveys.edit": 1024 * 1024,
}
#: No body of this API nests deeper than 3; 32 leaves room and stops a 60,000-deep bomb.
MAX_JSON_DEPTH = 32
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def is_storable(text: str) -> bool:
    """Return whether a string holds no NUL and no lone surrogate."""
    return _UNSTORABLE.search(text) is None


def init_app(app: Flask) -> None:
    app.before_request(refuse_unstorable_text)


def refuse_unstorable_text() -> None:
    """Refuse a request whose path, query string or form carries unstorable characters."""
    if not is_storable(request.path):
        abort(404)
    if request.endpoint in LARGE_BODIES:
        request.max_content_length = LARGE_BODIES[request.endpoint]
    bad: dict[str, Reason] = {}
    sources = [request.args]
    if request.method in ("POST", "PUT", "PATCH"):
        sources.append(request.form)
    for source in sources:
        for name, values in source.lists():
            if not is_storable(name) or not all(
                isinstance(v, str) and is_storable(v) for v in values
            ):
                bad[name if is_storable(name) else "?"] = Reason.INVALID_TEXT
    if bad:
        raise ValidationError("The request contains characters that cannot be stored.", bad)


class MalformedBody(ValidationError):
    """The body is not a JSON object at all."""

    code = "malformed_json"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_json() -> Any:
    """Return the request's JSON body, or raise ValidationError saying what is wrong with it.

    The body must be sent as JSON (Content-Type application/json), be valid JSON (NaN and
    Infinity are not), be an object, nest at most MAX_JSON_DEPTH deep and hold only storable
    text. A body that is not a JSON object at all raises MalformedBody (code malformed_json).
    """
    if not request.is_json:
        raise MalformedBody("The body must be JSON.", {"body": Reason.NOT_JSON})
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise MalformedBody("The JSON is nested too deep.", {"body": Reason.TOO_DEEP}) from None
    except ValueError:  # also UnicodeDecodeError
        raise MalformedBody("The body is not valid JSON.", {"body": Reason.NOT_JSON}) from None
    if not isinstance(data, dict):
        raise MalformedBody("The body must be a JSON object.", {"body": Reason.NOT_AN_OBJECT})
    problems: dict[str, Reason] = {}
    _check(data, "", 0, problems)
    if problems:
        raise ValidationError("The JSON body cannot be accepted.", problems)
    return data


def _check(value: Any, path: str, depth: int, problems: dict[str, Reason]) -> None:
    if len(problems) >= 20:
        return
    if depth > MAX_JSON_DEPTH:
        problems["body"] = Reason.TOO_DEEP
        return
    if isinstance(value, str):
        if not is_storable(value):
            problems[path or "body"] = Reason.INVALID_TEXT
    elif isinstance(value, dict):
        for key, item in value.items():
            if not is_storable(key):
                problems[path or "body"] = Reason.INVALID_TEXT
                continue
            _check(item, f"{path}.{key}" if path else key, depth + 1, problems)
    elif isinstance(value, list):
        for item in value:
            _check(item, path, depth + 1, problems)
