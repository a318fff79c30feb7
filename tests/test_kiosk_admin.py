"""Pairing tablets and administering kiosks and officers, through the pages people use."""

import re
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from surveys import kiosks, officers
from surveys.db import utcnow
from surveys.models import KioskDevice, Officer, OfficerShift, PairingCode
from tests.conftest import csrf_token, give_pin, make_app

ADMIN = "admin@example.vn"
#: Monday 2 March 2026, 10:00 in Hanoi: the offices are open.
MONDAY_10 = datetime(2026, 3, 2, 3, 0)


def issue(db, counter="O1-Q1", now=None, code_minutes=15):
    issued = kiosks.issue_pairing(
        db,
        counter,
        now=now or utcnow(),
        link_ttl=timedelta(hours=24),
        code_ttl=timedelta(minutes=code_minutes),
    )
    db.commit()
    return issued


def type_code(client, code, lang="vi"):
    page = client.get(f"/kiosk/pair?lang={lang}").get_data(as_text=True)
    return client.post(
        f"/kiosk/pair?lang={lang}", data={"csrf_token": csrf_token(page), "code": code}
    )


def devices(db):
    db.expire_all()
    return db.scalars(select(KioskDevice).order_by(KioskDevice.id)).all()


@pytest.fixture()
def as_admin(city, make_user, login):
    """Sign the test client in as an administrator; ``scope`` limits them to part of the tree."""

    def sign_in(scope=None):
        make_user(ADMIN, "admin", scope)
        assert login(ADMIN).status_code == 302

    return sign_in


@pytest.fixture()
def pin(db, city, make_user) -> str:
    """CB1's kiosk PIN, chosen by the officer earlier."""
    give_pin(db, "CB1", "2580")
    db.commit()
    return "2580"


@pytest.fixture()
def device_id(db, device_token) -> int:
    return kiosks.device_for_token(db, device_token).id


@pytest.fixture()
def other_device_id(db, city) -> int:
    """A kiosk at the other office (O2), outside a D1-scoped administrator's reach."""
    token = kiosks.enroll_device_token(db, "O2-Q1", now=utcnow(), name="O2 tablet")
    db.commit()
    return kiosks.device_for_token(db, token).id


def token_of(client, path="/admin/kiosks"):
    return csrf_token(client.get(path).get_data(as_text=True))


