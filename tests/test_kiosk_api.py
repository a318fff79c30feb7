"""The kiosk's own API through HTTP (heartbeat, state, officer sign-in and -out), and the domain
rules behind it that depend on the clock: closing-time sign-out and replayed ratings."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from surveys import kiosks, officers
from surveys.db import utcnow
from surveys.errors import ValidationError, WrongCredentials
from surveys.models import KioskDevice, Officer, OfficerShift, Response
from surveys.responses import ResponseInput, submit_response
from tests.conftest import give_pin, iso, make_app

PIN = "2468"
#: Monday 2 March 2026, 10:00 in Hanoi (UTC+7): the office (07:30–17:00) is open.
MONDAY_10 = datetime(2026, 3, 2, 3, 0)


def local(hour: int, minute: int = 0, day: int = 0) -> datetime:
    """Return naive UTC for a Hanoi wall-clock time on MONDAY_10's day (+ day)."""
    return MONDAY_10 + timedelta(days=day, hours=hour - 10, minutes=minute)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture()
def admin(make_user):
    return make_user("admin@example.vn", "admin", None)


@pytest.fixture()
def pin(db, city, admin) -> str:
    give_pin(db, "CB1", PIN)
    return PIN


@pytest.fixture()
def other_officer(db, city, admin) -> Officer:
    """An officer of the other office, with a PIN of their own."""
    officer = Officer(code="CB2", name="Trần Văn Bình", office=city.other_office)
    db.add(officer)
    db.flush()
    db.commit()
    give_pin(db, "CB2", "1357")
    return officer


def device_of(db, token: str) -> KioskDevice:
    db.expire_all()
    return kiosks.device_for_token(db, token)


def rate(client, token, answer="satisfied", **extra):
    data = {"id": str(uuid.uuid4()), "target": "COUNTR1", "answers": {"overall": answer}}
    data.update(extra)
    response = client.post("/api/v1/responses", json=data, headers=bearer(token))
    assert response.status_code == 201, response.json
    return uuid.UUID(data["id"])


def beat(**overrides):
    body = {
        "app_version": "1.4.0",
        "queue_depth": 0,
        "oldest_queued_at": None,
        "last_error": None,
    }
    body.update(overrides)
    return body


class TestAuthentication:
    @pytest.mark.parametrize(
        "method,path",
        [
            ("post", "/api/v1/kiosk/heartbeat"),
            ("get", "/api/v1/kiosk/state"),
            ("post", "/api/v1/kiosk/officer/sign-in"),
            ("post", "/api/v1/kiosk/officer/sign-out"),
        ],
    )
    def test_every_call_needs_a_device_token(self, client, city, method, path):
        for headers in ({}, bearer("kd_not-a-real-token"), {"Authorization": "Basic abc"}):
            response = getattr(client, method)(path, json={}, headers=headers)
            assert response.status_code == 401
            assert response.json["error"]["code"] == "unknown_device"
            assert response.headers["WWW-Authenticate"].startswith("Bearer")

    def test_a_revoked_device_is_refused(self, client, db, city, device_token, admin):
        kiosks.revoke_device(db, admin, device_of(db, device_token).id, now=utcnow())
        db.commit()
        response = client.post("/api/v1/kiosk/heartbeat", json=beat(), headers=bearer(device_token))
        assert response.status_code == 401 and response.json["error"]["code"] == "unknown_device"

    def test_no_csrf_token_is_needed(self, client, city, device_token):
        response = client.post("/api/v1/kiosk/heartbeat", json=beat(), headers=bearer(device_token))
        assert response.status_code == 200


