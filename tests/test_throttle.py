"""Against stuffing: the per-phone window (signed cookie), per-IP limits (Flask-Limiter, memory
and Redis storage shared by two app instances), the anti-enumeration limit on code look-ups,
polite refusals logged without personal data, and one switch that turns every throttle off."""

from __future__ import annotations

import logging
import re
import time
import uuid

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from kiosk import create_app
from kiosk.phone_window import COOKIE
from surveys.models import Response
from tests.conftest import csrf_token, make_app

REDIS = "redis://127.0.0.1:6379"


def count(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Response))


def body(target="COUNTR1", **extra) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "target": target,
        "answers": {"overall": "satisfied"},
        **extra,
    }


def phone_post(client, code="COUNTR1", query="", **data):
    page = client.get(f"/s/{code}").get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(page),
        "response_id": re.search(r'name="response_id" value="([^"]+)"', page).group(1),
        "overall": "satisfied",
    }
    form.update(data)
    return client.post(f"/s/{code}{query}", data=form)


@pytest.fixture()
def throttled(database_url):
    """An app with every throttle on (in-memory counters, fresh for each test)."""
    apps = []

    def build(**overrides):
        app = make_app(database_url, RATELIMIT_ENABLED=True, **overrides)
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["hailong.engine"].dispose()


class TestPhoneWindow:
    def test_second_phone_answer_for_a_code_gets_a_polite_page(self, throttled, db, city):
        client = throttled().test_client()
        assert phone_post(client).status_code == 302
        cookie = client.get_cookie(COOKIE)
        assert cookie is not None and cookie.http_only and "COUNTR1" not in cookie.value
        # Opening the survey again shows that the answer is in, instead of a form.
        again = client.get("/s/COUNTR1?lang=en")
        assert again.status_code == 200
        assert "we already have your answer" in again.get_data(as_text=True)
        assert 'name="overall"' not in again.get_data(as_text=True)
        assert count(db) == 1

    def test_a_refused_post_is_429_and_stores_nothing(self, throttled, db, city):
        app = throttled()
        client = app.test_client()
        page = client.get("/s/COUNTR1").get_data(as_text=True)
        token = csrf_token(page)
        client.post("/s/COUNTR1", data={"csrf_token": token, "overall": "satisfied"})
        response = client.post(
            "/s/COUNTR1?lang=en",
            data={
                "csrf_token": token,
                "overall": "not_satisfied",
                "response_id": str(uuid.uuid4()),
            },
        )
        assert response.status_code == 429
        assert "we already have your answer" in response.get_data(as_text=True)
        assert count(db) == 1

    def test_the_same_form_sent_twice_is_still_thanks(self, throttled, db, city):
        client = throttled().test_client()
        page = client.get("/s/COUNTR1").get_data(as_text=True)
        form = {
            "csrf_token": csrf_token(page),
            "response_id": re.search(r'name="response_id" value="([^"]+)"', page).group(1),
            "overall": "satisfied",
        }
        assert client.post("/s/COUNTR1", data=form).status_code == 302
        assert client.post("/s/COUNTR1", data=form).status_code == 302
        assert count(db) == 1

    def test_other_codes_are_not_affected(self, throttled, db, city):
        client = throttled().test_client()
        assert phone_post(client, "COUNTR1").status_code == 302
        assert phone_post(client, "OFFICE1").status_code == 302
        assert phone_post(client, "COUNTR2").status_code == 302
        assert count(db) == 3

    def test_the_window_ends(self, throttled, db, city):
        app = throttled(PHONE_WINDOW_MINUTES=30)
        client = app.test_client()
        long_ago = int(time.time()) - 31 * 60
        signed = URLSafeTimedSerializer(app.secret_key, salt="hailong.phone-window").dumps(
            {"COUNTR1": long_ago}
        )
        client.set_cookie(COOKIE, signed)
        assert phone_post(client).status_code == 302 and count(db) == 1

    def test_a_forged_cookie_is_ignored(self, throttled, db, city):
        client = throttled().test_client()
        forged = URLSafeTimedSerializer("another-key", salt="hailong.phone-window").dumps(
            {"COUNTR1": int(time.time())}
        )
        client.set_cookie(COOKIE, forged)
        assert phone_post(client).status_code == 302

    def test_api_without_device_token_is_429_json(self, throttled, db, city):
        client = throttled().test_client()
        first = body()
        assert client.post("/api/v1/responses", json=first).status_code == 201
        replay = client.post("/api/v1/responses", json=first)
        assert replay.status_code == 201  # the same response again is not a second one
        second = client.post("/api/v1/responses", json=body())
        assert second.status_code == 429
        assert second.json["error"]["code"] == "already_answered"
        assert "target" in second.json["error"]["fields"]
        assert count(db) == 1

    def test_kiosks_are_exempt(self, throttled, db, city, device_token):
        client = throttled(KIOSK_RATE_LIMIT="100 per minute").test_client()
        headers = {"Authorization": f"Bearer {device_token}"}
        for _ in range(3):
            assert client.post("/api/v1/responses", json=body(), headers=headers).status_code == 201
        assert count(db) == 3

    def test_tickets_are_exempt(self, throttled, db, city, make_token):
        client = throttled().test_client()
        token = make_token(scope="O1")
        tickets = client.post(
            "/api/v1/tickets",
            json={"office": "O1", "counter": "O1-Q1", "count": 2},
            headers={"Authorization": f"Bearer {token}"},
        ).json["tickets"]
        assert client.post("/api/v1/responses", json=body()).status_code == 201
        for ticket in tickets:
            data = {
                "id": str(uuid.uuid4()),
                "ticket": ticket["code"],
                "answers": {"overall": "satisfied"},
            }
            assert client.post("/api/v1/responses", json=data).status_code == 201
        assert count(db) == 3

    def test_refusal_is_logged_without_address_or_cookie(self, throttled, db, city, caplog):
        client = throttled().test_client()
        page = client.get("/s/COUNTR1").get_data(as_text=True)
        form = {"csrf_token": csrf_token(page), "overall": "satisfied"}
        client.post("/s/COUNTR1", data={**form, "response_id": str(uuid.uuid4())})
        cookie = client.get_cookie(COOKIE).value
        with caplog.at_level(logging.INFO):
            client.post("/s/COUNTR1", data={**form, "response_id": str(uuid.uuid4())})
            client.post("/api/v1/responses", json=body())
        refusals = [r for r in caplog.records if "refused" in r.getMessage()]
        assert len(refusals) == 2
        for record in caplog.records:
            message = record.getMessage()
            assert "127.0.0.1" not in message and cookie not in message


