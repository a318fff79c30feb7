"""Helpers for the administration tests (issue 8): who signs in, and forms sent as a browser
sends them (with the session's CSRF token).

The roles, against the ``city`` fixture (ROOT → D1 with office O1, D2 with office O2):
a whole-city administrator, an administrator of D1, a manager of D1, a manager of office O1,
a viewer of O1, and nobody signed in.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from surveys import accounts
from surveys.db import utcnow
from surveys.models import AuditEntry
from tests.conftest import PASSWORD, csrf_token

#: role name → (email, role, scope)
ROLES = {
    "admin": ("admin@example.vn", "admin", None),
    "unit_admin": ("unit.admin@example.vn", "admin", "D1"),
    "unit_manager": ("unit.manager@example.vn", "manager", "D1"),
    "office_manager": ("office.manager@example.vn", "manager", "O1"),
    "viewer": ("viewer@example.vn", "viewer", "O1"),
}
SIGNED_IN = tuple(ROLES)
EVERYONE = (*SIGNED_IN, "anonymous")
MANAGING = ("admin", "unit_admin", "unit_manager", "office_manager")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)", re.I)


def make_account(db, role: str):
    """Create the account of a role (see ROLES); return it."""
    email, kind, scope = ROLES[role]
    user = accounts.create_user(db, email, PASSWORD, kind, scope_code=scope)
    db.commit()
    return user


def sign_in(client, db, role: str):
    """Create the account of ``role`` and sign ``client`` in with it (nothing for anonymous)."""
    if role == "anonymous":
        return None
    user = make_account(db, role)
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={"csrf_token": csrf_token(page), "email": user.email, "password": PASSWORD},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return user


def api_token(db, role: str) -> str:
    """Create the account of ``role`` and an API token for it."""
    user = make_account(db, role)
    token = accounts.create_api_token(db, user.email, now=utcnow(), scope="admin")
    db.commit()
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def csrf(client) -> str:
    """Return the session's CSRF token from a page anyone may open (the sign-in page)."""
    return csrf_token(client.get("/login").get_data(as_text=True))


def post(client, path: str, data: dict | None = None, **kwargs):
    """Send a form as the browser would, with the session's CSRF token."""
    return client.post(path, data={"csrf_token": csrf(client), **(data or {})}, **kwargs)


def page_text(response) -> str:
    return response.get_data(as_text=True)


def assert_csp_clean(html: str, where: str = "") -> None:
    """No inline style or script: a strict Content-Security-Policy must not break the page."""
    assert "style=" not in html, where
    assert INLINE_SCRIPT.search(html) is None, where


def audit_count(db, action: str | None = None) -> int:
    query = select(func.count()).select_from(AuditEntry)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    db.expire_all()
    return db.scalar(query)


def audit_entries(db, action: str) -> list[AuditEntry]:
    db.expire_all()
    return list(
        db.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
    )
