"""Who is asking: the signed-in user (a server-side session, or an API bearer token), and the
decorators that let only them in. The sign-in pages themselves are in kiosk/views/auth.py.

The session cookie (signed by Flask) holds only the secret of a row of ``user_session``;
every request checks that row, so signing out, a password change or switching an account off
takes effect at once, however old the cookie. A user whose role needs a second factor and who
has none is sent to set one up before anything else.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, current_app, g, redirect, request, session, url_for

from kiosk.database import get_session, run_apart
from kiosk.errors import json_error
from kiosk.settings import settings
from kiosk.signing import serializer
from surveys import accounts, mfa, sessions
from surveys.db import utcnow
from surveys.models import User, UserSession
from surveys.throttle import login_key

#: The one key of the session cookie that says who is signed in.
SESSION_KEY = "sid"
#: Endpoints an API token needs "read+tickets" for; any other write needs "admin".
TICKET_ENDPOINTS = frozenset({"api_tickets.mint"})
KNOWN_BROWSER_COOKIE = "hailong_known"
KNOWN_BROWSER_AGE = 365 * 86400
_KNOWN_SALT = "hailong.known-browser"


def bearer_token() -> str | None:
    """Return the token of an ``Authorization: Bearer TOKEN`` header, or None.

    The one parser of that header, for API tokens and kiosk device credentials alike.
    """
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return header[len("Bearer ") :].strip() or None


#: The httponly cookie that holds a paired tablet's device credential.
DEVICE_COOKIE = "hailong_device"
#: A paired tablet keeps its cookie for years (its credential rotates inside it); revoking
#: the device is an administrator's action.
DEVICE_COOKIE_AGE = 5 * 365 * 86400


def set_device_cookie(response, token: str):
    """Give the tablet's browser its device credential, where only the server reads it."""
    response.set_cookie(
        DEVICE_COOKIE,
        token,
        max_age=DEVICE_COOKIE_AGE,
        httponly=True,
        samesite="Strict",
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
        path="/",
    )
    return response


def device_credential() -> str | None:
    """Return a kiosk's device credential: a Bearer header (a scripted client) or the
    httponly cookie the tablet's browser got at pairing (its page never sees it)."""
    return bearer_token() or request.cookies.get(DEVICE_COOKIE) or None


def _needed_scope() -> str:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return "read"
    return "read+tickets" if request.endpoint in TICKET_ENDPOINTS else "admin"


def current_session() -> UserSession | None:
    """Return the live session row of this request's cookie (any stage), or None.

    Reads only: its last-seen time is refreshed in a transaction of its own, at most once a
    minute, so a GET stays a read.
    """
    if "user_session" in g:
        return g.user_session
    g.user_session = None
    now = utcnow()
    found = sessions.find_session(
        get_session(), session.get(SESSION_KEY), now=now, lifetimes=settings().session_lifetimes
    )
    if found is not None:
        if found.is_touch_due:
            session_id = found.session.id
            run_apart(lambda apart: sessions.touch_session(apart, session_id, now))
        g.user_session = found.session
    return g.user_session


def needs_enrolment(user: User) -> bool:
    """Whether this user's role requires a second factor they have not set up."""
    return user.role in settings().mfa_required_roles and not mfa.is_enabled(user)


def current_user() -> User | None:
    """Return the signed-in user of this request (session cookie or API bearer token)."""
    if "user" in g:
        return g.user
    g.user = None
    token = bearer_token()
    if token is not None and request.path.startswith("/api/"):
        now = utcnow()
        use = accounts.user_for_token(get_session(), token, now)
        if use is None:
            return None
        if use.is_expired:
            g.token_problem = "token_expired"
            return None
        if not use.allows(_needed_scope()):
            g.token_problem = "insufficient_scope"
            return None
        if use.is_use_due:
            run_apart(lambda apart: accounts.note_token_use(apart, use.token_id, now))
        g.user = use.user
        return g.user
    row = current_session()
    if row is not None and row.stage == sessions.FULL and not needs_enrolment(row.user):
        g.user = row.user
    return g.user


