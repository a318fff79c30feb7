"""What the counter kiosk page needs besides its survey: both languages, its settings, the app
version that names the offline cache, and the service worker that keeps that cache."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from functools import cache
from importlib import metadata
from pathlib import Path

from flask import Response, current_app, request, url_for
from flask_babel import force_locale
from markupsafe import Markup

from kiosk.settings import settings

#: Replaced in static/js/sw.js by the running version, so a new version changes the worker's
#: bytes and the browser installs it (with a fresh cache) on its next update check.
VERSION_PLACEHOLDER = "__APP_VERSION__"


def in_locale(lang: str, caller: Callable[[], Markup]) -> Markup:
    """Render a Jinja ``{% call %}`` block in another language.

    The kiosk carries every text in both languages, so a citizen switches language in place,
    offline and without losing answers, and the next citizen starts in Vietnamese again.
    """
    with force_locale(lang):
        return caller()


@cache
def _static_digest(folder: str) -> str:
    digest = hashlib.sha256()
    root = Path(folder)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def release() -> str:
    """Return the installed package's version, e.g. ``0.1.0``: what staff can read out."""
    try:
        return metadata.version("hailong")
    except metadata.PackageNotFoundError:
        return "0"


def app_version() -> str:
    """Return the package version and a digest of the static files, e.g. ``0.1.0+1a2b3c4d5e``."""
    if current_app.debug:
        _static_digest.cache_clear()
    return f"{release()}+{_static_digest(current_app.static_folder)}"


def _seconds(delta) -> int | float:
    seconds = delta.total_seconds()
    return int(seconds) if seconds == int(seconds) else seconds


def kiosk_context() -> dict:
    """Template data for every counter page, including the no-JavaScript form's error page."""
    config = settings()
    return {
        "in_locale": in_locale,
        "kiosk_languages": config.languages,
        "app_version": app_version(),
        "thanks_seconds": _seconds(config.kiosk_thanks),
        "kiosk_settings": {
            "thanks-seconds": _seconds(config.kiosk_thanks),
            "min-interval-seconds": _seconds(config.kiosk_min_interval),
            "idle-seconds": _seconds(config.kiosk_idle),
            "idle-warning-seconds": _seconds(config.kiosk_idle_warning),
            "heartbeat-seconds": _seconds(config.kiosk_heartbeat),
            "default-lang": config.default_language,
        },
    }


def service_worker_response() -> Response:
    """Serve static/js/sw.js stamped with the app version, allowed to control /kiosk."""
    version = app_version()
    source = Path(current_app.static_folder, "js", "sw.js").read_text(encoding="utf-8")
    response = current_app.response_class(
        source.replace(VERSION_PLACEHOLDER, version), mimetype="text/javascript"
    )
    # The worker lives at /kiosk/sw.js, whose default scope /kiosk/ misses the page /kiosk.
    response.headers["Service-Worker-Allowed"] = url_for("counter.index")
    response.headers["Cache-Control"] = "no-cache"
    response.set_etag(version)
    return response.make_conditional(request)


_KEEP = re.compile(r"(<textarea\b.*?</textarea>)", re.DOTALL | re.IGNORECASE)


def compact_html(html: str) -> str:
    """Drop the indentation at the start of each line (outside a textarea's text).

    The kiosk carries every text in two languages within a 50 KB budget; the browser ignores
    this whitespace anyway.
    """
    parts = _KEEP.split(html)
    return "".join(
        part if i % 2 else re.sub(r"\n[ \t]+", "\n", part) for i, part in enumerate(parts)
    )
