"""Rate limits: one Flask-Limiter per app, every endpoint's limits in one table, and the hourly
ceiling of a survey code. Refusals are logged without personal data.

The limiter is created for each app in the factory (not a module global), so two apps in one
process (tests, benchmarks, a CLI command) never share an on/off switch, storage or counters;
only Flask-Limiter's public API is used. ``FLASK_RATELIMIT_ENABLED=false`` switches every
throttle off, the code ceiling included, and leaves the views unwrapped.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RequestLimit
from limits import RateLimitItemPerHour

from kiosk.auth import device_credential
from kiosk.settings import Settings, settings
from surveys.targets import TargetRef
from surveys.tokens import hash_secret

log = logging.getLogger("hailong.throttle")
_EXTENSION = "hailong.limiter"


def client_key() -> str:
    """Return the client's address; an IPv6 address counts as its /64 network.

    One household, phone or office gets a whole /64, so counting single IPv6 addresses would
    give an attacker 2^64 allowances.
    """
    address = request.remote_addr or "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return f"{ipaddress.ip_network(f'{ip}/64', strict=False).network_address}/64"
    return address


def device_key() -> str:
    """Key of a kiosk's own allowance: its credential's hash, never the credential itself."""
    return "device:" + hash_secret(device_credential() or "")


def has_bearer() -> bool:
    """Whether this is a kiosk's rating through the API (a device credential, by header or by
    the tablet's cookie). Only that endpoint checks the credential, so only there may it
    exempt a request from the phones' allowance: the forms never take one."""
    return request.endpoint == "api.post_response" and device_credential() is not None


def no_bearer() -> bool:
    return device_credential() is None


def _is_miss(response: Response) -> bool:
    return response.status_code in (404, 410)


def _is_unknown_device(response: Response) -> bool:
    """A device token was refused (not a wrong PIN: that 401 asks for no Bearer)."""
    return response.status_code == 401 and "WWW-Authenticate" in response.headers


@dataclass(frozen=True)
class RouteLimit:
    """A limit on some endpoints; ``scope`` makes it one allowance shared by all of them."""

    endpoints: tuple[str, ...]
    rate: Callable[[Settings], str]
    key: Callable[[], str] = client_key
    scope: str | None = None
    methods: tuple[str, ...] | None = None
    exempt_when: Callable[[], bool] | None = None
    deduct_when: Callable[[Response], bool] | None = None


#: Every limit of the app. Phone answers share one allowance per client, whichever way they
#: come (form, ticket form or JSON API), with call-back requests.
LIMITS = (
    # A call-back request follows a rating: the same citizen allowance.
    RouteLimit(
        (
            "phone.submit",
            "phone.add_more",
            "tickets.submit",
            "api.post_response",
            "api_callbacks.create",
        ),
        lambda s: s.phone_rate_limit,
        scope="phone-submit",
        exempt_when=has_bearer,
    ),
    RouteLimit(
        ("api.post_response",), lambda s: s.kiosk_rate_limit, key=device_key, exempt_when=no_bearer
    ),
    # Guessing device credentials: only refusals count, per client.
    RouteLimit(
        (
            "api.post_response",
            "kiosk_api.heartbeat",
            "kiosk_api.state",
            "kiosk_api.officer_sign_in",
            "kiosk_api.officer_choose_pin",
            "kiosk_api.officer_sign_out",
        ),
        lambda s: s.device_failure_rate_limit,
        scope="device-failure",
        exempt_when=no_bearer,
        deduct_when=_is_unknown_device,
    ),
    RouteLimit(
        ("kiosk_api.officer_sign_in", "kiosk_api.officer_choose_pin"),
        lambda s: s.officer_signin_rate_limit,
        key=device_key,
        scope="officer-sign-in",
    ),
    RouteLimit(("auth.login",), lambda s: s.login_rate_limit, methods=("POST",)),
    RouteLimit(("counter.pair_by_code",), lambda s: s.pairing_rate_limit, methods=("POST",)),
    # Enumerating codes: only look-ups that find nothing count, so scanning one poster all day
    # never trips it.
    RouteLimit(
        (
            "phone.enter_code",
            "phone.survey",
            "phone.qr_svg_file",
            "phone.qr_png_file",
            "phone.poster",
            "tickets.survey",
        ),
        lambda s: s.code_lookup_rate_limit,
        scope="code-lookup",
        deduct_when=_is_miss,
    ),
)


def init_app(app: Flask) -> None:
    """Create this app's limiter and wrap the limited views (after the blueprints)."""
    config: Settings = app.extensions["hailong.settings"]
    limiter = Limiter(key_func=client_key, default_limits=[], on_breach=log_breach)
    limiter.init_app(app)
    app.extensions[_EXTENSION] = limiter
    if not limiter.enabled:
        return
    for rule in LIMITS:
        rate = rule.rate(config)
        if rule.scope:
            decorator = limiter.shared_limit(
                rate,
                scope=rule.scope,
                key_func=rule.key,
                exempt_when=rule.exempt_when,
                deduct_when=rule.deduct_when,
                methods=list(rule.methods) if rule.methods else None,
            )
        else:
            decorator = limiter.limit(
                rate,
                key_func=rule.key,
                exempt_when=rule.exempt_when,
                deduct_when=rule.deduct_when,
                methods=list(rule.methods) if rule.methods else None,
            )
        for endpoint in rule.endpoints:
            app.view_functions[endpoint] = decorator(app.view_functions[endpoint])


def limiter() -> Limiter:
    return current_app.extensions[_EXTENSION]


def over_ceiling(target: TargetRef) -> bool:
    """Count a live rating against its code's hourly ceiling; True once the ceiling is passed.

    The ceiling is CODE_HOURLY_CEILING per counter the code stands for (an office's own code
    serves all its counters). Nothing is refused here: the caller stores the rating as suspect.
    """
    config = settings()
    this_limiter = limiter()
    if not this_limiter.enabled or config.code_hourly_ceiling <= 0:
        return False
    item = RateLimitItemPerHour(config.code_hourly_ceiling * target.counters_served)
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    return not this_limiter.limiter.hit(item, prefix, "code-ceiling", target.code)


def log_breach(limit: RequestLimit) -> None:
    """Note a refused request: the limit and the page, never the address or the key."""
    log.warning("Rate limit %s reached on %s %s", limit.limit, request.method, request.endpoint)


class _WithoutClientKeys(logging.Filter):
    """Drop Flask-Limiter's own breach message: it contains the client's IP address."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("ratelimit %s (%s) exceeded")


logging.getLogger("flask-limiter").addFilter(_WithoutClientKeys())
