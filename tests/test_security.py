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

    def test_after_sign_in_the_page_asked_for_opens(self, app, client, city, make_user):
        make_user()
        asked = client.get("/dashboard/offices/O1")
        assert "/login?next=" in asked.headers["Location"]
        page = client.get(asked.headers["Location"]).get_data(as_text=True)
        signed = client.post(
            asked.headers["Location"],
            data={
                "csrf_token": csrf_token(page),
                "email": "manager@example.vn",
                "password": PASSWORD,
            },
        )
        assert signed.headers["Location"].endswith("/dashboard/offices/O1")

    def test_old_session_records_are_purged(self, runner, client, city, make_user, db):
        user = make_user()
        sign_in(client)
        sign_in(client)  # the first session ended at the second sign-in
        db.execute(
            update(UserSession)
            .where(UserSession.ended_at.is_not(None))
            .values(ended_at=utcnow() - timedelta(days=31))
        )
        db.commit()
        result = runner.invoke(args=["purge-sessions"])
        assert result.exit_code == 0 and "Deleted 1" in result.output
        db.expire_all()
        left = db.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
        assert len(left) == 1 and left[0].ended_at is None

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
        refused = post_form(
            client,
            "/account",
            "/account/sessions/end",
            {"session_id": "all", "password": "not my password"},
        )
        assert refused.status_code == 400 and opens_dashboard(other)
        post_form(
            client, "/account", "/account/sessions/end", {"session_id": "all", "password": PASSWORD}
        )
        assert not opens_dashboard(client)
        assert not opens_dashboard(other)

    def test_one_chosen_browser_is_signed_out(self, app, client, city, make_user, db):
        user = make_user()
        other, third = app.test_client(), app.test_client()
        for browser in (client, other, third):
            sign_in(browser)
        listed = client.get("/account?lang=en").get_data(as_text=True)
        ids = re.findall(r'name="session_id" value="(\d+)"', listed)
        assert len(ids) == 3 and "this browser" in listed
        newest_other = db.scalars(
            select(UserSession.id)
            .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
            .order_by(UserSession.id)
        ).all()[1]  # the second browser's session
        post_form(
            client,
            "/account",
            "/account/sessions/end",
            {"session_id": str(newest_other), "password": PASSWORD},
        )
        assert opens_dashboard(client) and opens_dashboard(third)
        assert not opens_dashboard(other)

    def test_switching_an_account_off_ends_its_sessions_at_once(self, app, client, city, make_user):
        make_user("admin@example.vn", "admin", None)
        person = make_user()
        browser = app.test_client()
        sign_in(browser)
        sign_in(client, "admin@example.vn")
        post_form(client, "/admin/users", f"/admin/users/{person.id}/active", {"active": "0"})
        assert not opens_dashboard(browser)

    def test_an_administrator_signs_someone_out_everywhere(self, app, client, city, make_user, db):
        make_user("admin@example.vn", "admin", None)
        person = make_user()
        browser = app.test_client()
        sign_in(browser)
        sign_in(client, "admin@example.vn")
        post_form(client, f"/admin/users/{person.id}", f"/admin/users/{person.id}/sessions/end")
        assert not opens_dashboard(browser)
        assert audit_actions(db, "user.sessions_ended")[0].subject == person.email

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
    page = client.get("/login?lang=en").get_data(as_text=True)
    return client.post(
        "/login?lang=en",
        data={"csrf_token": csrf_token(page), "email": email, "password": "wrong password!"},
    )


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

    def test_the_known_browser_cookie_is_httponly_and_secure_behind_https(
        self, other_app, city, make_user
    ):
        make_user()
        secure = other_app(SESSION_COOKIE_SECURE=True).test_client()
        signed = sign_in(secure)
        known = [c for c in signed.headers.getlist("Set-Cookie") if c.startswith("hailong_known=")]
        assert len(known) == 1
        assert "HttpOnly" in known[0] and "Secure" in known[0] and "Path=/login" in known[0]

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


# Officer PINs --------------------------------------------------------------------------------


