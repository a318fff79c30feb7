"""The HTML pages through HTTP: phone form, sign-in, dashboard, errors, languages, headers."""

import re
import uuid

import pytest
from sqlalchemy import func, select

from kiosk import create_app
from surveys import kiosks
from surveys.db import utcnow
from surveys.models import Answer, Response
from tests.conftest import csrf_token, pairing_secret


def count(db):
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Response))


def phone_form(client, code="COUNTR1"):
    page = client.get(f"/s/{code}").get_data(as_text=True)
    return {
        "csrf_token": csrf_token(page),
        "response_id": re.search(r'name="response_id" value="([^"]+)"', page).group(1),
    }


class TestPhoneSurvey:
    def test_page_is_a_plain_form_in_vietnamese(self, client, city):
        response = client.get("/s/COUNTR1")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert '<html lang="vi">' in html
        assert "Ông/Bà đánh giá thế nào về việc tiếp nhận và giải quyết hồ sơ hôm nay?" in html
        assert 'type="radio" name="overall" value="very_satisfied"' in html
        assert "<script" not in html and "style=" not in html

    def test_submit_stores_and_thanks(self, client, db, city):
        form = phone_form(client)
        response = client.post(
            "/s/COUNTR1",
            data={
                **form,
                "overall": "not_satisfied",
                "reasons": ["attitude", "waiting_time"],
                "comment": "Chờ lâu",
            },
        )
        assert response.status_code == 302 and response.headers["Location"].endswith(
            "/s/COUNTR1/thanks"
        )
        stored = db.get(Response, uuid.UUID(form["response_id"]))
        assert stored.channel == "qr" and stored.headline_polarity == -1
        assert db.scalar(select(func.count()).select_from(Answer)) == 4
        assert "Cảm ơn" in client.get("/s/COUNTR1/thanks").get_data(as_text=True)

    def test_double_submit_counts_once(self, client, db, city):
        form = phone_form(client)
        for _ in range(2):
            assert (
                client.post("/s/COUNTR1", data={**form, "overall": "satisfied"}).status_code == 302
            )
        assert count(db) == 1

    def test_reasons_ticked_with_a_positive_answer_are_dropped(self, client, db, city):
        form = phone_form(client)
        client.post("/s/COUNTR1", data={**form, "overall": "satisfied", "reasons": ["attitude"]})
        assert db.scalar(select(func.count()).select_from(Answer)) == 1

    def test_missing_headline_shows_the_form_again_with_an_error(self, client, db, city):
        form = phone_form(client)
        response = client.post("/s/COUNTR1", data={**form, "comment": "Không chọn gì"})
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert 'aria-invalid="true"' in html and "Không chọn gì" in html
        assert count(db) == 0

    def test_unknown_choice_is_a_form_error(self, client, db, city):
        response = client.post("/s/COUNTR1", data={**phone_form(client), "overall": "ecstatic"})
        assert response.status_code == 400 and count(db) == 0

    def test_missing_csrf_is_refused(self, client, db, city):
        response = client.post("/s/COUNTR1", data={"overall": "satisfied"})
        assert response.status_code == 400
        assert "tải lại trang" in response.get_data(as_text=True)
        assert count(db) == 0

    def test_unknown_code_is_a_friendly_404(self, client, city):
        response = client.get("/s/NOPE999")
        assert response.status_code == 404
        assert "Không có phiếu khảo sát nào với mã này" in response.get_data(as_text=True)

    def test_english_by_query_is_remembered(self, client, city):
        html = client.get("/s/COUNTR1?lang=en").get_data(as_text=True)
        assert '<html lang="en">' in html and "How satisfied are you" in html
        html = client.get("/s/COUNTR1").get_data(as_text=True)
        assert '<html lang="en">' in html and "Very satisfied" in html

    def test_english_by_accept_language(self, client, city):
        html = client.get("/s/COUNTR1", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(
            as_text=True
        )
        assert '<html lang="en">' in html
        html = client.get("/s/COUNTR1", headers={"Accept-Language": "fr"}).get_data(as_text=True)
        assert '<html lang="vi">' in html


class TestKioskPages:
    def test_unpaired_tablet_sees_what_to_do(self, client, city):
        response = client.get("/kiosk")
        # A page asking to pair is what the tablet should show: 200, not an error...
        assert response.status_code == 200
        assert "chưa được kết nối" in response.get_data(as_text=True)
        # ...but never kept by the service worker in place of the rating screen.
        assert response.headers["Cache-Control"] == "no-store"
        # A rating sent from it is still refused.
        keypad = client.get("/kiosk/pair").get_data(as_text=True)
        posted = client.post(
            "/kiosk", data={"csrf_token": csrf_token(keypad), "overall": "satisfied"}
        )
        assert posted.status_code == 403

    def test_pairing_binds_the_browser_once(self, client, db, city):
        secret = pairing_secret(db)
        db.commit()
        page = client.get(f"/kiosk/pair/{secret}")
        assert page.status_code == 200 and "Quầy 1" in page.get_data(as_text=True)
        # Opening the link does not use it up; the tap does.
        page = client.get(f"/kiosk/pair/{secret}")
        response = client.post(
            f"/kiosk/pair/{secret}", data={"csrf_token": csrf_token(page.get_data(as_text=True))}
        )
        assert response.status_code == 302
        cookie = client.get_cookie("hailong_device")
        assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
        kiosk = client.get("/kiosk")
        assert kiosk.status_code == 200 and 'data-target="COUNTR1"' in kiosk.get_data(as_text=True)
        # The link is spent: another browser cannot pair with it.
        assert client.application.test_client().get(f"/kiosk/pair/{secret}").status_code == 410

    def test_expired_or_unknown_pairing_link(self, client, db, city):
        from datetime import timedelta

        secret = pairing_secret(db, now=utcnow() - timedelta(days=2))
        db.commit()
        assert client.get(f"/kiosk/pair/{secret}").status_code == 410
        assert client.get("/kiosk/pair/not-a-secret").status_code == 410

    def test_kiosk_form_works_without_javascript(self, client, db, city, device_token):
        client.set_cookie("hailong_device", device_token)
        page = client.get("/kiosk").get_data(as_text=True)
        response = client.post(
            "/kiosk",
            data={
                "csrf_token": csrf_token(page),
                "overall": "very_satisfied",
                "response_id": str(uuid.uuid4()),
            },
        )
        assert response.status_code == 302
        stored = db.scalar(select(Response))
        assert stored.channel == "kiosk" and stored.device_id is not None

    def test_revoked_device_is_not_connected(self, client, db, city, device_token):
        device = kiosks.device_for_token(db, device_token)
        device.revoke(utcnow())
        db.commit()
        client.set_cookie("hailong_device", device_token)
        screen = client.get("/kiosk")
        html = screen.get_data(as_text=True)
        assert screen.status_code == 200 and "Kết nối máy tính bảng" in html
        assert 'id="kiosk"' not in html


class TestManager:
    def test_dashboard_requires_sign_in(self, client):
        response = client.get("/dashboard")
        assert response.status_code == 302 and "/login" in response.headers["Location"]

    def test_wrong_password(self, client, city, make_user, login):
        make_user()
        response = login(password="wrong password")
        assert response.status_code == 200 and "Sai email hoặc mật khẩu" in response.get_data(
            as_text=True
        )

    def test_login_without_csrf_is_refused(self, client, city, make_user):
        make_user()
        response = client.post("/login", data={"email": "manager@example.vn", "password": "x"})
        assert response.status_code == 400

    def test_session_cookie_is_httponly_and_samesite(self, client, city, make_user, login):
        make_user()
        response = login()
        assert response.status_code == 302
        header = next(
            h for h in response.headers.getlist("Set-Cookie") if h.startswith("hailong_session=")
        )
        assert "HttpOnly" in header and "SameSite=Lax" in header

    def test_login_does_not_redirect_elsewhere(self, client, city, make_user):
        make_user()
        page = client.get("/login?next=https://evil.example/").get_data(as_text=True)
        response = client.post(
            "/login?next=https://evil.example/",
            data={
                "csrf_token": csrf_token(page),
                "email": "manager@example.vn",
                "password": "correct horse battery",
            },
        )
        assert response.headers["Location"] == "/dashboard"

    def test_dashboard_shows_the_same_numbers_as_the_api(self, client, db, city, make_user, login):
        make_user(scope="D1")
        for answer in ["very_satisfied"] * 9 + ["not_satisfied"] * 3:
            client.post(
                "/api/v1/responses",
                json={"id": str(uuid.uuid4()), "target": "COUNTR1", "answers": {"overall": answer}},
            )
        login()
        html = client.get("/dashboard").get_data(as_text=True)
        api = client.get("/api/v1/offices/O1/summary").json["satisfaction"]
        assert api["n"] == 12 and api["rate"] == 0.75
        row = re.search(r"Bộ phận một cửa Quận Một.*?</tr>", html, re.S).group(0)
        assert ">12<" in row and "75,0" in row
        # One decimal with the Vietnamese decimal comma, as the API's interval.
        for bound in (api["ci_low"], api["ci_high"]):
            assert f"{bound * 100:.1f}".replace(".", ",") in row
        assert "Quận Hai" not in html  # outside the scope

    def test_below_minimum_shows_not_enough_data(self, client, city, make_user, login):
        make_user()
        client.post(
            "/api/v1/responses",
            json={
                "id": str(uuid.uuid4()),
                "target": "COUNTR1",
                "answers": {"overall": "satisfied"},
            },
        )
        login()
        assert "chưa đủ dữ liệu" in client.get("/dashboard").get_data(as_text=True)

    def test_office_page_is_scoped(self, client, city, make_user, login):
        make_user(scope="O1")
        login()
        assert client.get("/dashboard/offices/O1").status_code == 200
        assert client.get("/dashboard/offices/O2").status_code == 403
        assert client.get("/dashboard/offices/NOPE").status_code == 404

    def test_bad_dates_keep_the_page_and_say_so(self, client, city, make_user, login):
        make_user()
        login()
        response = client.get("/dashboard?from=2026-99-01")
        assert response.status_code == 200 and "không hợp lệ" in response.get_data(as_text=True)

    def test_logout_ends_the_session(self, client, city, make_user, login):
        make_user()
        login()
        page = client.get("/dashboard").get_data(as_text=True)
        response = client.post("/logout", data={"csrf_token": csrf_token(page)})
        assert response.status_code == 302
        assert client.get("/dashboard").status_code == 302


class TestPlumbing:
    def test_security_headers(self, client, city):
        response = client.get("/s/COUNTR1")
        csp = response.headers["Content-Security-Policy"]
        assert (
            "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
        )
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"

    @pytest.mark.parametrize(
        "lang,text", [("vi", "Không tìm thấy trang"), ("en", "Page not found")]
    )
    def test_404_page_in_both_languages(self, client, lang, text):
        response = client.get(f"/nothing-here?lang={lang}")
        assert response.status_code == 404 and text in response.get_data(as_text=True)

    def test_500_page_and_json(self, database_url):
        app = create_app(
            {
                "TESTING": False,
                "SECRET_KEY": "k" * 32,
                "DATABASE_URL": database_url,
                "RATELIMIT_ENABLED": False,
            }
        )

        @app.get("/boom")
        def boom():
            raise RuntimeError("boom")

        @app.get("/api/v1/boom")
        def api_boom():
            raise RuntimeError("boom")

        client = app.test_client()
        response = client.get("/boom?lang=en")
        assert response.status_code == 500 and "Something went wrong" in response.get_data(
            as_text=True
        )
        assert "RuntimeError" not in response.get_data(as_text=True)
        response = client.get("/api/v1/boom")
        assert (
            response.status_code == 500
            and response.json["error"]["code"] == "internal_server_error"
        )
        app.extensions["hailong.engine"].dispose()

    def test_refuses_to_start_without_a_secret_key(self, database_url, monkeypatch):
        monkeypatch.delenv("SECRET_KEY", raising=False)
        with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
            create_app({"DATABASE_URL": database_url, "SECRET_KEY": None})

    def test_static_assets_are_served_locally(self, client):
        for path in (
            "/static/css/app.css",
            "/static/css/kiosk.css",
            "/static/js/kiosk.js",
            "/static/js/queue.js",
        ):
            response = client.get(path)
            assert response.status_code == 200 and response.get_data()
            response.close()


class TestFavicon:
    def test_favicon_is_a_real_icon(self, client):
        with client.get("/favicon.ico") as response:
            body = response.get_data()
        assert response.status_code == 200
        assert response.mimetype == "image/vnd.microsoft.icon"
        # An ICO directory: reserved 0, type 1 (icon), then at least the 16 and 32 px images.
        assert body[:4] == b"\x00\x00\x01\x00" and int.from_bytes(body[4:6], "little") >= 2
        assert "max-age=86400" in response.headers["Cache-Control"]

    @pytest.mark.parametrize("path", ["/login", "/s/COUNTR1", "/kiosk", "/s/COUNTR1/poster"])
    def test_every_page_links_it(self, client, city, path):
        html = client.get(path).get_data(as_text=True)
        assert '<link rel="icon" href="/favicon.ico" sizes="48x48">' in html
