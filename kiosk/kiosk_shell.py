"""What the counter kiosk page needs besides its survey: both languages, its settings, the app
version that names the offline cache, and the service worker that keeps that cache."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cache
from importlib import metadata
from pathlib import Path

from flask import Response, current_app, request, url_for
from flask_babel import force_locale
from markupsafe import Markup

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


def app_version() -> str:
    """Return the package version and a digest of the static files, e.g. ``0.1.0+1a2b3c4d5e``."""
    if current_app.debug:
        _static_digest.cache_clear()
    try:
        version = metadata.version("hailong")
    except metadata.PackageNotFoundError:
        version = "0"
    return f"{version}+{_static_digest(current_app.static_folder)}"


def kiosk_context() -> dict:
    """Template data for every counter page, including the no-JavaScript form's error page."""
    config = current_app.config
    return {
        "in_locale": in_locale,
        "kiosk_languages": config["LANGUAGES"],
        "app_version": app_version(),
        "kiosk_settings": {
            "thanks-seconds": config["KIOSK_THANKS_SECONDS"],
            "min-interval-seconds": config["KIOSK_MIN_INTERVAL_SECONDS"],
            "idle-seconds": config["KIOSK_IDLE_SECONDS"],
            "idle-warning-seconds": config["KIOSK_IDLE_WARNING_SECONDS"],
            "heartbeat-seconds": config["KIOSK_HEARTBEAT_SECONDS"],
            "default-lang": config["BABEL_DEFAULT_LOCALE"],
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