class TestOfficerPinLockout:
    def sign_in_officer(self, client, token, pin):
        return client.post(
            "/api/v1/kiosk/officer/sign-in",
            json={"officer": "CB1", "pin": pin},
            headers=bearer(token),
        )

    def test_five_wrong_pins_from_any_kiosk_lock_the_pin_for_15_minutes(
        self, client, db, city, device_token
    ):
        from surveys import kiosks
        from tests.conftest import give_pin

        give_pin(db, "CB1", "482915")
        other_kiosk = kiosks.enroll_device_token(db, "O1-Q1", now=utcnow(), name="Quầy 1 bis")
        db.commit()
        for token in (device_token, other_kiosk, device_token, other_kiosk):
            assert self.sign_in_officer(client, token, "000000").status_code == 401
        db.expire_all()
        assert db.scalar(select(Officer.pin_failures)) == 4
        fifth = self.sign_in_officer(client, other_kiosk, "111111")
        assert fifth.status_code == 401  # this one still says wrong; it locks from now on
        locked = self.sign_in_officer(client, device_token, "482915")  # even the right PIN
        assert locked.status_code == 429
        assert locked.get_json()["error"]["code"] == "pin_locked"
        assert 14 * 60 < int(locked.headers["Retry-After"]) <= 15 * 60 + 1
        assert len(audit_actions(db, "officer.pin_locked")) == 1
        db.execute(update(Officer).values(pin_locked_until=utcnow() - timedelta(seconds=1)))
        db.commit()
        assert self.sign_in_officer(client, device_token, "482915").status_code == 200

    def test_a_right_pin_clears_the_count(self, client, db, city, device_token):
        from tests.conftest import give_pin

        give_pin(db, "CB1", "482915")
        for _ in range(3):
            self.sign_in_officer(client, device_token, "000000")
        assert self.sign_in_officer(client, device_token, "482915").status_code == 200
        db.expire_all()
        assert db.scalar(select(Officer.pin_failures)) == 0

    def test_the_kiosk_explains_a_lock(self, client, db, city):
        from tests.conftest import pairing_secret

        secret = pairing_secret(db)
        db.commit()
        page = client.get(f"/kiosk/pair/{secret}").get_data(as_text=True)
        client.post(f"/kiosk/pair/{secret}", data={"csrf_token": csrf_token(page)})
        html = client.get("/kiosk?lang=en").get_data(as_text=True)
        limited = re.search(r'data-message="limited" hidden>([^<]+)<', html)[1]
        assert "PIN sign-in waits a few minutes" in limited and "badge still works" in limited


# Kiosk device credentials --------------------------------------------------------------------


def pair(client, db) -> str:
    from tests.conftest import pairing_secret

    secret = pairing_secret(db)
    db.commit()
    page = client.get(f"/kiosk/pair/{secret}").get_data(as_text=True)
    client.post(f"/kiosk/pair/{secret}", data={"csrf_token": csrf_token(page)})
    return client.get_cookie("hailong_device").value


def heartbeat(client, **headers):
    return client.post(
        "/api/v1/kiosk/heartbeat",
        json={"app_version": "1", "queue_depth": 0, "oldest_queued_at": None, "last_error": None},
        headers=headers,
    )


def rating(client, **headers):
    import uuid

    return client.post(
        "/api/v1/responses",
        json={"id": str(uuid.uuid4()), "target": "COUNTR1", "answers": {"overall": "satisfied"}},
        headers=headers,
    )


