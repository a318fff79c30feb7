"""Who is asking: the signed-in user (session cookie or API bearer token), and the decorators
that let only them in. The sign-in pages themselves are in kiosk/views/auth.py."""

from __future__ import annotations

from functools import wraps

from flask import abort, g, redirect, request, session, url_for

from kiosk.database import get_session, run_apart
from surveys import accounts
from surveys.db import utcnow
from surveys.models import User


def bearer_token() -> str | None:
    """Return the token of an ``Authorization: Bearer TOKEN`` header, or None.

    The one parser of that header, for API tokens and kiosk device credentials alike.
    """
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return header[len("Bearer ") :].strip() or None


def current_user() -> User | None:
    """Return the signed-in user of this request (session cookie or API bearer token).

    Reads only: an API token's last-used time is recorded in a transaction of its own, at most
    once an hour, so a GET stays a read.
    """
    if "user" in g:
        return g.user
    g.user = None
    db = get_session()
    token = bearer_token()
    if token is not None and request.path.startswith("/api/"):
        now = utcnow()
        use = accounts.user_for_token(db, token, now)
        if use is not None:
            if use.is_use_due:
                run_apart(lambda apart: accounts.note_token_use(apart, use.token_id, now))
            g.user = use.user
        return g.user
    user_id = session.get("user_id")
    if user_id is not None:
        user = db.get(User, user_id)
        if user is not None and user.is_active and session.get("v") == user.session_version:
            g.user = user
    return g.user


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def api_login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            abort(401)
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    """Let only administrators in; an admin with a scope manages only that part of the tree."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        user = current_user()
        if user is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
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
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if user.role not in ("admin", "manager"):
            abort(403)
        return view(*args, **kwargs)

    return wrapped