class TestHeartbeat:
    def test_records_health_and_answers_with_the_state(self, client, db, city, device_token):
        before = utcnow()
        response = client.post(
            "/api/v1/kiosk/heartbeat",
            json=beat(
                queue_depth=3,
                oldest_queued_at="2026-03-02T09:15:00+07:00",
                last_error="x" * 600,
                app_version="v" * 40,
            ),
            headers=bearer(device_token),
        )
        assert response.status_code == 200
        body = response.json
        assert body == {
            "status": "ok",
            "server_time": body["server_time"],
            "officer": None,
            "counter": {"code": "O1-Q1", "name": "Quầy 1"},
            "office": {"code": "O1", "name": "Bộ phận một cửa Quận Một", "closes_at": "17:00"},
        }
        server_time = datetime.fromisoformat(body["server_time"].replace("Z", "+00:00"))
        assert server_time.tzinfo is not None and body["server_time"].endswith("Z")
        assert abs(server_time.replace(tzinfo=None) - before) < timedelta(seconds=5)
        device = device_of(db, device_token)
        assert device.last_seen_at >= before.replace(microsecond=0)
        assert device.app_version == "v" * 32 and device.queue_depth == 3
        assert device.oldest_queued_at == datetime(2026, 3, 2, 2, 15)
        assert device.last_error == "x" * 500

    def test_an_empty_queue_has_no_oldest_rating(self, client, db, city, device_token):
        client.post(
            "/api/v1/kiosk/heartbeat",
            json=beat(queue_depth=0, oldest_queued_at="2026-03-02T09:15:00Z", last_error=""),
            headers=bearer(device_token),
        )
        device = device_of(db, device_token)
        assert device.oldest_queued_at is None and device.last_error is None

    @pytest.mark.parametrize(
        "body,fields",
        [
            ({"queue_depth": 0}, {"app_version"}),
            (beat(app_version=""), {"app_version"}),
            (beat(app_version=3), {"app_version"}),
            ({"app_version": "1"}, {"queue_depth"}),
            (beat(queue_depth=-1), {"queue_depth"}),
            (beat(queue_depth="3"), {"queue_depth"}),
            (beat(queue_depth=True), {"queue_depth"}),
            (beat(queue_depth=1.5), {"queue_depth"}),
            (beat(queue_depth=1, oldest_queued_at="2026-03-02T09:15:00"), {"oldest_queued_at"}),
            (beat(queue_depth=1, oldest_queued_at="yesterday"), {"oldest_queued_at"}),
            (beat(last_error=5), {"last_error"}),
            ({"app_version": None, "queue_depth": None}, {"app_version", "queue_depth"}),
        ],
    )
    def test_bad_values_are_named(self, client, db, city, device_token, body, fields):
        response = client.post("/api/v1/kiosk/heartbeat", json=body, headers=bearer(device_token))
        assert response.status_code == 400
        assert response.json["error"]["code"] == "validation_error"
        assert set(response.json["error"]["fields"]) == fields
        assert device_of(db, device_token).last_seen_at is None

    @pytest.mark.parametrize("data", ["not json", "[1, 2]", "3"])
    def test_a_body_that_is_not_an_object_is_400(self, client, city, device_token, data):
        response = client.post(
            "/api/v1/kiosk/heartbeat",
            data=data,
            content_type="application/json",
            headers=bearer(device_token),
        )
        assert response.status_code == 400 and response.json["error"]["code"] == "malformed_json"

    def test_state_is_the_same_body_without_a_heartbeat(self, client, db, city, device_token):
        state = client.get("/api/v1/kiosk/state", headers=bearer(device_token))
        assert state.status_code == 200
        beat_body = client.post(
            "/api/v1/kiosk/heartbeat", json=beat(), headers=bearer(device_token)
        ).json
        assert {k: v for k, v in state.json.items() if k != "server_time"} == {
            k: v for k, v in beat_body.items() if k != "server_time"
        }
        db.expire_all()
        seen = device_of(db, device_token).last_seen_at
        client.get("/api/v1/kiosk/state", headers=bearer(device_token))
        assert device_of(db, device_token).last_seen_at == seen