class TestPerIpLimits:
    def test_html_submissions_get_a_polite_429_page(self, throttled, db, city, caplog):
        app = throttled(PHONE_RATE_LIMIT="2 per minute", PHONE_WINDOW_MINUTES=0)
        client = app.test_client()
        assert phone_post(client).status_code == 302
        assert phone_post(client).status_code == 302
        with caplog.at_level(logging.INFO):
            refused = phone_post(client, query="?lang=en")
        assert refused.status_code == 429
        html = refused.get_data(as_text=True)
        assert "Too many attempts" in html and 'class="phone"' in html
        assert count(db) == 2
        messages = [r.getMessage() for r in caplog.records]
        assert any("Rate limit 2 per 1 minute" in m for m in messages)
        assert not any("127.0.0.1" in m for m in messages)

    def test_api_gets_a_429_json_error(self, throttled, db, city):
        client = throttled(PHONE_RATE_LIMIT="2 per minute", PHONE_WINDOW_MINUTES=0).test_client()
        for _ in range(2):
            assert client.post("/api/v1/responses", json=body()).status_code == 201
        refused = client.post("/api/v1/responses", json=body())
        assert refused.status_code == 429
        assert refused.json["error"]["code"] == "too_many_requests"
        assert "Retry-After" in refused.headers
        assert count(db) == 2

    def test_each_address_has_its_own_allowance(self, throttled, db, city):
        client = throttled(PHONE_RATE_LIMIT="1 per minute", PHONE_WINDOW_MINUTES=0).test_client()
        for address in ("10.0.0.1", "10.0.0.2"):
            response = client.post(
                "/api/v1/responses", json=body(), environ_base={"REMOTE_ADDR": address}
            )
            assert response.status_code == 201
        refused = client.post(
            "/api/v1/responses", json=body(), environ_base={"REMOTE_ADDR": "10.0.0.1"}
        )
        assert refused.status_code == 429

    def test_only_misses_count_towards_the_code_lookup_limit(self, throttled, city):
        client = throttled(CODE_LOOKUP_RATE_LIMIT="3 per minute").test_client()
        for _ in range(10):
            assert client.get("/s/COUNTR1").status_code == 200
        assert [client.get(f"/s/NOPE{i}X").status_code for i in range(3)] == [404] * 3
        assert client.get("/t/ABCDEFGHJK").status_code == 429
        assert client.get("/s?code=NOPE9").status_code == 429
        assert client.get("/s/COUNTR1").status_code == 429  # until the minute is over


