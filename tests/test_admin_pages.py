"""Every administration page, for every role: never a 5xx, and nothing a strict
Content-Security-Policy would block (no style attribute, no inline script), also on the pages
that show a form's mistakes."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from surveys.models import User
from tests.admin_support import EVERYONE, assert_csp_clean, page_text, post, sign_in

PAGES = [
    "/admin",
    "/admin/org",
    "/admin/org/units/new",
    "/admin/org/units/new?parent=D1",
    "/admin/org/units/D1",
    "/admin/org/units/ROOT",
    "/admin/org/offices/new",
    "/admin/org/offices/new?unit=D1",
    "/admin/org/offices/O1",
    "/admin/org/offices/O2",
    "/admin/org/counters/O1-Q1",
    "/admin/org/officers/CB1",
    "/admin/org/officers/CB1/photo",
    "/admin/import",
    "/admin/import/{import_id}",
    "/admin/import/template.csv",
    "/admin/import/template.xlsx",
    "/admin/import/export.csv",
    "/admin/import/export.xlsx",
    "/admin/users",
    "/admin/users/{user_id}",
    "/admin/audit",
    "/admin/audit?from=2026-01-01&to=2026-12-31&actor=x@example.vn&action=office.",
    "/admin/audit?from=bad",
    "/admin/audit.csv",
    "/admin/surveys",
    "/admin/kiosks",
    "/admin/kiosks/officers",
    "/admin/kiosks/officers?office=O1",
    "/admin/codes",
    "/admin/codes/offices/O1",
    "/account",
    "/account/password/pw_unknown",
]

#: Forms sent empty or wrong, which must answer with the form (or a refusal), never a 5xx.
FORMS = [
    ("/admin/org/units/new", {"code": "", "name": ""}),
    ("/admin/org/units/D1", {"code": "D1", "name": "", "parent": "NOPE"}),
    ("/admin/org/offices/new", {"code": "?", "name": "", "parent": "", "timezone": "x"}),
    ("/admin/org/offices/O1", {"name": "", "hours": "1", "open-mon": "1", "opens-mon": "x"}),
    ("/admin/org/offices/O1/counters", {"code": "", "name": ""}),
    ("/admin/org/offices/O1/officers", {"code": "", "name": "", "counters": "NOPE"}),
    ("/admin/org/offices/O1/surveys", {"survey-kiosk": "NOPE", "survey-bogus": "x"}),
    ("/admin/org/units/D1/surveys", {"survey-office": "NOPE"}),
    ("/admin/org/counters/O1-Q1", {"code": "", "name": "", "parent": "NOPE"}),
    ("/admin/org/officers/CB1", {"code": "", "name": "", "parent": "NOPE"}),
    ("/admin/org/offices/O1/active", {"active": "maybe"}),
    ("/admin/import/upload", {}),
    ("/admin/import/{import_id}/apply", {}),
    ("/admin/users", {"email": "", "role": "x", "scope": "NOPE"}),
    ("/admin/users/{user_id}", {"email": "", "role": "x", "scope": "NOPE"}),
    ("/admin/users/{user_id}/active", {"active": "x"}),
    ("/account/tokens", {"label": "x" * 500}),
    ("/account/tokens/999999/revoke", {}),
]


@pytest.fixture()
def ids(client, db, city):
    """An upload waiting for its preview (made by an administrator) and a manager's account."""
    from surveys import accounts
    from tests.conftest import PASSWORD, csrf_token

    accounts.create_user(db, "importer@example.vn", PASSWORD, "admin", scope_code="D1")
    db.commit()
    administrator = client.application.test_client()
    page = page_text(administrator.get("/login"))
    administrator.post(
        "/login",
        data={"csrf_token": csrf_token(page), "email": "importer@example.vn", "password": PASSWORD},
    )
    response = post(
        administrator,
        "/admin/import/upload",
        {"file": (io.BytesIO(b"type,code,name,parent\ncounter,O1-Q5,Q5,O1\n"), "x.csv")},
        content_type="multipart/form-data",
    )
    return {
        "import_id": response.headers["Location"].rsplit("/", 1)[1],
        "user_id": db.scalar(select(User.id).where(User.email == "importer@example.vn")),
    }


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("role", EVERYONE)
def test_every_page_answers_for_every_role(client, db, city, ids, role, lang):
    sign_in(client, db, role)
    for template in PAGES:
        path = template.format(**ids)
        response = client.get(path + ("&" if "?" in path else "?") + f"lang={lang}")
        assert response.status_code < 500, path
        if response.status_code == 200 and response.mimetype == "text/html":
            assert_csp_clean(page_text(response), path)


@pytest.mark.parametrize("role", EVERYONE)
def test_every_form_mistake_answers_for_every_role(client, db, city, ids, role):
    sign_in(client, db, role)
    for template, data in FORMS:
        path = template.format(**ids)
        response = post(client, path, data)
        assert response.status_code < 500, path
        if response.mimetype == "text/html" and response.status_code != 302:
            assert_csp_clean(page_text(response), path)