class TestOfficerSignIn:
    def test_sign_in_by_pin_attributes_ratings_until_sign_out(
        self, client, db, city, device_token, pin
    ):
        response = client.post(
            "/api/v1/kiosk/officer/sign-in",
            json={"officer": "cb1", "pin": pin},
            headers=bearer(device_token),
        )
        assert response.status_code == 200
        assert response.json == {"officer": {"code": "CB1", "name": "Nguyễn Thị Lan"}}
        state = client.get("/api/v1/kiosk/state", headers=bearer(device_token)).json
        assert state["officer"] == {"code": "CB1", "name": "Nguyễn Thị Lan"}
        during = rate(client, device_token)

        response = client.post("/api/v1/kiosk/officer/sign-out", headers=bearer(device_token))
        assert response.status_code == 200 and response.json == {"officer": None}
        after = rate(client, device_token)
        db.expire_all()
        assert db.get(Response, during).officer_id == city.officer.id
        assert db.get(Response, after).officer_id is None
        assert db.get(Response, after).counter_id == city.counter.id
        shift = db.scalar(select(OfficerShift))
        assert shift.end_reason == "sign_out" and shift.ended_at >= shift.started_at
        assert (
            client.get("/api/v1/kiosk/state", headers=bearer(device_token)).json["officer"] is None
        )

    def test_sign_out_with_nobody_signed_in_is_harmless(self, client, db, city, device_token):
        response = client.post("/api/v1/kiosk/officer/sign-out", headers=bearer(device_token))
        assert response.status_code == 200 and response.json == {"officer": None}

    def test_sign_in_by_badge(self, client, db, city, device_token, admin):
        _officer, secret = officers.issue_badge(db, admin, "CB1", now=utcnow())
        db.commit()
        assert secret.startswith(officers.BADGE_PREFIX)
        response = client.post(
            "/api/v1/kiosk/officer/sign-in", json={"badge": secret}, headers=bearer(device_token)
        )
        assert response.status_code == 200 and response.json["officer"]["code"] == "CB1"
        # A badge issued again replaces the old one.
        officers.issue_badge(db, admin, "CB1", now=utcnow())
        db.commit()
        response = client.post(
            "/api/v1/kiosk/officer/sign-in", json={"badge": secret}, headers=bearer(device_token)
        )
        assert response.status_code == 401

    def test_wrong_credentials_all_look_the_same(
        self, client, db, city, device_token, pin, other_officer
    ):
        attempts = [
            {"officer": "CB1", "pin": "9999"},  # wrong PIN
            {"officer": "NOBODY", "pin": pin},  # unknown officer
            {"officer": "CB2", "pin": "1357"},  # right PIN, other office
            {"officer": "CB1", "pin": "24 68"},  # not digits
            {"badge": "hlb_forged"},
        ]
        bodies = []
        for attempt in attempts:
            response = client.post(
                "/api/v1/kiosk/officer/sign-in", json=attempt, headers=bearer(device_token)
            )
            assert response.status_code == 401, attempt
            bodies.append(response.json)
        assert all(b == bodies[0] for b in bodies)
        assert bodies[0]["error"]["code"] == "wrong_credentials"
        assert db.scalar(select(func.count()).select_from(OfficerShift)) == 0
        assert device_of(db, device_token).officer_id is None

    def test_an_inactive_officer_cannot_sign_in(self, client, db, city, device_token, pin):
        db.get(Officer, city.officer.id).is_active = False
        db.commit()
        response = client.post(
            "/api/v1/kiosk/officer/sign-in",
            json={"officer": "CB1", "pin": pin},
            headers=bearer(device_token),
        )
        assert response.status_code == 401

    @pytest.mark.parametrize(
        "body,fields",
        [
            ({}, {"officer", "pin"}),
            ({"officer": "CB1"}, {"pin"}),
            ({"pin": "2468"}, {"officer"}),
            ({"officer": "CB1", "pin": 2468}, {"pin"}),
            ({"badge": 12}, {"badge"}),
        ],
    )
    def test_missing_or_mistyped_fields_are_400(self, client, city, device_token, body, fields):
        response = client.post(
            "/api/v1/kiosk/officer/sign-in", json=body, headers=bearer(device_token)
        )
        assert response.status_code == 400 and set(response.json["error"]["fields"]) == fields

    def test_signing_in_replaces_the_officer_on_duty(
        self, client, db, city, device_token, pin, admin
    ):
        db.add(Officer(code="CB3", name="Lê Thu Hà", office=city.office))
        db.flush()
        db.commit()
        give_pin(db, "CB3", "8642")
        for code, code_pin in (("CB1", pin), ("CB3", "8642")):
            response = client.post(
                "/api/v1/kiosk/officer/sign-in",
                json={"officer": code, "pin": code_pin},
                headers=bearer(device_token),
            )
            assert response.status_code == 200
        shifts = db.scalars(select(OfficerShift).order_by(OfficerShift.id)).all()
        assert [s.end_reason for s in shifts] == ["replaced", None]
        rate(client, device_token)
        assert db.scalar(select(Response.officer_id)) == shifts[1].officer_id

    def test_signing_in_again_keeps_the_shift(self, client, db, city, device_token, pin):
        for _ in range(2):
            client.post(
                "/api/v1/kiosk/officer/sign-in",
                json={"officer": "CB1", "pin": pin},
                headers=bearer(device_token),
            )
        assert db.scalar(select(func.count()).select_from(OfficerShift)) == 1

    def test_an_officer_on_another_kiosk_is_signed_out_there(
        self, client, db, city, device_token, pin
    ):
        second = kiosks.enroll_device_token(db, "O1-Q1", now=utcnow(), name="Tablet 2")
        db.commit()
        for token in (device_token, second):
            client.post(
                "/api/v1/kiosk/officer/sign-in",
                json={"officer": "CB1", "pin": pin},
                headers=bearer(token),
            )
        assert (
            client.get("/api/v1/kiosk/state", headers=bearer(device_token)).json["officer"] is None
        )
        assert client.get("/api/v1/kiosk/state", headers=bearer(second)).json["officer"][
            "code"
        ] == ("CB1")

    def test_sign_in_attempts_are_rate_limited_per_device(self, database_url, db, city, pin):
        app = make_app(
            database_url, RATELIMIT_ENABLED=True, OFFICER_SIGNIN_RATE_LIMIT="3 per minute"
        )
        try:
            client = app.test_client()
            first = kiosks.enroll_device_token(db, "O1-Q1", now=utcnow())
            second = kiosks.enroll_device_token(db, "O1-Q1", now=utcnow())
            db.commit()
            wrong = {"officer": "CB1", "pin": "9999"}
            statuses = [
                client.post(
                    "/api/v1/kiosk/officer/sign-in", json=wrong, headers=bearer(first)
                ).status_code
                for _ in range(4)
            ]
            assert statuses == [401, 401, 401, 429]
            limited = client.post(
                "/api/v1/kiosk/officer/sign-in",
                json={"officer": "CB1", "pin": pin},
                headers=bearer(first),
            )
            assert limited.status_code == 429 and "error" in limited.json
            # Another tablet has its own allowance.
            response = client.post(
                "/api/v1/kiosk/officer/sign-in",
                json={"officer": "CB1", "pin": pin},
                headers=bearer(second),
            )
            assert response.status_code == 200
        finally:
            app.extensions["hailong.engine"].dispose()