def enrolling_user() -> User | None:
    """Return the user who may set up a second factor now: signed in, or sent to enrol."""
    row = current_session()
    if row is None or row.stage not in (sessions.FULL, sessions.ENROL):
        return None
    return row.user


def begin_session(user: User, stage: str) -> None:
    """Give this browser a new session (a new secret) at ``stage``; end the one it had.

    Called at sign-in and at every change of privilege, so a secret seen before never gains
    rights. Only the secret goes into the cookie.
    """
    db = get_session()
    now = utcnow()
    carried = session.get("next")
    sessions.end_session(db, session.get(SESSION_KEY), now=now)
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = sessions.start_session(
        db,
        user,
        now=now,
        stage=stage,
        user_agent=request.user_agent.string,
        ip=request.remote_addr or "",
    )
    if carried and stage != sessions.FULL:
        session["next"] = carried
    g.pop("user_session", None)
    g.pop("user", None)


def end_this_session() -> None:
    """Sign this browser out: its session row ends, its cookie is emptied."""
    sessions.end_session(get_session(), session.get(SESSION_KEY), now=utcnow())
    session.clear()
    g.pop("user_session", None)
    g.pop("user", None)


def session_secret() -> str | None:
    return session.get(SESSION_KEY)


def is_known_browser(login: str) -> bool:
    """Whether this browser signed in to ``login`` before (a signed cookie says so)."""
    raw = request.cookies.get(KNOWN_BROWSER_COOKIE)
    if not raw:
        return False
    try:
        keys = serializer(_KNOWN_SALT).loads(raw, max_age=KNOWN_BROWSER_AGE)
    except Exception:  # noqa: BLE001 - a bad or old signature is simply not known
        return False
    return isinstance(keys, list) and login_key(login) in keys


def remember_browser(response, login: str):
    """Mark this browser as one that signed in to ``login`` (at most 5 logins remembered)."""
    keys: list[str] = []
    raw = request.cookies.get(KNOWN_BROWSER_COOKIE)
    if raw:
        try:
            loaded = serializer(_KNOWN_SALT).loads(raw, max_age=KNOWN_BROWSER_AGE)
            keys = [k for k in loaded if isinstance(k, str)] if isinstance(loaded, list) else []
        except Exception:  # noqa: BLE001
            keys = []
    key = login_key(login)
    keys = ([key] + [k for k in keys if k != key])[:5]
    response.set_cookie(
        KNOWN_BROWSER_COOKIE,
        serializer(_KNOWN_SALT).dumps(keys),
        max_age=KNOWN_BROWSER_AGE,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]) or request.is_secure,
        path="/login",
    )
    return response


def _to_sign_in():
    """Redirect a browser that may not see a staff page where it must go first."""
    row = current_session()
    if row is not None and row.stage == sessions.SECOND_FACTOR:
        return redirect(url_for("auth.second_factor"))
    if row is not None and row.stage in (sessions.FULL, sessions.ENROL):
        return redirect(url_for("account.second_factor"))
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def api_refusal():
    """The JSON answer to an API request without a usable user."""
    problem = g.get("token_problem")
    if problem == "insufficient_scope":
        return json_error(403, "insufficient_scope")
    response, status = json_error(401, problem or "unauthorized")
    response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response, status


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            return _to_sign_in()
        return view(*args, **kwargs)

    return wrapped


def api_login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            return api_refusal()
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    """Let only administrators in; an admin with a scope manages only that part of the tree."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        user = current_user()
        if user is None:
            return _to_sign_in()
        if user.role != "admin":
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def manager_required(view):
    """Let administrators and managers in (each within their scope, which the domain checks);
    viewers only read the dashboard."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        user = current_user()
        if user is None:
            return _to_sign_in()
        if user.role not in ("admin", "manager"):
            abort(403)
        return view(*args, **kwargs)

    return wrapped
