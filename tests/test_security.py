"""Issue 11 (OWASP ASVS 5.0 level 2): sessions, sign-in throttling, passwords, the second
factor, API token scopes and expiry, officer PIN lockout, kiosk credentials, headers, key
rotation and comment retention — each through the HTTP interface (or the CLI) as a browser,
a program or an operator uses it. docs/security.md maps the requirements to these tests."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select, update

from surveys import accounts
from surveys.db import utcnow
from surveys.models import (
    ApiToken,
    AuditEntry,
    KioskDevice,
    Officer,
    SignInThrottle,
    User,
    UserSession,
)
from tests.conftest import PASSWORD, csrf_token, make_app

COOKIE = "hailong_session"
NEW_PASSWORD = "a different long secret"


def sign_in(client, email="manager@example.vn", password=PASSWORD, **extra):
    page = client.get("/login").get_data(as_text=True)
    return client.post(
        "/login",
        data={"csrf_token": csrf_token(page), "email": email, "password": password, **extra},
    )


def post_form(client, page_path: str, action: str, data: dict | None = None):
    page = client.get(page_path).get_data(as_text=True)
    return client.post(action, data={"csrf_token": csrf_token(page), **(data or {})})


def session_cookie(client) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None, "no session cookie"
    return cookie.value


def opens_dashboard(client) -> bool:
    response = client.get("/dashboard")
    return response.status_code == 200


def audit_actions(db, action: str) -> list[AuditEntry]:
    db.expire_all()
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


@pytest.fixture()
def other_app(database_url):
    """Build apps with other settings; dispose of their engines afterwards."""
    built = []

    def build(**overrides):
        made = make_app(database_url, **overrides)
        built.append(made)
        return made

    yield build
    for made in built:
        made.extensions["hailong.engine"].dispose()


# Sessions -----------------------------------------------------------------------------------


class TestSessions:
    def test_a_cookie_copied_before_logout_no_longer_opens_the_dashboard(
        self, app, client, city, make_user
    ):
        make_user()
        assert sign_in(client).status_code == 302
        copied = session_cookie(client)
        assert opens_dashboard(client)
        post_form(client, "/account", "/logout")
        thief = app.test_client()
        thief.set_cookie(COOKIE, copied)
        response = thief.get("/dashboard")
        assert response.status_code == 302 and "/login" in response.headers["Location"]

    def test_the_cookie_holds_only_the_session_secret(self, app, client, city, make_user, db):
        user = make_user()
        sign_in(client)
        data = app.session_interface.get_signing_serializer(app).loads(session_cookie(client))
        assert set(data) <= {"sid", "csrf_token", "_permanent"}
        row = db.scalar(select(UserSession).where(UserSession.user_id == user.id))
        assert row.secret_hash != data["sid"] and len(row.secret_hash) == 64

    def test_a_new_session_id_at_each_sign_in(self, app, client, city, make_user):
        make_user()
        sign_in(client)
        first = session_cookie(client)
        sign_in(client)
        assert session_cookie(client) != first
        # The secret of before the new sign-in is worth nothing now.
        old = app.test_client()
        old.set_cookie(COOKIE, first)
        assert not opens_dashboard(old)
        assert opens_dashboard(client)

    def test_idle_for_longer_than_the_limit_signs_out(self, client, city, make_user, db):
        user = make_user()
        sign_in(client)
        db.execute(
            update(UserSession)
            .where(UserSession.user_id == user.id)
            .values(last_seen_at=utcnow() - timedelta(minutes=29))
        )
        db.commit()
        assert opens_dashboard(client)  # 29 minutes idle: still in; and seen again now
        db.expire_all()
        seen = db.scalar(select(UserSession.last_seen_at).where(UserSession.user_id == user.id))
        assert utcnow() - seen < timedelta(minutes=1)
        db.execute(
            update(UserSession)
            .where(UserSession.user_id == user.id)
            .values(last_seen_at=utcnow() - timedelta(minutes=31))
        )
        db.commit()
        assert not opens_dashboard(client)

    def test_the_absolute_lifetime_ends_even_a_busy_session(self, client, city, make_user, db):
        user = make_user()
        sign_in(client)
        db.execute(
            update(UserSession)
            .where(UserSession.user_id == user.id)
            .values(created_at=utcnow() - timedelta(hours=12, minutes=1))
        )
        db.commit()
        assert not opens_dashboard(client)

    def test_the_lifetimes_are_settings(self, other_app, city, make_user, db):
        short = other_app(SESSION_IDLE_MINUTES=5, SESSION_ABSOLUTE_HOURS=1)
        user = make_user()
        browser = short.test_client()
        sign_in(browser)
        db.execute(
            update(UserSession)
            .where(UserSession.user_id == user.id)
            .values(last_seen_at=utcnow() - timedelta(minutes=6))
        )
        db.commit()
        assert not opens_dashboard(browser)

    def test_a_password_change_signs_out_every_other_browser(
        self, app, client, city, make_user, db
    ):
        make_user()
        other = app.test_client()
        sign_in(client)
        sign_in(other)
        wrong = post_form(
            client,
            "/account/password",
            "/account/password",
            {"current": "not it at all", "password": NEW_PASSWORD, "again": NEW_PASSWORD},
        )
        assert wrong.status_code == 400 and opens_dashboard(other)
        changed = post_form(
            client,
            "/account/password",
            "/account/password",
            {"current": PASSWORD, "password": NEW_PASSWORD, "again": NEW_PASSWORD},
        )
        assert changed.status_code == 302
        assert opens_dashboard(client)
        assert not opens_dashboard(other)
        assert audit_actions(db, "user.password_changed")
        assert sign_in(app.test_client(), password=NEW_PASSWORD).status_code == 302

    def test_sign_out_everywhere(self, app, client, city, make_user):
        make_user()
        other = app.test_client()
        sign_in(client)
        sign_in(other)
        post_form(client, "/account", "/account/sessions/end")
        assert not opens_dashboard(client)
        assert not opens_dashboard(other)

    def test_switching_an_account_off_ends_its_sessions_at_once(self, app, client, city, make_user):
        make_user("admin@example.vn", "admin", None)
        person = make_user()
        browser = app.test_client()
        sign_in(browser)
        sign_in(client, "admin@example.vn")
        post_form(client, "/admin/users", f"/admin/users/{person.id}/active", {"active": "0"})
        assert not opens_dashboard(browser)

    def test_a_change_of_role_ends_the_sessions(self, app, client, city, make_user, db):
        make_user("admin@example.vn", "admin", None)
        person = make_user()
        browser = app.test_client()
        sign_in(browser)
        sign_in(client, "admin@example.vn")
        page = client.get(f"/admin/users/{person.id}").get_data(as_text=True)
        client.post(
            f"/admin/users/{person.id}",
            data={
                "csrf_token": csrf_token(page),
                "email": person.email,
                "role": "viewer",
                "scope": "O1",
            },
        )
        db.expire_all()
        assert db.get(User, person.id).role == "viewer"
        assert not opens_dashboard(browser)


# Per-account throttling ------------------------------------------------------------------------


def fail(client, email="manager@example.vn"):
    return sign_in(client, email, "wrong password!")


def wait_until(db, email="manager@example.vn"):
    db.expire_all()
    row = db.scalar(select(SignInThrottle).where(SignInThrottle.key == key_of(email)))
    return None if row is None else row.wait_until


def key_of(email):
    from surveys.throttle import login_key

    return login_key(email)


def end_wait(db, email="manager@example.vn"):
    db.execute(
        update(SignInThrottle)
        .where(SignInThrottle.key == key_of(email))
        .values(wait_until=utcnow() - timedelta(seconds=1))
    )
    db.commit()


class TestSignInThrottle:
    def test_after_five_failures_even_the_right_password_must_wait(
        self, app, client, city, make_user, db
    ):
        make_user()
        for _ in range(4):
            assert fail(client).status_code == 200
        assert wait_until(db) is None
        fifth = fail(client)
        assert fifth.status_code == 200 and "30 seconds" in fifth.get_data(as_text=True)
        waited = wait_until(db) - utcnow()
        assert timedelta(seconds=28) < waited <= timedelta(seconds=30)
        right = sign_in(app.test_client())
        assert right.status_code == 429
        assert 28 <= int(right.headers["Retry-After"]) <= 31
        assert len(audit_actions(db, "auth.throttled")) == 1

    def test_the_wait_doubles_and_stops_at_fifteen_minutes(self, client, city, make_user, db):
        make_user()
        for _ in range(5):
            fail(client)
        expected = [60, 120, 240, 480, 900, 900]
        for seconds in expected:
            end_wait(db)
            fail(client)
            waited = (wait_until(db) - utcnow()).total_seconds()
            assert seconds - 3 < waited <= seconds
        # Never a permanent lockout: once the wait is over, the right password signs in.
        end_wait(db)
        assert sign_in(client).status_code == 302
        assert wait_until(db) is None
        assert len(audit_actions(db, "auth.throttled")) == 1 + len(expected)

    def test_unknown_and_known_addresses_are_answered_alike(self, client, city, make_user, db):
        make_user()
        known = [fail(client).status_code for _ in range(5)] + [fail(client).status_code]
        unknown = [fail(client, "nobody@example.vn").status_code for _ in range(6)]
        assert known == unknown == [200] * 5 + [429]

    def test_a_browser_that_signed_in_before_is_not_slowed(self, app, client, city, make_user, db):
        make_user()
        assert sign_in(client).status_code == 302  # the owner's own browser, remembered
        post_form(client, "/account", "/logout")
        attacker = app.test_client()
        for _ in range(6):
            fail(attacker)
        assert sign_in(attacker).status_code == 429
        assert sign_in(client).status_code == 302

    def test_a_foreign_known_browser_cookie_does_not_help(self, app, client, city, make_user, db):
        make_user()
        make_user("other@example.vn", "manager", "O1")
        assert sign_in(client, "other@example.vn").status_code == 302
        for _ in range(5):
            fail(client)  # the cookie is for other@, not for manager@
        assert sign_in(client).status_code == 429


# Passwords -----------------------------------------------------------------------------------


class TestPasswords:
    @pytest.fixture()
    def link(self, app, client, city, make_user, db):
        make_user("admin@example.vn", "admin", None)
        person = make_user()
        sign_in(client, "admin@example.vn")
        page = post_form(client, "/admin/users", f"/admin/users/{person.id}/password")
        return re.search(r"http://kiosk\.test(/account/password/[\w-]+)", page.get_data(True))[1]

    def choose(self, app, link, password, again=None):
        browser = app.test_client()
        got = browser.get(link + "?lang=en")
        if got.status_code != 200:
            return got
        page = got.get_data(as_text=True)
        return browser.post(
            link + "?lang=en",
            data={"csrf_token": csrf_token(page), "password": password, "again": again or password},
        )

    @pytest.mark.parametrize(
        ("password", "message"),
        [
            ("elevenchars", "At least 12 characters"),
            ("x" * 129, "At most 128 characters"),
            ("matkhau123456", "one of those people use most"),
            ("iloveyou2026!!", "one of those people use most"),
            ("1234567890123", "one of those people use most"),
        ],
    )
    def test_refused_passwords(self, app, link, password, message):
        response = self.choose(app, link, password)
        assert response.status_code == 400 and message in response.get_data(as_text=True)

    def test_a_good_password_through_the_link_once(self, app, link, db):
        assert self.choose(app, link, NEW_PASSWORD).status_code == 302
        assert self.choose(app, link, "another long phrase").status_code == 410
        assert sign_in(app.test_client(), password=NEW_PASSWORD).status_code == 302

    def test_the_link_stops_after_24_hours(self, app, link, db):
        db.execute(update(User).values(password_link_expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
        assert self.choose(app, link, NEW_PASSWORD).status_code == 410

    def test_hashes_are_scrypt(self, city, make_user, db):
        user = make_user()
        assert db.get(User, user.id).password_hash.startswith("scrypt:")


class TestLastAdministrator:
    def demote(self, client, user, role="manager"):
        page = client.get(f"/admin/users/{user.id}?lang=en").get_data(as_text=True)
        return client.post(
            f"/admin/users/{user.id}?lang=en",
            data={
                "csrf_token": csrf_token(page),
                "email": user.email,
                "role": role,
                "scope": "O1",
            },
        )

    def test_the_last_city_administrator_cannot_be_demoted(self, client, city, make_user, db):
        admin = make_user("admin@example.vn", "admin", None)
        other = make_user("second@example.vn", "admin", None)
        sign_in(client, "admin@example.vn")
        assert self.demote(client, other).status_code == 302  # another one is left
        refused = self.demote(client, admin)
        assert refused.status_code == 400
        assert "last administrator" in refused.get_data(as_text=True)
        db.expire_all()
        assert db.get(User, admin.id).role == "admin"


# API tokens ----------------------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestTokenScopes:
    def mint(self, client, token):
        return client.post(
            "/api/v1/tickets", json={"office": "O1", "count": 1}, headers=bearer(token)
        )

    def add_unit(self, client, token, code="D9"):
        return client.post(
            "/api/v1/units",
            json={"code": code, "name": "Quận Chín", "parent": "ROOT"},
            headers=bearer(token),
        )

    def test_a_read_token_reads_and_nothing_more(self, client, city, make_token):
        token = make_token("admin@example.vn", "admin", None, token_scope="read")
        assert client.get("/api/v1/offices", headers=bearer(token)).status_code == 200
        minted = self.mint(client, token)
        assert minted.status_code == 403
        assert minted.get_json()["error"]["code"] == "insufficient_scope"
        assert self.add_unit(client, token).get_json()["error"]["code"] == "insufficient_scope"

    def test_a_tickets_token_mints_but_does_not_administer(self, client, city, make_token):
        token = make_token("admin@example.vn", "admin", None, token_scope="read+tickets")
        assert self.mint(client, token).status_code == 201
        assert self.add_unit(client, token).status_code == 403

    def test_an_admin_token_does_what_its_owner_may(self, client, city, make_token):
        token = make_token("admin@example.vn", "admin", None, token_scope="admin")
        assert self.mint(client, token).status_code == 201
        assert self.add_unit(client, token).status_code == 201

    def test_the_owner_role_still_applies(self, client, city, make_token):
        token = make_token("viewer@example.vn", "viewer", "O1", token_scope="admin")
        assert self.add_unit(client, token).status_code == 403

    def test_an_expired_token_is_401(self, client, city, make_token, db):
        token = make_token(token_scope="read")
        db.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
        response = client.get("/api/v1/offices", headers=bearer(token))
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "token_expired"

    def test_made_on_the_account_page_with_a_scope_and_a_lifetime(
        self, client, city, make_user, db
    ):
        make_user()
        sign_in(client)
        too_long = post_form(
            client, "/account", "/account/tokens", {"label": "x", "scope": "read", "days": 400}
        )
        assert too_long.status_code == 400 and "365" in too_long.get_data(as_text=True)
        made = post_form(
            client,
            "/account",
            "/account/tokens",
            {"label": "Xuất báo cáo", "scope": "read", "days": 30},
        )
        assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
        token = re.search(r"(hl_[\w-]+)", made.get_data(as_text=True))[1]
        row = db.scalar(select(ApiToken))
        assert row.scope == "read"
        assert timedelta(days=29, hours=23) < row.expires_at - utcnow() <= timedelta(days=30)
        # Shown once: the list shows its label, never the token again.
        assert token not in client.get("/account").get_data(as_text=True)
        assert client.get("/api/v1/offices", headers=bearer(token)).status_code == 200
        db.expire_all()
        assert db.scalar(select(ApiToken.last_used_at)) is not None
        post_form(client, "/account", f"/account/tokens/{row.id}/revoke")
        assert client.get("/api/v1/offices", headers=bearer(token)).status_code == 401

    def test_the_default_is_read_for_90_days(self, city, make_user, db):
        make_user()
        accounts.create_api_token(db, "manager@example.vn", now=utcnow())
        db.commit()
        row = db.scalar(select(ApiToken))
        assert row.scope == "read"
        assert timedelta(days=89, hours=23) < row.expires_at - utcnow() <= timedelta(days=90)

    def test_the_cli_takes_a_scope(self, runner, city, make_user, db):
        make_user()
        result = runner.invoke(
            args=["create-token", "manager@example.vn", "--scope", "read+tickets", "--days", "7"]
        )
        assert result.exit_code == 0, result.output
        assert db.scalar(select(ApiToken.scope)) == "read+tickets"
        too_long = runner.invoke(args=["create-token", "manager@example.vn", "--days", "400"])
        assert too_long.exit_code != 0
