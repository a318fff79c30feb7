"""Rate limiting that belongs to each app, and refusals logged without personal data."""

from __future__ import annotations

import logging

from flask import Flask, current_app, has_app_context, request
from flask_limiter import Limiter, RequestLimit

log = logging.getLogger("hailong.throttle")

#: Flask-Limiter keeps these on the extension object, i.e. once per process.
_PER_APP = ("enabled", "_storage", "_limiter", "_key_prefix")
_STATE = "hailong.limiter"


def _per_app_attribute(name: str) -> property:
    def get(self: AppLimiter):
        if has_app_context() and not self.__dict__.get("_building_app"):
            state = current_app.extensions.get(_STATE)
            if state is not None:
                return state[name]
        return self.__dict__.setdefault("_pending", {}).get(name)

    def set_(self: AppLimiter, value) -> None:
        self.__dict__.setdefault("_pending", {})[name] = value

    return property(get, set_)


class AppLimiter(Limiter):
    """A Limiter whose on/off switch, storage and key prefix are per app, not per process.

    Flask-Limiter's extension object is a module global; initialised for a second app (a test,
    a benchmark, a CLI command) it would otherwise switch the first app's limits on or off and
    move its counters to the other storage. Here each app reads its own from app.extensions.
    """

    enabled = _per_app_attribute("enabled")
    _storage = _per_app_attribute("_storage")
    _limiter = _per_app_attribute("_limiter")
    _key_prefix = _per_app_attribute("_key_prefix")

    def init_app(self, app: Flask) -> None:
        pending = self.__dict__.setdefault("_pending", {})
        pending.update({"enabled": True, "_storage": None, "_limiter": None, "_key_prefix": ""})
        self.__dict__["_building_app"] = True
        try:
            super().init_app(app)
        finally:
            self.__dict__["_building_app"] = False
        app.extensions[_STATE] = {name: pending[name] for name in _PER_APP}


def log_breach(limit: RequestLimit) -> None:
    """Note a refused request: the limit and the page, never the address or the key."""
    log.warning("Rate limit %s reached on %s %s", limit.limit, request.method, request.endpoint)


class _WithoutClientKeys(logging.Filter):
    """Drop Flask-Limiter's own breach message: it contains the client's IP address."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("ratelimit %s (%s) exceeded")


logging.getLogger("flask-limiter").addFilter(_WithoutClientKeys())
