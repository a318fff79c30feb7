"""One counted response per phone per survey code per window, remembered in a signed cookie.

The cookie holds only {code: seconds since the epoch} for codes answered within the window,
signed with the app's secret so it cannot be forged; the server keeps nothing about the phone.
A phone that clears its cookies can answer again: the per-IP limits and the code's hourly
ceiling stand behind this one. ``submit_phone_answer`` is the one way both phone paths (the
form and the JSON API) store an answer under this rule.
"""

from __future__ import annotations

import logging
import time

from flask import Response, current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from kiosk.ratelimit import over_ceiling
from kiosk.settings import settings
from kiosk.signing import serializer
from surveys.db import utcnow
from surveys.errors import AlreadyAnswered
from surveys.responses import ResponseInput, Submission, submit_response

COOKIE = "hailong_answered"
#: Enough for a citizen who rates every counter of a big office in one visit.
MAX_CODES = 40

log = logging.getLogger("hailong.throttle")


def _window_seconds() -> int:
    return int(settings().phone_window.total_seconds())


def is_enabled() -> bool:
    return settings().rate_limits_enabled and _window_seconds() > 0


def _serializer() -> URLSafeTimedSerializer:
    return serializer("hailong.phone-window")


def _answered(now: float) -> dict[str, int]:
    """Return the codes this phone answered within the window (an invalid cookie is ignored)."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return {}
    try:
        data = _serializer().loads(raw, max_age=_window_seconds())
    except BadSignature:
        return {}
    if not isinstance(data, dict):
        return {}
    oldest = now - _window_seconds()
    return {
        str(code): int(at)
        for code, at in data.items()
        if isinstance(at, int | float) and oldest < at <= now + 60
    }


def answered_recently(code: str) -> bool:
    """Return whether this phone already gave a counted response for ``code`` in the window."""
    if not is_enabled():
        return False
    return code in _answered(time.time())


def submit_phone_answer(db, payload: ResponseInput, *, channel_label: str) -> Submission:
    """Store a phone's answer: a replay is always acknowledged, a new answer only outside the
    window; the code's hourly ceiling marks it suspect. Raises what submit_response raises."""
    code = payload.target_code
    try:
        submission = submit_response(
            db,
            payload,
            now=utcnow(),
            policy=settings().submit,
            replay_only=answered_recently(code),
            over_ceiling=over_ceiling,
        )
    except AlreadyAnswered:
        # The code and channel only, never the address or the cookie.
        log.warning(
            "Repeat %s response for %s within the phone window refused", channel_label, code
        )
        raise
    if submission.is_new and is_enabled():
        g.phone_window_code = submission.target.code
    return submission


def set_cookie(response: Response) -> Response:
    """Write the window cookie of an answer stored by this request (not on an error answer)."""
    code = g.pop("phone_window_code", None)
    if code is None or response.status_code >= 400:
        return response
    now = time.time()
    answered = _answered(now)
    answered[code] = int(now)
    newest = dict(sorted(answered.items(), key=lambda item: item[1])[-MAX_CODES:])
    response.set_cookie(
        COOKIE,
        _serializer().dumps(newest),
        max_age=_window_seconds(),
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response
