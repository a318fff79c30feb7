"""One counted response per phone per survey code per window, remembered in a signed cookie.

The cookie holds only {code: seconds since the epoch} for codes answered within the window,
signed with the app's secret so it cannot be forged; the server keeps nothing about the phone.
A phone that clears its cookies can answer again: the per-IP limits stand behind this one.
"""

from __future__ import annotations

import logging
import time

from flask import Response, current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "hailong_answered"
#: Enough for a citizen who rates every counter of a big office in one visit.
MAX_CODES = 40

log = logging.getLogger("hailong.throttle")


def _window_seconds() -> int:
    return int(current_app.config["PHONE_WINDOW_MINUTES"]) * 60


def is_enabled() -> bool:
    return bool(current_app.config["RATELIMIT_ENABLED"]) and _window_seconds() > 0


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="hailong.phone-window")


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


def refuse(code: str, channel: str) -> None:
    """Log a refusal: the code and channel only, never the address or the cookie."""
    log.warning("Repeat %s response for %s within the phone window refused", channel, code)


def remember(code: str) -> None:
    """Mark ``code`` as answered; the cookie is written on the way out (see set_cookie)."""
    if is_enabled():
        g.phone_window_code = code


def set_cookie(response: Response) -> Response:
    code = g.pop("phone_window_code", None)
    if code is None:
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