class TestSwitchedOff:
    def test_flask_ratelimit_enabled_false_turns_every_throttle_off(
        self, database_url, db, city, monkeypatch
    ):
        monkeypatch.setenv("FLASK_RATELIMIT_ENABLED", "false")
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test-secret-key",
                "DATABASE_URL": database_url,
                "PHONE_RATE_LIMIT": "1 per minute",
                "KIOSK_RATE_LIMIT": "1 per minute",
                "CODE_LOOKUP_RATE_LIMIT": "1 per minute",
                "PHONE_WINDOW_MINUTES": 30,
            }
        )
        try:
            assert app.config["RATELIMIT_ENABLED"] is False
            client = app.test_client()
            for _ in range(3):
                assert phone_post(client).status_code == 302
                assert client.post("/api/v1/responses", json=body()).status_code == 201
                assert client.get("/s/NOPE999").status_code == 404
            assert client.get_cookie(COOKIE) is None
            assert count(db) == 6
        finally:
            app.extensions["hailong.engine"].dispose()

    def test_an_app_with_limits_does_not_switch_them_on_in_another(self, throttled, client, city):
        """Flask-Limiter's extension object is shared by every app of the process."""
        throttled(PHONE_RATE_LIMIT="1 per minute")
        for _ in range(3):
            assert client.post("/api/v1/responses", json=body()).status_code == 201


@pytest.fixture()
def redis_prefix():
    """A key prefix unique to this test run; its keys are deleted afterwards."""
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS}")
    prefix = f"hailong-test-{uuid.uuid4().hex[:12]}"
    yield prefix, connection
    keys = list(connection.scan_iter(f"*{prefix}*"))
    if keys:
        connection.delete(*keys)
    connection.close()


class TestRedisStorage:
    def test_limit_holds_across_two_app_servers(self, database_url, db, city, redis_prefix):
        prefix, connection = redis_prefix
        settings = {
            "RATELIMIT_ENABLED": True,
            "REDIS_URL": REDIS,
            "RATELIMIT_STORAGE_URI": REDIS,
            "RATELIMIT_KEY_PREFIX": prefix,
            "PHONE_RATE_LIMIT": "3 per minute",
            "PHONE_WINDOW_MINUTES": 0,
        }
        first, second = make_app(database_url, **settings), make_app(database_url, **settings)
        try:
            assert (
                first.extensions["hailong.limiter"].storage
                is not second.extensions["hailong.limiter"].storage
            )
            one, two = first.test_client(), second.test_client()
            statuses = [
                one.post("/api/v1/responses", json=body()).status_code,
                two.post("/api/v1/responses", json=body()).status_code,
                one.post("/api/v1/responses", json=body()).status_code,
                two.post("/api/v1/responses", json=body()).status_code,
                one.post("/api/v1/responses", json=body()).status_code,
            ]
            assert statuses == [201, 201, 201, 429, 429]
            assert count(db) == 3
            assert list(connection.scan_iter(f"*{prefix}*")), "no counter was kept in Redis"
        finally:
            for app in (first, second):
                app.extensions["hailong.engine"].dispose()

    def test_redis_url_alone_selects_redis_storage(self, database_url, redis_prefix):
        prefix, _connection = redis_prefix
        app = make_app(database_url, RATELIMIT_ENABLED=True, REDIS_URL=REDIS)
        try:
            assert app.config["RATELIMIT_STORAGE_URI"] == REDIS
            assert type(app.extensions["hailong.limiter"].storage).__name__ == "RedisStorage"
        finally:
            app.extensions["hailong.engine"].dispose()


class TestSharedAllowances:
    def test_the_form_and_the_api_share_one_allowance(self, throttled, db, city):
        client = throttled(PHONE_RATE_LIMIT="3 per minute", PHONE_WINDOW_MINUTES=0).test_client()
        assert phone_post(client).status_code == 302
        assert client.post("/api/v1/responses", json=body()).status_code == 201
        assert phone_post(client, "OFFICE1").status_code == 302
        # The fourth answer of this client, whichever way it comes, is refused.
        assert client.post("/api/v1/responses", json=body()).status_code == 429
        assert phone_post(client).status_code == 429
        assert count(db) == 3

    def test_an_ipv6_client_counts_as_its_slash_64(self, throttled, db, city):
        client = throttled(PHONE_RATE_LIMIT="2 per minute", PHONE_WINDOW_MINUTES=0).test_client()
        for address in ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9"):
            response = client.post(
                "/api/v1/responses", json=body(), environ_base={"REMOTE_ADDR": address}
            )
            assert response.status_code == 201
        refused = client.post(
            "/api/v1/responses", json=body(), environ_base={"REMOTE_ADDR": "2001:db8:1:2::abcd"}
        )
        assert refused.status_code == 429
        # Another /64 has its own allowance.
        other = client.post(
            "/api/v1/responses", json=body(), environ_base={"REMOTE_ADDR": "2001:db8:1:3::1"}
        )
        assert other.status_code == 201

    def test_guessed_device_tokens_are_counted_per_client(self, throttled, db, city, device_token):
        client = throttled(DEVICE_FAILURE_RATE_LIMIT="3 per minute").test_client()
        for attempt in range(3):
            response = client.post(
                "/api/v1/kiosk/heartbeat",
                json={"app_version": "1", "queue_depth": 0},
                headers={"Authorization": f"Bearer kd_guess{attempt}"},
            )
            assert response.status_code == 401
        junk = client.post(
            "/api/v1/responses", json=body(), headers={"Authorization": "Bearer kd_guess9"}
        )
        assert junk.status_code == 429
        # The real kiosk elsewhere is not affected, and good tokens never count.
        real = client.post(
            "/api/v1/kiosk/heartbeat",
            json={"app_version": "1", "queue_depth": 0},
            headers={"Authorization": f"Bearer {device_token}"},
            environ_base={"REMOTE_ADDR": "10.9.9.9"},
        )
        assert real.status_code == 200


