"""The settings the app runs on, read once from app.config into a typed, frozen object.

app.config keeps the documented names (``FLASK_PHONE_WINDOW_MINUTES`` and so on); this module
turns them into numbers and ``timedelta``s once, at start-up, and refuses a value that does not
fit with a message naming it. Views and domain calls take what they need from here instead of
re-reading and re-multiplying config entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app

from surveys.cases import CasePolicy
from surveys.models.account import ROLES
from surveys.outbox import OutboxRetention, RetryPolicy
from surveys.responses import SubmitPolicy
from surveys.sessions import SessionLifetimes
from surveys.throttle import ThrottlePolicy

_EXTENSION = "hailong.settings"


class SettingError(ValueError):
    """A configuration value of the wrong type or out of range."""


def _number(config, name: str, *, minimum: float = 0, integer: bool = True) -> int | float:
    value = config[name]
    if isinstance(value, str):
        try:
            value = float(value) if not integer else int(value)
        except ValueError:
            raise SettingError(f"{name} must be a number, not {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingError(f"{name} must be a number, not {value!r}")
    if integer and value != int(value):
        raise SettingError(f"{name} must be a whole number, not {value!r}")
    if value < minimum:
        raise SettingError(f"{name} must be at least {minimum}, not {value!r}")
    return int(value) if integer else float(value)


def _seconds(config, name: str, minimum: float = 0) -> timedelta:
    return timedelta(seconds=_number(config, name, minimum=minimum, integer=False))


def _minutes(config, name: str, minimum: float = 0) -> timedelta:
    return timedelta(minutes=_number(config, name, minimum=minimum, integer=False))


def _hours(config, name: str, minimum: float = 0) -> timedelta:
    return timedelta(hours=_number(config, name, minimum=minimum, integer=False))


def _roles(value) -> frozenset[str]:
    roles = frozenset(value)
    unknown = roles - set(ROLES)
    if unknown:
        raise SettingError(f"MFA_REQUIRED_ROLES names unknown roles: {sorted(unknown)}")
    return roles


def _retention(config) -> timedelta | None:
    days = _number(config, "COMMENT_RETENTION_DAYS")
    return timedelta(days=days) if days else None


@dataclass(frozen=True)
class MailSettings:
    backend: str
    server: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    sender: str


def _flag(config, name: str) -> bool:
    value = config[name]
    if isinstance(value, str):
        if value.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if value.strip().lower() in ("0", "false", "no", "off", ""):
            return False
        raise SettingError(f"{name} must be true or false, not {value!r}")
    return bool(value)


def _mail(config) -> MailSettings:
    if config["MAIL_BACKEND"] not in ("smtp", "console"):
        raise SettingError("MAIL_BACKEND must be 'smtp' or 'console'")
    return MailSettings(
        backend=config["MAIL_BACKEND"],
        server=str(config["MAIL_SERVER"] or "localhost"),
        port=_number(config, "MAIL_PORT", minimum=1),
        username=config["MAIL_USERNAME"] or None,
        password=config["MAIL_PASSWORD"] or None,
        use_tls=_flag(config, "MAIL_USE_TLS"),
        sender=str(config["MAIL_FROM"]),
    )


@dataclass(frozen=True)
class Settings:
    public_base_url: str
    languages: tuple[str, ...]
    default_language: str
    default_timezone: str

    #: Below these counts a rate is shown as "not enough data".
    min_responses: int
    min_officer_responses: int
    #: Days a report covers when no range is chosen.
    default_range_days: int

    rate_limits_enabled: bool
    phone_rate_limit: str
    kiosk_rate_limit: str
    login_rate_limit: str
    pairing_rate_limit: str
    officer_signin_rate_limit: str
    code_lookup_rate_limit: str
    device_failure_rate_limit: str
    #: Live ratings per hour that one code takes before further ones are held as suspect;
    #: an office's own code takes this many per counter of the office.
    code_hourly_ceiling: int

    #: One counted phone answer per phone per code in this window.
    phone_window: timedelta
    submit: SubmitPolicy

    ticket_ttl: timedelta
    ticket_max_per_request: int

    kiosk_thanks: timedelta
    kiosk_min_interval: timedelta
    kiosk_idle: timedelta
    kiosk_idle_warning: timedelta
    kiosk_heartbeat: timedelta
    kiosk_silent: timedelta
    pairing_link_ttl: timedelta
    pairing_code_ttl: timedelta

    #: Seconds a client should wait before retrying while the database is unreachable.
    retry_after_seconds: int

    session_lifetimes: SessionLifetimes
    mfa_required_roles: frozenset[str]
    hsts_seconds: int
    sign_in_throttle: ThrottlePolicy
    pin_max_failures: int
    pin_lock: timedelta
    api_token_lifetime: timedelta
    api_token_max_lifetime: timedelta
    kiosk_credential_rotate: timedelta
    kiosk_credential_overlap: timedelta
    #: None: comments are kept.
    comment_retention: timedelta | None
    mail: MailSettings
    outbox_poll: timedelta
    outbox_retry: RetryPolicy
    outbox_retention: OutboxRetention
    delivery_timeout: float
    public_cache: timedelta
    cases: CasePolicy

    @classmethod
    def from_config(cls, config) -> Settings:
        """Read and check every setting; raise SettingError naming the first bad one."""
        languages = tuple(config["LANGUAGES"])
        if config["BABEL_DEFAULT_LOCALE"] not in languages:
            raise SettingError("BABEL_DEFAULT_LOCALE must be one of LANGUAGES")
        for name in (
            "PHONE_RATE_LIMIT",
            "KIOSK_RATE_LIMIT",
            "LOGIN_RATE_LIMIT",
            "PAIRING_RATE_LIMIT",
            "OFFICER_SIGNIN_RATE_LIMIT",
            "CODE_LOOKUP_RATE_LIMIT",
            "DEVICE_FAILURE_RATE_LIMIT",
        ):
            if not isinstance(config[name], str) or not config[name].strip():
                raise SettingError(f"{name} must be a rate such as '60 per minute'")
        return cls(
            public_base_url=str(config["PUBLIC_BASE_URL"]).rstrip("/"),
            languages=languages,
            default_language=config["BABEL_DEFAULT_LOCALE"],
            default_timezone=config["BABEL_DEFAULT_TIMEZONE"],
            min_responses=_number(config, "MIN_RESPONSES", minimum=1),
            min_officer_responses=_number(config, "MIN_OFFICER_RESPONSES", minimum=1),
            default_range_days=_number(config, "DEFAULT_RANGE_DAYS", minimum=1),
            rate_limits_enabled=bool(config["RATELIMIT_ENABLED"]),
            phone_rate_limit=config["PHONE_RATE_LIMIT"],
            kiosk_rate_limit=config["KIOSK_RATE_LIMIT"],
            login_rate_limit=config["LOGIN_RATE_LIMIT"],
            pairing_rate_limit=config["PAIRING_RATE_LIMIT"],
            officer_signin_rate_limit=config["OFFICER_SIGNIN_RATE_LIMIT"],
            code_lookup_rate_limit=config["CODE_LOOKUP_RATE_LIMIT"],
            device_failure_rate_limit=config["DEVICE_FAILURE_RATE_LIMIT"],
            code_hourly_ceiling=_number(config, "CODE_HOURLY_CEILING", minimum=0),
            phone_window=_minutes(config, "PHONE_WINDOW_MINUTES"),
            submit=SubmitPolicy(
                clock_skew=_minutes(config, "CLOCK_SKEW_MINUTES"),
                kiosk_max_age=_hours(config, "KIOSK_MAX_AGE_HOURS", minimum=1),
                phone_max_age=_minutes(config, "PHONE_MAX_AGE_MINUTES", minimum=1),
            ),
            ticket_ttl=_hours(config, "TICKET_TTL_HOURS", minimum=0.01),
            ticket_max_per_request=_number(config, "TICKET_MAX_PER_REQUEST", minimum=1),
            kiosk_thanks=_seconds(config, "KIOSK_THANKS_SECONDS", minimum=0),
            kiosk_min_interval=_seconds(config, "KIOSK_MIN_INTERVAL_SECONDS"),
            kiosk_idle=_seconds(config, "KIOSK_IDLE_SECONDS", minimum=1),
            kiosk_idle_warning=_seconds(config, "KIOSK_IDLE_WARNING_SECONDS", minimum=1),
            kiosk_heartbeat=_seconds(config, "KIOSK_HEARTBEAT_SECONDS", minimum=1),
            kiosk_silent=_minutes(config, "KIOSK_SILENT_MINUTES", minimum=0),
            pairing_link_ttl=_hours(config, "PAIRING_LINK_HOURS", minimum=0.01),
            pairing_code_ttl=_minutes(config, "PAIRING_CODE_MINUTES", minimum=0.01),
            retry_after_seconds=_number(config, "RETRY_AFTER_SECONDS", minimum=1),
            session_lifetimes=SessionLifetimes(
                idle=_minutes(config, "SESSION_IDLE_MINUTES", minimum=1),
                absolute=_hours(config, "SESSION_ABSOLUTE_HOURS", minimum=0.1),
            ),
            mfa_required_roles=_roles(config["MFA_REQUIRED_ROLES"]),
            hsts_seconds=_number(config, "HSTS_SECONDS"),
            sign_in_throttle=ThrottlePolicy(
                free_failures=_number(config, "SIGN_IN_FREE_FAILURES", minimum=1),
                first_wait=_seconds(config, "SIGN_IN_FIRST_WAIT_SECONDS", minimum=1),
                max_wait=_minutes(config, "SIGN_IN_MAX_WAIT_MINUTES", minimum=0.1),
            ),
            pin_max_failures=_number(config, "PIN_MAX_FAILURES", minimum=1),
            pin_lock=_minutes(config, "PIN_LOCK_MINUTES", minimum=0.1),
            api_token_lifetime=timedelta(days=_number(config, "API_TOKEN_DAYS", minimum=1)),
            api_token_max_lifetime=timedelta(days=_number(config, "API_TOKEN_MAX_DAYS", minimum=1)),
            kiosk_credential_rotate=_hours(config, "KIOSK_CREDENTIAL_ROTATE_HOURS", minimum=0.01),
            kiosk_credential_overlap=_minutes(
                config, "KIOSK_CREDENTIAL_OVERLAP_MINUTES", minimum=0
            ),
            comment_retention=_retention(config),
            mail=_mail(config),
            outbox_poll=_seconds(config, "OUTBOX_POLL_SECONDS", minimum=0.1),
            outbox_retry=RetryPolicy(
                first_retry=_seconds(config, "OUTBOX_FIRST_RETRY_SECONDS", minimum=1),
                give_up_after=_hours(config, "OUTBOX_GIVE_UP_HOURS", minimum=0.01),
                lease=_seconds(config, "OUTBOX_LEASE_SECONDS", minimum=5),
            ),
            outbox_retention=OutboxRetention(
                keep_sent=timedelta(days=_number(config, "OUTBOX_KEEP_DAYS", minimum=1)),
                keep_failed=timedelta(days=_number(config, "OUTBOX_KEEP_FAILED_DAYS", minimum=1)),
            ),
            public_cache=_seconds(config, "PUBLIC_CACHE_SECONDS", minimum=0),
            cases=CasePolicy(
                due_working_days=_number(config, "CASE_DUE_WORKING_DAYS", minimum=1),
                erase_after=timedelta(days=_number(config, "CASE_ERASE_DAYS", minimum=1)),
            ),
            delivery_timeout=float(
                _number(config, "DELIVERY_TIMEOUT_SECONDS", minimum=1, integer=False)
            ),
        )


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = Settings.from_config(app.config)


def settings() -> Settings:
    """Return the running app's settings."""
    return current_app.extensions[_EXTENSION]