class TestOnDutyRules:
    """Clock-dependent rules, with ``now`` passed explicitly."""

    @pytest.fixture()
    def device(self, db, device_token) -> KioskDevice:
        return device_of(db, device_token)

    def sign_in(self, db, device, pin, now):
        officer = officers.sign_in_officer(db, device, officer_code="CB1", pin=pin, now=now)
        db.commit()
        return officer

    def test_closing_time_signs_the_officer_out(self, db, city, device, pin):
        assert MONDAY_10.replace(tzinfo=UTC).weekday() == 0
        self.sign_in(db, device, pin, local(9))
        assert officers.officer_on_duty(db, device, local(16, 59)).code == "CB1"
        assert officers.officer_on_duty(db, device, local(17, 1)) is None
        # Reading who is on duty changed nothing ...
        assert not db.dirty and not db.new
        shift = db.scalar(select(OfficerShift))
        assert shift.ended_at is None and shift.closes_at == local(17)
        # ... the next heartbeat records the end, at closing time, not at the heartbeat's.
        kiosks.record_heartbeat(db, device, now=local(17, 30), app_version="1", queue_depth=0)
        db.commit()
        db.expire_all()
        shift = db.scalar(select(OfficerShift))
        assert shift.end_reason == "closing_time" and shift.ended_at == local(17)
        assert db.get(KioskDevice, device.id).officer_id is None

    def test_a_shift_started_after_closing_lasts_to_the_next_closing(self, db, city, device, pin):
        self.sign_in(db, device, pin, local(18))
        assert officers.officer_on_duty(db, device, local(23)).code == "CB1"
        assert officers.officer_on_duty(db, device, local(16, 59, day=1)).code == "CB1"
        assert officers.officer_on_duty(db, device, local(17, 0, day=1)) is None

    def test_closing_time_is_the_office_local_time(self, db, city, device, pin):
        city.office.timezone = "Europe/Paris"  # UTC+1 in March
        db.commit()
        self.sign_in(db, device, pin, datetime(2026, 3, 2, 8, 0))
        assert officers.officer_on_duty(db, device, datetime(2026, 3, 2, 15, 59)) is not None
        assert officers.officer_on_duty(db, device, datetime(2026, 3, 2, 16, 0)) is None

    def test_a_rating_after_closing_is_not_the_officers(self, db, city, device, pin):
        self.sign_in(db, device, pin, local(9))
        late = submit_response(
            db,
            ResponseInput(uuid.uuid4(), "COUNTR1", {"overall": "satisfied"}),
            now=local(17, 5),
            device=device,
        )
        db.commit()
        assert db.get(Response, late.id).officer_id is None

    def test_a_replayed_rating_belongs_to_the_shift_that_covered_it(self, db, city, device, pin):
        self.sign_in(db, device, pin, local(9))
        officers.sign_out_officer(db, device, now=local(11))
        db.commit()
        offline = submit_response(
            db,
            ResponseInput(
                uuid.uuid4(), "COUNTR1", {"overall": "satisfied"}, submitted_at=local(10)
            ),
            now=local(12),
            device=device,
        )
        before = submit_response(
            db,
            ResponseInput(uuid.uuid4(), "COUNTR1", {"overall": "satisfied"}, submitted_at=local(8)),
            now=local(12),
            device=device,
        )
        db.commit()
        assert db.get(Response, offline.id).officer_id == city.officer.id
        assert db.get(Response, before.id).officer_id is None

    def test_a_live_rating_from_a_tablet_running_behind_is_the_officers(
        self, db, city, device, pin
    ):
        self.sign_in(db, device, pin, local(10))
        skewed = submit_response(
            db,
            ResponseInput(
                uuid.uuid4(),
                "COUNTR1",
                {"overall": "satisfied"},
                submitted_at=local(10) - timedelta(seconds=90),
            ),
            now=local(10, 0) + timedelta(seconds=5),
            device=device,
        )
        db.commit()
        assert db.get(Response, skewed.id).officer_id == city.officer.id

    def test_a_live_rating_with_nobody_on_duty_costs_no_query(self, db, engine, city, device):
        statements = []

        def count(*_args):
            statements.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            found = officers.officer_for_rating(
                db, device, submitted_at=local(10), now=local(10, 1)
            )
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert found is None and statements == []

    def test_new_pin_rules(self):
        for weak in ("1234", "000000", "987654", "123456", "12a456", "123", "123456789", "121212"):
            with pytest.raises(ValidationError):
                officers.check_pin_strength(weak)
        officers.check_pin_strength("250719")

    def test_an_officer_without_a_pin_cannot_sign_in(self, db, city, device):
        with pytest.raises(WrongCredentials):
            officers.sign_in_officer(db, device, officer_code="CB1", pin="2468", now=local(9))