class TestCodeCeiling:
    def test_ratings_over_the_hourly_ceiling_are_stored_but_held(self, throttled, db, city):
        app = throttled(CODE_HOURLY_CEILING=3, PHONE_WINDOW_MINUTES=0)
        client = app.test_client()
        ids = []
        for i in range(5):
            data = body()
            ids.append(data["id"])
            response = client.post(
                "/api/v1/responses", json=data, environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}
            )
            assert response.status_code == 201
        db.expire_all()
        held = [db.get(Response, uuid.UUID(i)).is_suspect for i in ids]
        assert held == [False, False, False, True, True]
        # Another code has its own ceiling; an office's own code has one per counter it serves.
        assert client.post("/api/v1/responses", json=body("OFFICE1")).status_code == 201
        db.expire_all()
        assert db.scalar(select(func.count()).where(Response.is_suspect)) == 2

    def test_held_ratings_are_left_out_of_the_figures_until_accepted(
        self, throttled, db, city, make_token, make_user, login
    ):
        app = throttled(CODE_HOURLY_CEILING=1, PHONE_WINDOW_MINUTES=0)
        client = app.test_client()
        for i in range(3):
            client.post(
                "/api/v1/responses",
                json=body(answers={"overall": "not_satisfied"}) if i else body(),
                environ_base={"REMOTE_ADDR": f"10.0.1.{i}"},
            )
        token = make_token("viewer@example.vn", "viewer", "O1")
        summary = client.get(
            "/api/v1/offices/O1/summary", headers={"Authorization": f"Bearer {token}"}
        ).json
        assert summary["responses"] == 1
        make_user("admin@example.vn", "admin", None)
        page = client.get("/login").get_data(as_text=True)
        client.post(
            "/login",
            data={
                "csrf_token": re.search(
                    r'name="csrf_token" type="hidden" value="([^"]+)"', page
                ).group(1),
                "email": "admin@example.vn",
                "password": "correct horse battery",
            },
        )
        queue = client.get("/admin/held?lang=en").get_data(as_text=True)
        assert "COUNTR1" in queue and ">2<" in queue
        action = re.search(r'action="(/admin/held/COUNTR1/[^"]+)"', queue).group(1)
        accepted = client.post(
            action.replace("&#43;", "+"),
            data={"csrf_token": csrf_token(queue), "decision": "accept"},
        )
        assert accepted.status_code == 302
        summary = client.get(
            "/api/v1/offices/O1/summary", headers={"Authorization": f"Bearer {token}"}
        ).json
        assert summary["responses"] == 3
        assert "No ratings are waiting" in client.get("/admin/held?lang=en").get_data(as_text=True)

    def test_only_administrators_review_held_ratings(self, throttled, city, make_user, login):
        client = throttled().test_client()
        make_user("manager@example.vn", "manager", "O1")
        page = client.get("/login").get_data(as_text=True)
        client.post(
            "/login",
            data={
                "csrf_token": csrf_token(page),
                "email": "manager@example.vn",
                "password": "correct horse battery",
            },
        )
        assert client.get("/admin/held").status_code == 403
        assert client.post("/admin/held/COUNTR1/2026-01-01T10:00:00").status_code in (400, 403)

    def test_the_ceiling_is_off_with_the_other_throttles(self, client, db, city):
        for _ in range(80):
            assert client.post("/api/v1/responses", json=body()).status_code == 201
        db.expire_all()
        assert db.scalar(select(func.count()).where(Response.is_suspect)) == 0
