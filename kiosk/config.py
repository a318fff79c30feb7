"""Configuration: defaults → instance/config.py → environment → test overrides."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

#: Values that must never sign a production session cookie.
PLACEHOLDER_SECRETS = {None, "", "dev", "change-me", "secret"}


class Defaults:
    SECRET_KEY = None
    #: None means SQLite in the instance folder.
    DATABASE_URL = None
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    REDIS_URL = None

    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")

    #: Below these counts a rate is shown as "not enough data".
    MIN_RESPONSES = 10
    MIN_OFFICER_RESPONSES = 30
    #: Days the dashboard covers when no range is chosen.
    DEFAULT_RANGE_DAYS = 30

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "hailong_session"
    #: The cookie's own lifetime; the server-side session ends earlier (see below).
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    #: A signed-in browser is signed out after this much inactivity, and this long after
    #: signing in whatever it does (the session's row in user_session ends).
    SESSION_IDLE_MINUTES = 30
    SESSION_ABSOLUTE_HOURS = 12
    #: Roles that must use a second factor (TOTP); given as a comma list in the environment,
    #: e.g. FLASK_MFA_REQUIRED_ROLES=admin,manager. Empty: nobody is required to.
    MFA_REQUIRED_ROLES = ("admin",)
    #: Strict-Transport-Security max-age; set it (e.g. 31536000) once the site is served only
    #: over HTTPS. 0 sends no such header.
    HSTS_SECONDS = 0
    #: Former SECRET_KEYs still accepted when reading cookies and links signed with them (comma
    #: list in the environment), so rotating the key signs nobody out.
    SECRET_KEY_FALLBACKS: tuple[str, ...] = ()
    #: Failed sign-ins of one login before it must wait; the first wait, doubled at each
    #: further failure up to the longest. Never a permanent lockout.
    SIGN_IN_FREE_FAILURES = 5
    SIGN_IN_FIRST_WAIT_SECONDS = 30
    SIGN_IN_MAX_WAIT_MINUTES = 15
    #: Wrong PINs of one officer (from any kiosk) before PIN sign-in locks for a while.
    PIN_MAX_FAILURES = 5
    PIN_LOCK_MINUTES = 15
    #: API tokens: the default and the longest lifetime.
    API_TOKEN_DAYS = 90
    API_TOKEN_MAX_DAYS = 365
    #: A kiosk's credential is replaced by its heartbeat once this old; the one replaced is
    #: still accepted for the overlap, so ratings on their way are not lost.
    KIOSK_CREDENTIAL_ROTATE_HOURS = 24
    KIOSK_CREDENTIAL_OVERLAP_MINUTES = 10
    #: Comments older than this many days lose their text (the rating stays); 0 keeps them.
    COMMENT_RETENTION_DAYS = 0
    #: Set true behind HTTPS so cookies are never sent in clear.
    SESSION_COOKIE_SECURE = False
    #: Number of proxies in front of the app whose X-Forwarded-* headers are trusted.
    PROXY_FIX_X_FOR = 0

    WTF_CSRF_TIME_LIMIT = None
    MAX_CONTENT_LENGTH = 64 * 1024

    RATELIMIT_ENABLED = True
    #: In-process counters for one server; REDIS_URL switches to shared storage.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    #: Per client IP; generous because a whole office may share one carrier-NAT address.
    PHONE_RATE_LIMIT = "60 per minute;600 per hour"
    KIOSK_RATE_LIMIT = "30 per minute"
    LOGIN_RATE_LIMIT = "10 per minute;50 per hour"
    #: Seconds the kiosk waits on its thank-you screen before the next citizen.
    KIOSK_THANKS_SECONDS = 6
    #: Taps closer together than this on one kiosk are ignored, not queued (anti-stuffing).
    KIOSK_MIN_INTERVAL_SECONDS = 5
    #: Mid-survey inactivity before "Ông/Bà cần thêm thời gian?", then before the reset.
    KIOSK_IDLE_SECONDS = 60
    KIOSK_IDLE_WARNING_SECONDS = 20
    #: How often a kiosk reports its health; silent this long in opening hours = flagged.
    KIOSK_HEARTBEAT_SECONDS = 60
    KIOSK_SILENT_MINUTES = 15
    #: Lifetimes of a pairing link and of the short numeric code typed on the keypad.
    PAIRING_LINK_HOURS = 24
    PAIRING_CODE_MINUTES = 15
    #: Per IP: guesses at a pairing code; per device: officer PIN attempts.
    PAIRING_RATE_LIMIT = "10 per minute;30 per hour"
    OFFICER_SIGNIN_RATE_LIMIT = "10 per minute"
    #: Per IP: requests with a device token that is unknown or revoked (guessing credentials).
    DEVICE_FAILURE_RATE_LIMIT = "20 per minute;100 per hour"
    #: Live ratings one survey code takes in an hour before further ones are held as suspect
    #: (stored, left out of the figures until an administrator accepts them). A counter
    #: serves about one citizen a minute; an office's own code takes this per counter.
    CODE_HOURLY_CEILING = 60
    #: A response's own timestamp: how far ahead of the server's clock it may be, and how old
    #: a kiosk's queued rating or a phone's answer may be when it arrives.
    CLOCK_SKEW_MINUTES = 5
    KIOSK_MAX_AGE_HOURS = 7 * 24
    PHONE_MAX_AGE_MINUTES = 60
    #: Seconds a client is asked to wait (Retry-After) while the database is unreachable.
    RETRY_AFTER_SECONDS = 5

    #: One counted phone response per phone per survey code in this many minutes (signed cookie).
    PHONE_WINDOW_MINUTES = 30
    #: How long a printed ticket stays usable, and the most minted in one request.
    TICKET_TTL_HOURS = 72
    TICKET_MAX_PER_REQUEST = 500
    #: Per IP: look-ups of unknown, replaced or disabled survey and ticket codes (only misses
    #: count), so codes cannot be enumerated; generous for a carrier-NAT address of many phones.
    CODE_LOOKUP_RATE_LIMIT = "30 per minute;300 per hour"

    #: Outgoing e-mail (alerts): "smtp" sends through MAIL_SERVER, "console" prints each
    #: message on the worker's standard output instead (the demo of make run).
    MAIL_BACKEND = "smtp"
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    #: STARTTLS after connecting (port 587); the server's certificate is verified.
    MAIL_USE_TLS = False
    MAIL_FROM = "Hài Lòng <no-reply@localhost>"
    #: Seconds between two looks of the worker at the outbox.
    OUTBOX_POLL_SECONDS = 5
    #: Seconds a worker's claim on a message holds; after it another worker may send it.
    OUTBOX_LEASE_SECONDS = 120
    #: Seconds before the first retry of a failed delivery (each next waits twice as long,
    #: at most an hour), and hours after which an undelivered message is given up.
    OUTBOX_FIRST_RETRY_SECONDS = 30
    OUTBOX_GIVE_UP_HOURS = 24
    #: Days a sent message, and a given-up one, is kept (listed among a webhook's deliveries)
    #: before the worker's daily purge deletes it.
    OUTBOX_KEEP_DAYS = 30
    OUTBOX_KEEP_FAILED_DAYS = 90
    #: Seconds one webhook delivery or SMTP conversation may take.
    DELIVERY_TIMEOUT_SECONDS = 10
    #: Seconds the public office pages (/p) keep their figures before computing them again.
    PUBLIC_CACHE_SECONDS = 300
    #: A call-back case is due this many working days (Monday to Friday) after it is opened,
    #: and its contact detail is erased this many days after it is resolved.
    CASE_DUE_WORKING_DAYS = 3
    CASE_ERASE_DAYS = 30


def load_config(app: Flask, test_config: dict | None) -> None:
    """Fill app.config in the documented order; later sources win."""
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    for name in (
        "DATABASE_URL",
        "SECRET_KEY",
        "SECRET_KEY_FALLBACKS",
        "PUBLIC_BASE_URL",
        "REDIS_URL",
    ):
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    app.config.from_prefixed_env()
    if test_config:
        app.config.update(test_config)
    for name in ("SECRET_KEY_FALLBACKS", "MFA_REQUIRED_ROLES"):
        app.config[name] = comma_list(app.config[name])
    if not app.config["DATABASE_URL"]:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'hailong.db'}"
    app.config["DATABASE_URL"] = normalise_database_url(app.config["DATABASE_URL"])
    if app.config["REDIS_URL"] and app.config["RATELIMIT_STORAGE_URI"] == "memory://":
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    check_secret_key(app)


def comma_list(value) -> list[str]:
    """Return a list from a list, or from the comma list an environment variable gives."""
    if isinstance(value, str):
        value = value.split(",")
    return [str(item).strip() for item in value or () if str(item).strip()]


def normalise_database_url(url: str) -> str:
    """Let operators write postgres:// or postgresql:// and still get the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def check_secret_key(app: Flask) -> None:
    """Refuse to run outside development or tests without a real SECRET_KEY."""
    if app.config["SECRET_KEY"] in PLACEHOLDER_SECRETS:
        if app.debug or app.testing:
            app.config["SECRET_KEY"] = app.config["SECRET_KEY"] or "development-only-key"
            return
        raise RuntimeError(
            "SECRET_KEY is not set. Generate one with\n"
            "    python -c 'import secrets; print(secrets.token_hex(32))'\n"
            "and pass it as the SECRET_KEY environment variable "
            "(or SECRET_KEY = '...' in instance/config.py)."
        )