class TestKioskCredential:
    def test_the_kiosk_page_does_not_carry_the_credential(self, client, db, city):
        credential = pair(client, db)
        page = client.get("/kiosk").get_data(as_text=True)
        assert credential not in page and "data-token" not in page
        cookie = client.get_cookie("hailong_device")
        assert cookie.http_only and cookie.same_site == "Strict"

    def test_the_tablet_posts_with_its_cookie_alone(self, client, db, city):
        pair(client, db)
        assert rating(client).status_code == 201
        assert heartbeat(client).status_code == 200
        from surveys.models import Response

        assert db.scalar(select(Response.channel)) == "kiosk"

    def test_the_heartbeat_rotates_an_old_credential_with_an_overlap(self, app, client, db, city):
        old = pair(client, db)
        assert heartbeat(client).status_code == 200
        assert client.get_cookie("hailong_device").value == old  # not 24 hours old yet
        db.execute(update(KioskDevice).values(token_issued_at=utcnow() - timedelta(hours=25)))
        db.commit()
        beat = heartbeat(client)
        assert beat.status_code == 200 and "hailong_device" in beat.headers["Set-Cookie"]
        new = client.get_cookie("hailong_device").value
        assert new != old
        assert "HttpOnly" in beat.headers["Set-Cookie"]
        # A rating queued with the old credential, sent during the overlap, is still taken.
        queued = app.test_client()
        queued.set_cookie("hailong_device", old)
        assert rating(queued).status_code == 201
        assert heartbeat(queued).status_code == 200
        assert queued.get_cookie("hailong_device").value == old  # no second rotation from it
        # After the overlap, the old one opens nothing; the new one works.
        db.execute(update(KioskDevice).values(previous_token_until=utcnow()))
        db.commit()
        assert rating(queued).status_code == 401
        assert rating(client).status_code == 201

    def test_revoking_the_device_ends_both_credentials(self, app, client, db, city, make_user):
        old = pair(client, db)
        db.execute(update(KioskDevice).values(token_issued_at=utcnow() - timedelta(hours=25)))
        db.commit()
        heartbeat(client)
        make_user("admin@example.vn", "admin", None)
        admin = app.test_client()
        sign_in(admin, "admin@example.vn")
        device_id = db.scalar(select(KioskDevice.id))
        page = admin.get("/admin/kiosks")
        admin.post(
            f"/admin/kiosks/{device_id}/revoke",
            data={"csrf_token": csrf_token(page.get_data(as_text=True)), "confirm": "y"},
        )
        db.expire_all()
        assert db.scalar(select(KioskDevice.revoked_at)) is not None
        queued = app.test_client()
        queued.set_cookie("hailong_device", old)
        assert rating(client).status_code == 401
        assert rating(queued).status_code == 401

    def test_a_made_up_credential_does_not_escape_the_phones_allowance(self, other_app, db, city):
        limited = other_app(RATELIMIT_ENABLED=True, PHONE_RATE_LIMIT="2 per minute")
        statuses = []
        for _ in range(3):
            # Three phones behind one address, each with a made-up kiosk credential.
            phone = limited.test_client()
            phone.set_cookie("hailong_device", "kd_made_up")
            page = phone.get("/s/COUNTR1").get_data(as_text=True)
            statuses.append(
                phone.post(
                    "/s/COUNTR1",
                    data={"csrf_token": csrf_token(page), "overall": "satisfied"},
                    headers={"Authorization": "Bearer kd_made_up"},
                ).status_code
            )
        assert statuses[-1] == 429

    def test_a_scripted_client_keeps_its_bearer_token(self, client, db, city, device_token):
        db.execute(update(KioskDevice).values(token_issued_at=utcnow() - timedelta(hours=25)))
        db.commit()
        beat = heartbeat(client, Authorization=f"Bearer {device_token}")
        assert beat.status_code == 200 and "Set-Cookie" not in beat.headers
        assert rating(client, Authorization=f"Bearer {device_token}").status_code == 201


# The second factor ---------------------------------------------------------------------------


def enrol(client) -> tuple[pyotp.TOTP, list[str]]:
    """Set up the second factor as a person does: start, read the key, type the code."""
    post_form(
        client, "/account/second-factor", "/account/second-factor/start", {"password": PASSWORD}
    )
    page = client.get("/account/second-factor").get_data(as_text=True)
    assert "<svg" in page  # the QR code, drawn by the server
    key = re.search(r'data-key="([A-Z2-7]+)"', page)[1]
    totp = pyotp.TOTP(key)
    confirmed = client.post(
        "/account/second-factor/confirm",
        data={"csrf_token": csrf_token(page), "code": totp.now()},
    )
    assert confirmed.status_code == 200, confirmed.get_data(as_text=True)
    codes = re.findall(
        r'<code class="code">([a-z2-9]{5}-[a-z2-9]{5})</code>', confirmed.get_data(True)
    )
    return totp, codes