class TestKeypadPairing:
    def test_keypad_page_is_a_native_form(self, client, city):
        response = client.get("/kiosk/pair")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert 'inputmode="numeric"' in html and 'autocomplete="one-time-code"' in html
        assert 'name="csrf_token"' in html
        assert all(f'data-key="{d}"' in html for d in "0123456789")
        assert "style=" not in html and re.search(r"<script(?![^>]*\bsrc=)", html) is None
        assert '<script type="module" src="/static/js/keypad.js">' in html
        for asset in ("/static/js/keypad.js", "/static/css/keypad.css", "/static/css/admin.css"):
            response = client.get(asset)
            assert response.status_code == 200
            response.close()

    def test_the_right_code_binds_this_browser(self, client, db, city):
        issued = issue(db)
        assert re.fullmatch(r"\d{4} \d{4}", issued.grouped_code)
        response = type_code(client, issued.grouped_code)
        assert response.status_code == 302 and response.headers["Location"] == "/kiosk"
        cookie = client.get_cookie("hailong_device")
        assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
        kiosk = client.get("/kiosk")
        assert kiosk.status_code == 200 and 'data-target="COUNTR1"' in kiosk.get_data(as_text=True)
        (device,) = devices(db)
        assert device.counter_id == city.counter.id
        # The code and the link are one pairing: the link is spent too.
        assert client.application.test_client().get(f"/kiosk/pair/{issued.secret}").status_code == (
            410
        )

    @pytest.mark.parametrize("typed", ["12345678", "1234", "abcdefgh", "1234 567 89"])
    def test_a_wrong_code_is_a_form_error(self, client, db, city, typed):
        issue(db)
        response = type_code(client, typed, lang="en")
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "This code is wrong, used or expired" in html and 'aria-invalid="true"' in html
        assert client.get_cookie("hailong_device") is None and devices(db) == []

    def test_an_expired_code_is_refused_though_the_link_still_works(self, client, db, city):
        issued = issue(db, now=utcnow() - timedelta(minutes=16))
        assert type_code(client, issued.numeric_code).status_code == 400
        assert devices(db) == []
        assert client.get(f"/kiosk/pair/{issued.secret}").status_code == 200

    def test_a_used_code_is_refused(self, client, app, db, city):
        issued = issue(db)
        assert type_code(client, issued.numeric_code).status_code == 302
        assert type_code(app.test_client(), issued.numeric_code).status_code == 400
        assert len(devices(db)) == 1

    def test_without_csrf_nothing_is_paired(self, client, db, city):
        issued = issue(db)
        assert client.post("/kiosk/pair", data={"code": issued.numeric_code}).status_code == 400
        assert devices(db) == []

    def test_guesses_are_rate_limited_per_address(self, database_url, db, city):
        app = make_app(database_url, RATELIMIT_ENABLED=True, PAIRING_RATE_LIMIT="3 per minute")
        try:
            client = app.test_client()
            issued = issue(db)
            statuses = [type_code(client, "00000000").status_code for _ in range(3)]
            assert statuses == [400, 400, 400]
            assert type_code(client, issued.numeric_code).status_code == 429
            assert devices(db) == []
            # The page itself still opens; only attempts are counted.
            assert client.get("/kiosk/pair").status_code == 200
        finally:
            app.extensions["hailong.engine"].dispose()

    def test_one_code_typed_on_two_tablets_at_once_binds_one(self, app, db, city):
        issued = issue(db)
        statuses = []
        barrier = threading.Barrier(8)

        def tablet():
            client = app.test_client()
            page = client.get("/kiosk/pair").get_data(as_text=True)
            barrier.wait()
            response = client.post(
                "/kiosk/pair", data={"csrf_token": csrf_token(page), "code": issued.numeric_code}
            )
            statuses.append(response.status_code)

        threads = [threading.Thread(target=tablet) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [302] + [400] * 7
        assert len(devices(db)) == 1
        db.expire_all()
        assert db.scalar(select(PairingCode.device_id)) == devices(db)[0].id

    def test_pairing_again_retires_the_kiosk_this_browser_was(self, client, db, city):
        assert type_code(client, issue(db).numeric_code).status_code == 302
        assert type_code(client, issue(db, "O2-Q1").numeric_code).status_code == 302
        first, second = devices(db)
        assert first.revoked_at is not None and second.is_active
        assert second.counter_id == city.other_counter.id

    def test_numeric_codes_are_unique_among_live_ones(self, db, city, monkeypatch):
        first = issue(db)
        digits = iter([int(first.numeric_code), int(first.numeric_code), 42])
        monkeypatch.setattr(kiosks.secrets, "randbelow", lambda _n: next(digits))
        assert issue(db).numeric_code == "00000042"

    def test_the_unpaired_screen_says_what_to_do(self, client, city):
        response = client.get("/kiosk")
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and "chưa được kết nối" in html
        assert 'href="/kiosk/pair"' in html


class TestAccess:
    PAGES = ["/admin/kiosks", "/admin/kiosks/{id}", "/admin/kiosks/officers"]
    POSTS = [
        "/admin/kiosks/pair",
        "/admin/kiosks/{id}/rename",
        "/admin/kiosks/{id}/move",
        "/admin/kiosks/{id}/revoke",
        "/admin/kiosks/officers/CB1/pin",
        "/admin/kiosks/officers/CB1/badge",
    ]

    def test_a_viewer_is_refused_everywhere(self, client, db, city, make_user, login, device_id):
        make_user(role="viewer", scope="O1")
        login()
        for path in self.PAGES:
            assert client.get(path.format(id=device_id)).status_code == 403, path
        token = csrf_token(client.get("/dashboard").get_data(as_text=True))
        for path in self.POSTS:
            response = client.post(
                path.format(id=device_id),
                data={
                    "csrf_token": token,
                    "counter": "O1-Q1",
                    "name": "x",
                    "confirm": "y",
                    "pin": "2580",
                },
            )
            assert response.status_code == 403, path
        assert devices(db)[0].name == "Quầy 1" and devices(db)[0].is_active

    def test_anonymous_visitors_are_sent_to_sign_in(self, client, city):
        response = client.get("/admin/kiosks")
        assert response.status_code == 302 and "/login" in response.headers["Location"]


class TestDevicesPage:
    def test_lists_kiosks_with_their_health(self, client, db, city, as_admin, device_token, pin):
        device = kiosks.device_for_token(db, device_token)
        officers.sign_in_officer(db, device, officer_code="CB1", pin=pin, now=utcnow())
        device.app_version, device.queue_depth, device.last_error = "1.4.0", 3, "network down"
        device.last_seen_at = utcnow()
        db.commit()
        as_admin()
        response = client.get("/admin/kiosks?lang=en")
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and "style=" not in html
        row = re.search(r"<tr>\s*<th scope=\"row\">.*?</tr>", html, re.S).group(0)
        for text in ("Quầy 1", "O1-Q1", "Bộ phận một cửa Quận Một", "Online", "Nguyễn Thị Lan"):
            assert text in row
        assert "1.4.0" in row and "network down" in row

    def test_silent_kiosk_in_opening_hours_is_flagged(
        self, client, db, city, as_admin, device_token, monkeypatch
    ):
        device = kiosks.device_for_token(db, device_token)
        device.last_seen_at = MONDAY_10 - timedelta(minutes=20)
        db.commit()
        as_admin()
        monkeypatch.setattr("kiosk.views.admin.kiosks.utcnow", lambda: MONDAY_10)
        html = client.get("/admin/kiosks?lang=en").get_data(as_text=True)
        assert '<tr class="flagged">' in html and "Silent in opening hours" in html
        # 17:40 in Hanoi: closed, so the same silence is not flagged.
        monkeypatch.setattr(
            "kiosk.views.admin.kiosks.utcnow", lambda: MONDAY_10 + timedelta(hours=8)
        )
        html = client.get("/admin/kiosks?lang=en").get_data(as_text=True)
        assert 'class="flagged"' not in html and "Offline" in html

    def test_pairing_page_shows_link_code_and_qr(self, client, db, city, as_admin):
        as_admin()
        response = client.post(
            "/admin/kiosks/pair", data={"csrf_token": token_of(client), "counter": "O1-Q1"}
        )
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        code = re.search(r'class="pairing-code">(\d{4}) (\d{4})<', html)
        link = re.search(r'href="(http://kiosk\.test/kiosk/pair/[^"]+)"', html)
        assert code and link and "<svg" in html and "style=" not in html
        assert "http://kiosk.test/kiosk/pair<" in html or "http://kiosk.test/kiosk/pair " in html
        tablet = client.application.test_client()
        assert type_code(tablet, code.group(1) + code.group(2)).status_code == 302
        assert tablet.get("/kiosk").status_code == 200

    def test_pairing_needs_a_counter_and_csrf(self, client, db, city, as_admin):
        as_admin()
        assert client.post("/admin/kiosks/pair", data={"counter": "O1-Q1"}).status_code == 400
        response = client.post(
            "/admin/kiosks/pair", data={"csrf_token": token_of(client), "counter": "NOPE"}
        )
        assert response.status_code == 400
        assert db.scalar(select(func.count()).select_from(PairingCode)) == 0

    def test_rename(self, client, db, city, as_admin, device_id):
        as_admin()
        path = f"/admin/kiosks/{device_id}"
        assert client.post(f"{path}/rename", data={"name": "Lost"}).status_code == 400
        response = client.post(
            f"{path}/rename", data={"csrf_token": token_of(client, path), "name": "  Máy quầy 1 "}
        )
        assert response.status_code == 302 and response.headers["Location"] == path
        assert devices(db)[0].name == "Máy quầy 1"
        response = client.post(
            f"{path}/rename", data={"csrf_token": token_of(client, path), "name": "   "}
        )
        assert response.status_code == 400 and devices(db)[0].name == "Máy quầy 1"

    def test_move_signs_the_officer_out(self, client, db, city, as_admin, device_token, pin):
        device = kiosks.device_for_token(db, device_token)
        officers.sign_in_officer(db, device, officer_code="CB1", pin=pin, now=utcnow())
        db.commit()
        as_admin()
        path = f"/admin/kiosks/{device.id}"
        response = client.post(
            f"{path}/move", data={"csrf_token": token_of(client, path), "counter": "O2-Q1"}
        )
        assert response.status_code == 302
        (moved,) = devices(db)
        assert moved.counter_id == city.other_counter.id and moved.officer_id is None
        assert db.scalar(select(OfficerShift.end_reason)) == "moved"
        state = client.get(
            "/api/v1/kiosk/state", headers={"Authorization": f"Bearer {device_token}"}
        )
        assert state.json["counter"]["code"] == "O2-Q1" and state.json["officer"] is None

    def test_revoke_needs_confirmation_then_disconnects_the_tablet(
        self, client, db, city, as_admin, device_token, device_id
    ):
        as_admin()
        path = f"/admin/kiosks/{device_id}"
        response = client.post(f"{path}/revoke", data={"csrf_token": token_of(client, path)})
        assert response.status_code == 400 and devices(db)[0].is_active
        response = client.post(
            f"{path}/revoke", data={"csrf_token": token_of(client, path), "confirm": "y"}
        )
        assert response.status_code == 302 and response.headers["Location"] == "/admin/kiosks"
        assert devices(db)[0].revoked_at is not None
        assert client.get(path).status_code == 404

        tablet = client.application.test_client()
        heartbeat = tablet.post(
            "/api/v1/kiosk/heartbeat",
            json={"app_version": "1", "queue_depth": 0},
            headers={"Authorization": f"Bearer {device_token}"},
        )
        assert heartbeat.status_code == 401
        tablet.set_cookie("hailong_device", device_token)
        screen = tablet.get("/kiosk")
        assert screen.status_code == 200 and "chưa được kết nối" in screen.get_data(as_text=True)

    def test_unknown_device_is_404(self, client, city, as_admin):
        as_admin()
        assert client.get("/admin/kiosks/999999").status_code == 404


class TestScope:
    def test_a_scoped_admin_sees_and_manages_only_their_offices(
        self, client, db, city, as_admin, device_id, other_device_id
    ):
        as_admin(scope="D1")
        html = client.get("/admin/kiosks").get_data(as_text=True)
        assert f"/admin/kiosks/{device_id}" in html
        assert f"/admin/kiosks/{other_device_id}" not in html and "O2 tablet" not in html
        assert "O2-Q1" not in html  # not even as a counter to pair

        other = f"/admin/kiosks/{other_device_id}"
        token = token_of(client)
        assert client.get(other).status_code == 403
        assert client.post(
            f"{other}/rename", data={"csrf_token": token, "name": "x"}
        ).status_code == (403)
        assert (
            client.post(f"{other}/revoke", data={"csrf_token": token, "confirm": "y"}).status_code
            == 403
        )
        assert client.post(
            f"{other}/move", data={"csrf_token": token, "counter": "O1-Q1"}
        ).status_code in (400, 403)
        assert devices(db)[1].name == "O2 tablet" and devices(db)[1].is_active
        assert devices(db)[1].counter_id == city.other_counter.id

        # Nor can they pair a counter of O2, or move their own kiosk there.
        response = client.post("/admin/kiosks/pair", data={"csrf_token": token, "counter": "O2-Q1"})
        assert response.status_code == 400
        own = f"/admin/kiosks/{device_id}"
        response = client.post(f"{own}/move", data={"csrf_token": token, "counter": "O2-Q1"})
        assert response.status_code == 400 and devices(db)[0].counter_id == city.counter.id
        assert db.scalar(select(func.count()).select_from(PairingCode)) == 0

    def test_a_scoped_admin_cannot_touch_officers_elsewhere(self, client, db, city, as_admin):
        db.add(Officer(code="CB2", name="Trần Văn Bình", office=city.other_office))
        db.commit()
        as_admin(scope="O1")
        token = token_of(client)
        assert client.get("/admin/kiosks/officers?office=O2").status_code == 403
        assert "Trần Văn Bình" not in client.get("/admin/kiosks/officers").get_data(as_text=True)
        response = client.post("/admin/kiosks/officers/CB2/pin", data={"csrf_token": token})
        assert response.status_code == 403
        response = client.post("/admin/kiosks/officers/CB2/badge", data={"csrf_token": token})
        assert response.status_code == 403
        db.expire_all()
        other = db.scalar(select(Officer).where(Officer.code == "CB2"))
        assert other.pin_hash is None and other.badge_secret_hash is None


class TestOfficersPage:
    def test_a_manager_resets_a_pin_and_the_officer_chooses_it(
        self, client, db, city, make_user, login, device_token
    ):
        make_user(scope="O1")
        login()
        page = client.get("/admin/kiosks/officers?office=O1&lang=en").get_data(as_text=True)
        assert "Nguyễn Thị Lan" in page and "Not chosen yet" in page and "style=" not in page
        assert 'name="pin"' not in page  # nobody types another person's PIN here
        response = client.post(
            "/admin/kiosks/officers/CB1/pin?lang=en", data={"csrf_token": csrf_token(page)}
        )
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        setup = re.search(r'class="pairing-code"[^>]*>(\d{3}) (\d{3})<', html)
        assert setup, html
        setup_code = setup.group(1) + setup.group(2)
        page = client.get("/admin/kiosks/officers?office=O1&lang=en").get_data(as_text=True)
        assert "Waiting for the officer to choose one" in page
        kiosk = client.application.test_client()
        chosen = kiosk.post(
            "/api/v1/kiosk/officer/pin",
            json={
                "officer": "CB1",
                "setup_code": setup_code,
                "pin": "258013",
                "pin_again": "258013",
            },
            headers={"Authorization": f"Bearer {device_token}"},
        )
        assert chosen.status_code == 200
        page = client.get("/admin/kiosks/officers?office=O1&lang=en").get_data(as_text=True)
        assert "Chosen by the officer" in page and "258013" not in page

    def test_issue_a_badge_shows_its_qr_once(self, client, db, city, as_admin, device_token):
        as_admin()
        response = client.post(
            "/admin/kiosks/officers/CB1/badge", data={"csrf_token": token_of(client)}
        )
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        assert "<svg" in html and "Nguyễn Thị Lan" in html and "style=" not in html
        db.expire_all()
        officer = db.get(Officer, city.officer.id)
        assert officer.badge_secret_hash is not None
        assert officers.BADGE_PREFIX not in html.split("<svg", 1)[0]  # the secret is only in the QR

    def test_unknown_officer_is_404(self, client, city, as_admin):
        as_admin()
        response = client.post(
            "/admin/kiosks/officers/NOPE/badge", data={"csrf_token": token_of(client)}
        )
        assert response.status_code == 404


def test_enroll_kiosk_prints_the_code_above_the_url(runner, client, db, city):
    result = runner.invoke(args=["enroll-kiosk", "O1-Q1"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("http://kiosk.test/kiosk/pair/")
    code = re.search(r"^\s*(\d{4}) (\d{4})\s*$", result.output, re.M)
    assert code and result.output.index(code.group(0)) < result.output.index(lines[-1])
    assert type_code(client, code.group(1) + code.group(2)).status_code == 302


class TestPinWording:
    def test_the_pin_column_says_whether_there_is_a_pin_and_what_the_button_does(
        self, client, city, as_admin
    ):
        as_admin()
        page = client.get("/admin/kiosks/officers?office=O1&lang=vi").get_data(as_text=True)
        # One phrase per state, never two fragments ("Chưa đặt" beside "Đặt lại mã PIN").
        assert "Chưa có mã PIN" in page and ">Cấp mã để đặt PIN</button>" in page
        assert "Đặt lại mã PIN" not in page
        client.post("/admin/kiosks/officers/CB1/pin", data={"csrf_token": csrf_token(page)})
        page = client.get("/admin/kiosks/officers?office=O1&lang=vi").get_data(as_text=True)
        assert "Đang chờ cán bộ tự đặt mã PIN" in page and ">Đặt lại mã PIN</button>" in page