class TestHealth:
    @pytest.fixture()
    def device(self, db, device_token) -> KioskDevice:
        return device_of(db, device_token)

    def health(self, db, admin, now):
        return kiosks.kiosk_health(
            db,
            admin,
            now=now,
            silent_after=timedelta(minutes=15),
            heartbeat_interval=timedelta(seconds=60),
        )

    def seen(self, db, device, at):
        device.last_seen_at = at
        db.commit()

    def test_silent_15_minutes_in_opening_hours_is_flagged(self, db, city, device, admin):
        self.seen(db, device, local(10) - timedelta(minutes=15))
        (row,) = self.health(db, admin, local(10))
        assert row.is_flagged and not row.is_online
        self.seen(db, device, local(10) - timedelta(minutes=14))
        (row,) = self.health(db, admin, local(10))
        assert not row.is_flagged and not row.is_online
        self.seen(db, device, local(10) - timedelta(seconds=90))
        (row,) = self.health(db, admin, local(10))
        assert row.is_online and not row.is_flagged

    @pytest.mark.parametrize(
        "now",
        [local(7, 29), local(17), local(20), local(10, day=5), local(10, day=6)],
        ids=["before-opening", "at-closing", "evening", "saturday", "sunday"],
    )
    def test_silence_outside_opening_hours_is_not_flagged(self, db, city, device, admin, now):
        self.seen(db, device, now - timedelta(hours=3))
        (row,) = self.health(db, admin, now)
        assert not row.is_flagged and not row.is_online

    def test_a_kiosk_that_never_spoke_is_flagged_after_pairing(self, db, city, device, admin):
        device.created_at = local(9)
        db.commit()
        (row,) = self.health(db, admin, local(9, 14))
        assert not row.is_flagged
        (row,) = self.health(db, admin, local(9, 15))
        assert row.is_flagged and row.last_seen_at is None

    def test_shows_the_officer_on_duty_until_closing(self, db, city, device, admin, pin):
        officers.sign_in_officer(db, device, officer_code="CB1", pin=pin, now=local(9))
        db.commit()
        assert self.health(db, admin, local(16))[0].officer.code == "CB1"
        assert self.health(db, admin, local(17, 30))[0].officer is None

    def test_revoked_kiosks_are_not_listed(self, db, city, device, admin):
        kiosks.revoke_device(db, admin, device.id, now=local(9))
        db.commit()
        assert self.health(db, admin, local(10)) == []