def second_factor(client, code):
    page = client.get("/login/second-factor").get_data(as_text=True)
    return client.post("/login/second-factor", data={"csrf_token": csrf_token(page), "code": code})


class TestSecondFactor:
    def test_enrol_then_sign_in_with_a_code_never_twice(self, app, client, city, make_user, db):
        make_user()
        sign_in(client)
        totp, codes = enrol(client)
        assert len(codes) == 10 and len(set(codes)) == 10
        assert client.get("/account/second-factor").get_data(as_text=True).count(codes[0]) == 0
        post_form(client, "/account", "/logout")

        browser = app.test_client()
        password_only = sign_in(browser)
        assert password_only.headers["Location"].endswith("/login/second-factor")
        assert not opens_dashboard(browser)  # half signed in opens nothing
        assert second_factor(browser, "000000").status_code == 200
        assert not opens_dashboard(browser)
        code = totp.at(time.time() + 30)  # the next step: the one of enrolment is used up
        before = session_cookie(browser)
        assert second_factor(browser, code).status_code == 302
        assert session_cookie(browser) != before  # a new session id once the factor passed
        assert opens_dashboard(browser)

        replay = app.test_client()
        sign_in(replay)
        assert second_factor(replay, code).status_code == 200  # the same code again: refused
        assert not opens_dashboard(replay)

    def test_recovery_codes_work_once_each(self, app, client, city, make_user, db):
        make_user()
        sign_in(client)
        _totp, codes = enrol(client)
        for attempt, expected in ((codes[0], True), (codes[0], False), (codes[1].upper(), True)):
            browser = app.test_client()
            sign_in(browser)
            second_factor(browser, attempt)
            assert opens_dashboard(browser) is expected
        assert len(audit_actions(db, "user.recovery_code_used")) == 2
        methods = [e.after["method"] for e in audit_actions(db, "auth.second_factor")]
        assert methods == ["recovery_code", "recovery_code"]
        failed = audit_actions(db, "auth.second_factor_failed")
        assert [(e.actor_id, e.actor_email, e.after) for e in failed] == [
            (None, "manager@example.vn", {"method": "recovery_code"})
        ]

    def test_renewing_codes_and_turning_off_need_the_password(
        self, app, client, city, make_user, db
    ):
        make_user()
        sign_in(client)
        _totp, codes = enrol(client)
        wrong = post_form(
            client,
            "/account/second-factor",
            "/account/second-factor/recovery-codes",
            {"password": "not my password"},
        )
        assert wrong.status_code == 400
        renewed = post_form(
            client,
            "/account/second-factor",
            "/account/second-factor/recovery-codes",
            {"password": PASSWORD},
        )
        fresh = re.findall(r'<code class="code">([a-z2-9-]{11})</code>', renewed.get_data(True))
        assert len(fresh) == 10 and not set(fresh) & set(codes)
        browser = app.test_client()
        sign_in(browser)
        second_factor(browser, codes[2])
        assert not opens_dashboard(browser)  # the old codes stopped
        post_form(
            client, "/account/second-factor", "/account/second-factor/off", {"password": PASSWORD}
        )
        assert db.scalar(select(User.totp_enabled_at)) is None
        plain = app.test_client()
        assert sign_in(plain).headers["Location"].endswith("/dashboard")

    def test_wrong_codes_are_throttled_like_passwords(self, app, client, city, make_user, db):
        make_user()
        sign_in(client)
        enrol(client)
        browser = app.test_client()
        sign_in(browser)
        for _ in range(5):
            second_factor(browser, "000000")
        assert second_factor(browser, "123456").status_code == 429

    def test_a_required_role_is_sent_to_enrolment_before_anything_else(
        self, other_app, city, make_user, db
    ):
        strict = other_app(MFA_REQUIRED_ROLES="admin,manager")
        make_user()
        browser = strict.test_client()
        signed = sign_in(browser)
        assert signed.headers["Location"].endswith("/account/second-factor")
        for path in ("/dashboard", "/account", "/admin"):
            response = browser.get(path)
            assert response.status_code == 302
            assert response.headers["Location"].endswith("/account/second-factor")
        assert browser.get("/api/v1/offices").status_code == 401
        before = session_cookie(browser)
        enrol(browser)
        assert session_cookie(browser) != before  # a new session id after enrolment
        assert opens_dashboard(browser)

    def test_the_default_requires_it_of_administrators_only(self, other_app, city, make_user, db):
        default = other_app(MFA_REQUIRED_ROLES=("admin",))
        make_user()
        make_user("admin@example.vn", "admin", None)
        manager = default.test_client()
        assert sign_in(manager).headers["Location"].endswith("/dashboard")
        admin = default.test_client()
        assert (
            sign_in(admin, "admin@example.vn")
            .headers["Location"]
            .endswith("/account/second-factor")
        )

    def test_an_administrator_turns_off_a_lost_second_factor(
        self, app, client, city, make_user, db
    ):
        make_user("admin@example.vn", "admin", None)
        person = make_user()
        browser = app.test_client()
        sign_in(browser)
        enrol(browser)
        sign_in(client, "admin@example.vn")
        page = client.get(f"/admin/users/{person.id}").get_data(as_text=True)
        assert "Turn their second factor off" in client.get(
            f"/admin/users/{person.id}?lang=en"
        ).get_data(as_text=True)
        client.post(
            f"/admin/users/{person.id}/second-factor/off", data={"csrf_token": csrf_token(page)}
        )
        db.expire_all()
        assert db.get(User, person.id).totp_enabled_at is None
        entry = audit_actions(db, "user.mfa_disabled")[-1]
        assert (entry.actor_email, entry.subject) == ("admin@example.vn", person.email)
        assert not opens_dashboard(browser)  # their sessions ended too

    def test_setting_it_up_asks_for_the_password_and_signs_out_other_browsers(
        self, app, client, city, make_user, db
    ):
        make_user()
        sign_in(client)
        other = app.test_client()
        sign_in(other)
        refused = post_form(
            client,
            "/account/second-factor",
            "/account/second-factor/start",
            {"password": "not my password"},
        )
        assert refused.status_code == 400 and db.scalar(select(User.totp_secret)) is None
        enrol(client)
        assert opens_dashboard(client) and not opens_dashboard(other)

    def test_recovery_codes_are_stored_as_salted_scrypt_hashes(self, client, city, make_user, db):
        from surveys.models import RecoveryCode

        make_user()
        sign_in(client)
        _totp, codes = enrol(client)
        stored = db.scalars(select(RecoveryCode.code_hash)).all()
        assert len(stored) == 10 and all(h.startswith("scrypt:") for h in stored)
        assert not any(code.replace("-", "") in h for code in codes for h in stored)

    def test_api_tokens_are_not_affected(self, other_app, city, make_token):
        strict = other_app(MFA_REQUIRED_ROLES="admin,manager")
        token = make_token(token_scope="read")
        assert strict.test_client().get("/api/v1/offices", headers=bearer(token)).status_code == 200


