"""Accounts and tokens through the pages people use: administrators invite users (a one-time
link through which each person chooses their own password), change role and scope, switch
accounts off and reset passwords; everyone sees and revokes their own API tokens."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from surveys.db import utcnow
from surveys.models import ApiToken, User
from tests.admin_support import (
    EVERYONE,
    ROLES,
    api_token,
    assert_csp_clean,
    audit_entries,
    bearer,
    page_text,
    post,
    sign_in,
)
from tests.conftest import PASSWORD, csrf_token

NEW_PASSWORD = "a sentence I will remember"


def invite(client, email="lan@example.vn", role="manager", scope="O1", name="Nguyễn Lan"):
    return post(
        client, "/admin/users", {"email": email, "name": name, "role": role, "scope": scope}
    )


def link_in(response) -> str:
    """The path of the one-time password link shown on the page."""
    match = re.search(r"http://kiosk\.test(/account/password/[A-Za-z0-9_-]+)<", page_text(response))
    assert match, page_text(response)
    return match.group(1)


def choose(client, path: str, password: str = NEW_PASSWORD, again: str | None = None):
    page = client.get(path)
    if page.status_code != 200:
        return page
    return client.post(
        path,
        data={
            "csrf_token": csrf_token(page_text(page)),
            "password": password,
            "again": password if again is None else again,
        },
    )


def signs_in(app, email: str, password: str) -> bool:
    person = app.test_client()
    page = page_text(person.get("/login"))
    response = person.post(
        "/login", data={"csrf_token": csrf_token(page), "email": email, "password": password}
    )
    return response.status_code == 302


def user(db, email: str) -> User:
    db.expire_all()
    return db.scalar(select(User).where(User.email == email))


@pytest.fixture()
def admin(client, db, city):
    return sign_in(client, db, "admin")


class TestAccess:
    @pytest.mark.parametrize("role", EVERYONE)
    def test_only_administrators_reach_the_users_pages(self, client, db, city, role):
        sign_in(client, db, role)
        manager = db.scalar(select(User.id).where(User.role == "manager"))
        expected = {"admin": 200, "unit_admin": 200, "anonymous": 302}.get(role, 403)
        paths = ["/admin/users"] + ([f"/admin/users/{manager}"] if manager else [])
        for path in paths:
            assert client.get(path).status_code == expected, path
        writes = {
            "/admin/users": {"email": "x@example.vn", "role": "viewer", "scope": "O1"},
            "/admin/users/1/active": {"active": "0"},
            "/admin/users/1/password": {},
        }
        for path, data in writes.items():
            status = post(client, path, data).status_code
            if role in ("admin", "unit_admin"):
                assert status < 500, path
            else:
                assert status == expected, path
        assert user(db, "x@example.vn") is None or role in ("admin", "unit_admin")

    def test_a_scoped_administrator_manages_only_accounts_of_their_scope(self, client, db, city):
        sign_in(client, db, "unit_admin")
        outside = sign_in(client.application.test_client(), db, "admin")
        inside = sign_in(client.application.test_client(), db, "office_manager")
        listing = page_text(client.get("/admin/users"))
        assert f'<th scope="row">{inside.email}' in listing
        assert f'<th scope="row">{outside.email}' not in listing
        assert client.get(f"/admin/users/{outside.id}").status_code == 404
        assert post(client, f"/admin/users/{outside.id}/active", {"active": "0"}).status_code == 404
        assert post(client, f"/admin/users/{outside.id}/password").status_code == 404
        assert user(db, outside.email).is_active
        # Nor can they give a scope outside theirs, or the whole city.
        for scope in ("D2", "O2", ""):
            response = invite(client, email=f"p{scope}@example.vn", scope=scope, role="admin")
            assert response.status_code in (400, 403), scope
            assert user(db, f"p{scope}@example.vn") is None


class TestInvitation:
    def test_invite_then_the_person_chooses_their_password(self, client, app, db, admin):
        response = invite(client)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert_csp_clean(page_text(response))
        path = link_in(response)
        invited = user(db, "lan@example.vn")
        assert (invited.role, invited.scope_office.code, invited.name) == (
            "manager",
            "O1",
            "Nguyễn Lan",
        )
        assert not signs_in(app, "lan@example.vn", PASSWORD)  # nobody chose a password yet

        person = app.test_client()
        page = person.get(path + "?lang=en")
        assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
        assert "lan@example.vn" in page_text(page)
        assert_csp_clean(page_text(page))

        short = choose(person, path + "?lang=en", "short")
        assert short.status_code == 400 and "At least 12 characters" in page_text(short)
        differ = choose(person, path + "?lang=en", NEW_PASSWORD, NEW_PASSWORD + "!")
        assert differ.status_code == 400 and "The two passwords differ" in page_text(differ)
        empty = choose(person, path + "?lang=en", "", "")
        assert empty.status_code == 400
        assert not signs_in(app, "lan@example.vn", NEW_PASSWORD)

        chosen = choose(person, path)
        assert chosen.status_code == 302 and chosen.headers["Location"] == "/login"
        assert signs_in(app, "lan@example.vn", NEW_PASSWORD)
        # The link worked once.
        assert person.get(path).status_code == 410
        again = person.post(path, data={"password": "x" * 20, "again": "x" * 20})
        assert again.status_code in (400, 410)
        assert signs_in(app, "lan@example.vn", NEW_PASSWORD)

    @pytest.mark.parametrize("hours, status", [(23.9, 200), (24, 410), (25, 410)])
    def test_the_link_expires_after_24_hours(
        self, client, app, db, admin, monkeypatch, hours, status
    ):
        path = link_in(invite(client))
        later = utcnow() + timedelta(hours=hours)
        monkeypatch.setattr("kiosk.views.account.utcnow", lambda: later)
        response = app.test_client().get(path)
        assert response.status_code == status
        if status == 410:
            assert response.headers["Cache-Control"] == "no-store"
            assert choose(app.test_client(), path).status_code == 410

    def test_an_expired_link_in_the_database(self, client, app, db, admin):
        path = link_in(invite(client))
        invited = user(db, "lan@example.vn")
        invited.password_link_expires_at = utcnow() - timedelta(seconds=1)
        db.commit()
        assert app.test_client().get(path).status_code == 410
        assert app.test_client().get("/account/password/pw_not-a-real-one").status_code == 410

    @pytest.mark.parametrize(
        "data, message",
        [
            ({"email": "not-an-email"}, "This value is not valid"),
            ({"email": ROLES["admin"][0]}, "This is already in use"),
            ({"email": ""}, "This field is required"),
            ({"scope": ""}, "This is required"),
            ({"role": "owner"}, "Not a valid choice"),
            ({"scope": "NOPE"}, "Not a valid choice"),
        ],
    )
    def test_invitation_mistakes(self, client, db, admin, data, message):
        before = db.scalars(select(User.email)).all()
        fields = {"email": "lan@example.vn", "role": "manager", "scope": "O1", **data}
        response = post(client, "/admin/users?lang=en", fields)
        assert response.status_code == 400
        assert message in page_text(response) and 'class="error"' in page_text(response)
        db.expire_all()
        assert db.scalars(select(User.email)).all() == before


class TestChangingAccounts:
    @pytest.fixture()
    def manager(self, app, db, city):
        """A manager of O1 signed in on their own browser, with an API token."""
        browser = app.test_client()
        person = sign_in(browser, db, "office_manager")
        from surveys import accounts

        token = accounts.create_api_token(db, person.email, now=utcnow(), scope="admin")
        db.commit()
        return person, browser, token

    @staticmethod
    def signed_in(browser) -> bool:
        response = browser.get("/dashboard")
        return response.status_code == 200

    @staticmethod
    def token_works(client, token) -> bool:
        return client.get("/api/v1/units", headers=bearer(token)).status_code == 200

    def test_switching_off_stops_sessions_and_tokens_at_once(self, client, db, admin, manager):
        person, browser, token = manager
        assert self.signed_in(browser) and self.token_works(client, token)
        response = post(client, f"/admin/users/{person.id}/active?lang=en", {"active": "0"})
        assert response.status_code == 302
        assert "their sessions and tokens stopped" in page_text(client.get("/admin/users?lang=en"))
        assert not self.signed_in(browser) and not self.token_works(client, token)
        assert client.get("/api/v1/units", headers=bearer(token)).status_code == 401
        assert not signs_in(client.application, person.email, PASSWORD)
        listing = page_text(client.get("/admin/users?lang=en"))
        assert "Switched off" in listing

        assert post(client, f"/admin/users/{person.id}/active", {"active": "1"}).status_code == 302
        assert self.token_works(client, token)
        assert not self.signed_in(browser)  # the old session stays ended
        assert signs_in(client.application, person.email, PASSWORD)

    def test_an_administrator_cannot_switch_themself_off(self, client, db, admin):
        response = post(client, f"/admin/users/{admin.id}/active?lang=en", {"active": "0"})
        assert response.status_code in (302, 409)
        shown = page_text(client.get("/admin/users?lang=en"))
        assert "You cannot switch off your own account" in shown
        assert user(db, admin.email).is_active

    @pytest.mark.parametrize(
        "change",
        [{"role": "viewer", "scope": "O1"}, {"role": "manager", "scope": "D1"}],
        ids=["role", "scope"],
    )
    def test_a_role_or_scope_change_ends_sessions(self, client, db, admin, manager, change):
        person, browser, token = manager
        data = {"email": person.email, "name": "", **change}
        response = post(client, f"/admin/users/{person.id}", data)
        assert response.status_code == 302
        changed = user(db, person.email)
        assert changed.role == change["role"]
        assert (changed.scope_unit or changed.scope_office).code == change["scope"]
        assert not self.signed_in(browser)
        assert self.token_works(client, token)  # a token keeps working, with the new scope

    def test_a_name_change_keeps_the_session(self, client, db, admin, manager):
        person, browser, _token = manager
        data = {"email": person.email, "name": "Trần Thị Mai", "role": "manager", "scope": "O1"}
        assert post(client, f"/admin/users/{person.id}", data).status_code == 302
        assert user(db, person.email).name == "Trần Thị Mai"
        assert self.signed_in(browser)

    def test_edit_mistakes_store_nothing(self, client, db, admin, manager):
        person, browser, _token = manager
        data = {"email": person.email, "name": "", "role": "viewer", "scope": ""}
        response = post(client, f"/admin/users/{person.id}?lang=en", data)
        assert response.status_code == 400 and "This is required" in page_text(response)
        assert user(db, person.email).role == "manager" and self.signed_in(browser)
        assert client.get("/admin/users/999999").status_code == 404

    def test_reset_password(self, client, app, db, admin, manager):
        person, browser, _token = manager
        response = post(client, f"/admin/users/{person.id}/password?lang=en")
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        assert "Their old password no longer works" in page_text(response)
        path = link_in(response)
        assert not self.signed_in(browser)
        assert not signs_in(app, person.email, PASSWORD)
        assert choose(app.test_client(), path).status_code == 302
        assert signs_in(app, person.email, NEW_PASSWORD)
        assert not signs_in(app, person.email, PASSWORD)


class TestOwnTokens:
    @pytest.mark.parametrize("role", ["admin", "unit_manager", "office_manager", "viewer"])
    def test_create_use_and_revoke(self, client, db, city, role):
        sign_in(client, db, role)
        page = client.get("/account?lang=en")
        assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
        assert "You have no token" in page_text(page)
        assert_csp_clean(page_text(page))

        made = post(client, "/account/tokens?lang=en", {"label": "Hệ thống xếp hàng"})
        html = page_text(made)
        assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
        token = re.search(r'class="code token-value">(hl_[^<]+)<', html).group(1)
        assert (
            client.application.test_client().get("/api/v1/units", headers=bearer(token)).status_code
            == 200
        )
        listing = page_text(client.get("/account"))
        assert "Hệ thống xếp hàng" in listing and token not in listing  # shown once

        token_id = db.scalar(select(ApiToken.id).where(ApiToken.label == "Hệ thống xếp hàng"))
        revoked = post(client, f"/account/tokens/{token_id}/revoke")
        assert revoked.status_code == 302
        assert (
            client.application.test_client().get("/api/v1/units", headers=bearer(token)).status_code
            == 401
        )
        assert "Revoked" in page_text(client.get("/account?lang=en"))
        # Revoking again changes nothing.
        assert post(client, f"/account/tokens/{token_id}/revoke").status_code == 302
        assert len(audit_entries(db, "token.revoke")) == 1

    def test_nobody_revokes_another_person_s_token(self, client, db, city):
        other_token = api_token(db, "unit_manager")
        other_id = db.scalar(select(ApiToken.id))
        sign_in(client, db, "office_manager")
        assert post(client, f"/account/tokens/{other_id}/revoke").status_code == 404
        assert post(client, "/account/tokens/999999/revoke").status_code == 404
        assert client.get("/api/v1/units", headers=bearer(other_token)).status_code == 200
        db.expire_all()
        assert db.get(ApiToken, other_id).revoked_at is None

    def test_an_administrator_revokes_only_tokens_of_their_scope(self, client, db, city):
        city_token = api_token(db, "admin")
        city_token_id = db.scalar(select(ApiToken.id))
        own_token = api_token(db, "office_manager")
        own_token_id = db.scalar(select(ApiToken.id).where(ApiToken.id != city_token_id))
        sign_in(client, db, "unit_admin")
        assert post(client, f"/account/tokens/{city_token_id}/revoke").status_code == 404
        assert client.get("/api/v1/units", headers=bearer(city_token)).status_code == 200
        # A token of someone in their scope (a leaked one, say) they may stop.
        assert post(client, f"/account/tokens/{own_token_id}/revoke").status_code == 302
        assert client.get("/api/v1/units", headers=bearer(own_token)).status_code == 401

    def test_token_mistakes(self, client, db, city):
        sign_in(client, db, "viewer")
        assert client.post("/account/tokens", data={"label": "x"}).status_code == 400
        response = post(client, "/account/tokens?lang=en", {"label": "x" * 101})
        assert response.status_code == 400 and 'class="error"' in page_text(response)
        assert db.scalar(select(ApiToken.id)) is None

    def test_anonymous_is_sent_to_sign_in(self, client, city):
        response = client.get("/account")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
        assert post(client, "/account/tokens", {"label": "x"}).status_code == 302


class TestSignEveryoneOut:
    """After an incident an administrator ends every session of their scope at once."""

    def test_everyone_in_scope_is_signed_out_but_the_administrator_here(self, app, db, city):
        office_manager, outsider, admin = app.test_client(), app.test_client(), app.test_client()
        sign_in(office_manager, db, "office_manager")  # O1, within D1
        sign_in(outsider, db, "viewer")  # O1 too
        sign_in(admin, db, "unit_admin")  # D1
        other_unit = accounts_in_other_unit(db)
        elsewhere = app.test_client()
        login(elsewhere, other_unit)
        page = page_text(admin.get("/admin/users?lang=en"))
        assert "Sign everyone out" in page and 'name="confirm"' in page

        refused = post(admin, "/admin/users/sessions/end", {})
        assert refused.status_code == 400 and 'id="e-confirm"' in page_text(refused)
        assert office_manager.get("/dashboard").status_code == 200

        answer = post(admin, "/admin/users/sessions/end", {"confirm": "y"})

        assert answer.status_code == 302
        for signed_out in (office_manager, outsider):
            assert signed_out.get("/dashboard").status_code == 302  # to the sign-in page
        assert admin.get("/admin/users").status_code == 200  # still signed in here
        assert elsewhere.get("/dashboard").status_code == 200  # outside the scope
        [entry] = audit_entries(db, "user.sessions_ended_in_scope")
        assert entry.after == {"sessions": 2} and entry.subject == "D1"

    @pytest.mark.parametrize("role", ["unit_manager", "office_manager", "viewer", "anonymous"])
    def test_only_administrators(self, client, db, city, role):
        sign_in(client, db, role)
        answer = post(client, "/admin/users/sessions/end", {"confirm": "y"})
        assert answer.status_code in (302, 403)
        if role != "anonymous":
            assert answer.status_code == 403
        assert audit_entries(db, "user.sessions_ended_in_scope") == []


def accounts_in_other_unit(db):
    from surveys import accounts

    user = accounts.create_user(db, "d2.manager@example.vn", PASSWORD, "manager", scope_code="D2")
    db.commit()
    return user


def login(client, user) -> None:
    page = page_text(client.get("/login"))
    answer = client.post(
        "/login", data={"csrf_token": csrf_token(page), "email": user.email, "password": PASSWORD}
    )
    assert answer.status_code == 302