def test_openapi_describes_the_kiosk_calls(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert set(paths["/kiosk/heartbeat"]) == {"post"}
    assert set(paths["/kiosk/state"]) == {"get"}
    assert set(paths["/kiosk/officer/sign-in"]) == {"post"}
    assert set(paths["/kiosk/officer/sign-out"]) == {"post"}
    assert "401" in paths["/kiosk/officer/sign-in"]["post"]["responses"]
    assert "429" in paths["/kiosk/officer/sign-in"]["post"]["responses"]


def test_replayed_heartbeat_times_are_utc(client, db, city, device_token):
    client.post(
        "/api/v1/kiosk/heartbeat",
        json=beat(queue_depth=1, oldest_queued_at=iso(datetime(2026, 3, 2, 1, 2, 3))),
        headers=bearer(device_token),
    )
    assert device_of(db, device_token).oldest_queued_at == datetime(2026, 3, 2, 1, 2, 3)


class TestChoosingAPin:
    """A manager resets a PIN and gets a one-time setup code; the officer chooses their own PIN
    on the kiosk with it. Nobody else ever sees the PIN."""

    def reset(self, db, actor, code="CB1"):
        _officer, setup = officers.reset_officer_pin(db, actor, code, now=utcnow())
        db.commit()
        return setup

    def test_the_officer_chooses_their_pin_with_the_setup_code(
        self, client, db, city, device_token, make_user
    ):
        manager = make_user("m@example.vn", "manager", "O1")
        setup = self.reset(db, manager)
        headers = bearer(device_token)
        asked = client.post(
            "/api/v1/kiosk/officer/sign-in", json={"officer": "CB1", "pin": setup}, headers=headers
        )
        assert asked.status_code == 409 and asked.json["error"]["code"] == "pin_setup_required"
        choose = {"officer": "CB1", "setup_code": setup, "pin": "258013", "pin_again": "258013"}
        for change, field in (
            ({"pin": "123456", "pin_again": "123456"}, "pin"),
            ({"pin": "2580", "pin_again": "2580"}, "pin"),
            ({"pin_again": "258014"}, "pin_again"),
        ):
            refused = client.post(
                "/api/v1/kiosk/officer/pin", json={**choose, **change}, headers=headers
            )
            assert refused.status_code == 400 and field in refused.json["error"]["fields"]
        wrong = client.post(
            "/api/v1/kiosk/officer/pin", json={**choose, "setup_code": "000000"}, headers=headers
        )
        assert wrong.status_code == 401
        chosen = client.post("/api/v1/kiosk/officer/pin", json=choose, headers=headers)
        assert chosen.status_code == 200 and chosen.json["officer"]["code"] == "CB1"
        state = client.get("/api/v1/kiosk/state", headers=headers).json
        assert state["officer"]["code"] == "CB1"
        # The setup code worked once; the chosen PIN signs in from now on.
        again = client.post("/api/v1/kiosk/officer/pin", json=choose, headers=headers)
        assert again.status_code == 401
        signed_in = client.post(
            "/api/v1/kiosk/officer/sign-in",
            json={"officer": "CB1", "pin": "258013"},
            headers=headers,
        )
        assert signed_in.status_code == 200
        from surveys.models import AuditEntry

        db.expire_all()
        logged = db.scalars(select(AuditEntry)).all()
        assert {e.action for e in logged} >= {"officer.pin_reset", "officer.pin_chosen"}
        assert all("258013" not in str((e.before, e.after)) for e in logged)
        assert all(setup not in str((e.before, e.after)) for e in logged)

    def test_an_expired_setup_code_does_not_work(self, client, db, city, device_token, admin):
        setup = self.reset(db, admin)
        officer = db.get(Officer, city.officer.id)
        officer.pin_setup_expires_at = utcnow() - timedelta(minutes=1)
        db.commit()
        response = client.post(
            "/api/v1/kiosk/officer/pin",
            json={"officer": "CB1", "setup_code": setup, "pin": "258013", "pin_again": "258013"},
            headers=bearer(device_token),
        )
        assert response.status_code == 401

    def test_only_managers_in_scope_reset(self, db, city, make_user):
        from surveys.errors import PermissionDenied

        elsewhere = make_user("m2@example.vn", "manager", "O2")
        viewer = make_user("v@example.vn", "viewer", "O1")
        for actor in (elsewhere, viewer):
            with pytest.raises(PermissionDenied):
                officers.reset_officer_pin(db, actor, "CB1", now=utcnow())