# Headers -------------------------------------------------------------------------------------


class TestHeaders:
    def test_no_store_on_every_authenticated_page_and_personal_api_answer(
        self, client, city, make_user, make_token
    ):
        make_user("admin@example.vn", "admin", None)
        sign_in(client, "admin@example.vn")
        for path in ("/dashboard", "/dashboard/offices/O1", "/admin", "/admin/users", "/account"):
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.headers["Cache-Control"] == "no-store", path
        assert client.get("/api/v1/offices").headers["Cache-Control"] == "no-store"
        token = make_token(token_scope="read")
        anonymous = client.application.test_client()
        for path in ("/api/v1/offices", "/api/v1/offices/O1/responses.csv"):
            response = anonymous.get(path, headers=bearer(token))
            response.get_data()
            response.close()  # the CSV streams inside the request's context: end it
            assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        poster = anonymous.get("/s/COUNTR1/qr.svg")
        assert "no-store" not in poster.headers.get("Cache-Control", "")

    def test_hsts_only_when_configured(self, other_app, client, city):
        assert "Strict-Transport-Security" not in client.get("/login").headers
        secure = other_app(HSTS_SECONDS=31536000).test_client()
        header = secure.get("/login").headers["Strict-Transport-Security"]
        assert header == "max-age=31536000; includeSubDomains"


# Key rotation --------------------------------------------------------------------------------


class TestSecretKeyFallbacks:
    def test_rotating_the_key_signs_nobody_out(self, other_app, city, make_user):
        make_user()
        old = other_app(SECRET_KEY="the old key")
        browser = old.test_client()
        sign_in(browser)
        cookie = session_cookie(browser)
        rotated = other_app(SECRET_KEY="the new key", SECRET_KEY_FALLBACKS="the old key")
        after = rotated.test_client()
        after.set_cookie(COOKIE, cookie)
        assert opens_dashboard(after)
        forgotten = other_app(SECRET_KEY="the new key").test_client()
        forgotten.set_cookie(COOKIE, cookie)
        assert not opens_dashboard(forgotten)

    def test_other_signed_cookies_accept_the_fallbacks_too(self, other_app, city, db):
        old = other_app(SECRET_KEY="the old key", RATELIMIT_ENABLED=True)
        phone = old.test_client()
        page = phone.get("/s/COUNTR1").get_data(as_text=True)
        phone.post("/s/COUNTR1", data={"csrf_token": csrf_token(page), "overall": "satisfied"})
        answered = phone.get_cookie("hailong_answered").value
        rotated = other_app(
            SECRET_KEY="the new key", SECRET_KEY_FALLBACKS=["the old key"], RATELIMIT_ENABLED=True
        )
        again = rotated.test_client()
        again.set_cookie("hailong_answered", answered)
        # The old cookie is still read: this phone answered already, no new form.
        assert 'name="csrf_token"' not in again.get("/s/COUNTR1").get_data(as_text=True)
        forgotten = other_app(SECRET_KEY="the new key", RATELIMIT_ENABLED=True).test_client()
        forgotten.set_cookie("hailong_answered", answered)
        assert 'name="csrf_token"' in forgotten.get("/s/COUNTR1").get_data(as_text=True)


# Retention -----------------------------------------------------------------------------------


class TestCommentRetention:
    def test_old_comments_lose_their_text_and_keep_their_rating(self, other_app, city, db):
        import uuid

        from surveys.models import Answer, Response

        app = other_app(COMMENT_RETENTION_DAYS=30)
        client = app.test_client()
        ids = []
        for _ in range(2):
            ids.append(str(uuid.uuid4()))
            client.post(
                "/api/v1/responses",
                json={
                    "id": ids[-1],
                    "target": "COUNTR1",
                    "answers": {"overall": "not_satisfied", "reasons": ["waiting_time"]},
                    "comment": "Anh Nguyễn Văn A, số điện thoại 0912345678",
                },
            )
        db.execute(
            update(Response)
            .where(Response.id == uuid.UUID(ids[0]))
            .values(received_at=utcnow() - timedelta(days=31))
        )
        db.commit()
        result = app.test_cli_runner().invoke(args=["erase-old-comments"])
        assert result.exit_code == 0 and "Erased 1" in result.output
        db.expire_all()
        texts = db.scalars(select(Answer.text).where(Answer.text.is_not(None))).all()
        assert len(texts) == 1
        assert (
            db.scalar(select(Response.headline_polarity).where(Response.id == uuid.UUID(ids[0])))
            == -1
        )
        kept = db.scalars(
            select(Answer.choice_id).where(
                Answer.response_id == uuid.UUID(ids[0]), Answer.choice_id.is_not(None)
            )
        ).all()
        assert len(kept) == 2  # the rating and its reason stay

    def test_off_by_default(self, runner, city):
        result = runner.invoke(args=["erase-old-comments"])
        assert result.exit_code == 0 and "nothing erased" in result.output
