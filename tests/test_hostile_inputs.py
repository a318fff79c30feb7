"""A fixed corpus of hostile inputs, sent through every way in: never a 5xx, always a clear
4xx (JSON {"error": {...}} under /api), and nothing already stored is lost.

The corpus covers what once answered 500 on PostgreSQL: NUL bytes and lone surrogates in every
string that reaches the database (JSON bodies, forms, the login, URL paths, query strings), days
at both ends of the calendar, timestamps whose zone pushes them out of range, JSON nested
60,000 deep, digits that str.isdigit() accepts and int() refuses, and methods a path does not
take (405 with Allow). It runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from surveys.models import KioskDevice, Response, Ticket
from tests.conftest import PASSWORD, csrf_token

NUL = "\x00"
SURROGATE = "\ud800"
BAD_TEXTS = [NUL, "a\x00b", SURROGATE, "x\udfffy", "\x00" * 300]
DEEP = "[" * 30_000 + "]" * 30_000
OVERFLOWING_MOMENTS = [
    "9999-12-31T23:00:00-05:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999-12:00",
]
EDGE_DAYS = ["0001-01-01", "0001-01-29", "9999-12-31", "0000-01-01", "2026-02-30", ""]


def _json_body(data) -> bytes:
    # ensure_ascii keeps lone surrogates as \\ud800 escapes, as a hostile client sends them.
    return json.dumps(data, ensure_ascii=True).encode()


def response_body(**changes):
    body = {"id": str(uuid.uuid4()), "target": "COUNTR1", "answers": {"overall": "satisfied"}}
    body.update(changes)
    return body


def corpus(tokens: dict) -> list[tuple[str, str, dict]]:
    """(method, path, request options) for every hostile input."""
    manager = {"Authorization": f"Bearer {tokens['manager']}"}
    device = {"Authorization": f"Bearer {tokens['device']}"}
    cases: list[tuple[str, str, dict]] = []

    def post_json(path, data, headers=None):
        cases.append(
            (
                "POST",
                path,
                {
                    "data": _json_body(data),
                    "content_type": "application/json",
                    "headers": headers or {},
                },
            )
        )

    for bad in BAD_TEXTS:
        post_json("/api/v1/responses", response_body(comment=bad))
        post_json("/api/v1/responses", response_body(target=bad))
        post_json("/api/v1/responses", response_body(target="COUNTR1" + bad))
        post_json("/api/v1/responses", response_body(answers={"overall": bad}))
        post_json("/api/v1/responses", response_body(answers={bad: "satisfied"}))
        post_json("/api/v1/responses", response_body(answers={"overall": "satisfied", "x": [bad]}))
        post_json("/api/v1/responses", response_body(ticket=bad))
        post_json("/api/v1/responses", response_body(locale=bad))
        post_json("/api/v1/responses", response_body(id=bad))
        post_json("/api/v1/responses", response_body(submitted_at=bad))
        post_json("/api/v1/responses", response_body(comment=bad), device)
        for field in ("office", "counter", "officer", "service"):
            post_json("/api/v1/tickets", {"office": "O1", field: bad}, manager)
        post_json("/api/v1/kiosk/heartbeat", {"app_version": bad, "queue_depth": 0}, device)
        post_json(
            "/api/v1/kiosk/heartbeat",
            {"app_version": "1", "queue_depth": 0, "last_error": bad},
            device,
        )
        post_json("/api/v1/kiosk/officer/sign-in", {"officer": bad, "pin": "2580"}, device)
        post_json("/api/v1/kiosk/officer/sign-in", {"officer": "CB1", "pin": bad}, device)
        post_json("/api/v1/kiosk/officer/sign-in", {"badge": bad}, device)
    for moment in OVERFLOWING_MOMENTS:
        post_json("/api/v1/responses", response_body(submitted_at=moment))
        post_json("/api/v1/responses", response_body(submitted_at=moment), device)
        post_json(
            "/api/v1/kiosk/heartbeat",
            {"app_version": "1", "queue_depth": 1, "oldest_queued_at": moment},
            device,
        )
    for count in ("²", "1e3", "12", "-1", 1e309, -0.0, 10**30, 2.5, True, None, [], {}):
        post_json("/api/v1/tickets", {"office": "O1", "count": count}, manager)
    for depth in (10**100, -1, 1.5, "3", None):
        post_json("/api/v1/kiosk/heartbeat", {"app_version": "1", "queue_depth": depth}, device)
    for raw in (DEEP, '{"a":' * 20_000 + "1" + "}" * 20_000, "NaN", '{"id": Infinity}', "\ufeff{}"):
        for path, headers in (
            ("/api/v1/responses", {}),
            ("/api/v1/tickets", manager),
            ("/api/v1/kiosk/heartbeat", device),
        ):
            cases.append(
                (
                    "POST",
                    path,
                    {"data": raw, "content_type": "application/json", "headers": headers},
                )
            )
    # Codes in paths, and days in query strings.
    for code in ("A%00B", "%00", "%ED%A0%80", "COUNTR1%00", "x" * 5000, "%F0%9F%98%80"):
        cases += [
            ("GET", f"/api/v1/surveys/{code}", {}),
            ("GET", f"/api/v1/offices/{code}/summary", {"headers": manager}),
            ("GET", f"/api/v1/offices/{code}/responses.csv", {"headers": manager}),
            ("GET", f"/s/{code}", {}),
            ("POST", f"/s/{code}", {"data": {"overall": "satisfied"}}),
            ("GET", f"/s/{code}/poster", {}),
            ("GET", f"/s/{code}/qr.svg", {}),
            ("GET", f"/s/{code}/qr.png", {}),
            ("GET", f"/t/{code}", {}),
            ("GET", f"/s?code={code}", {}),
        ]
    for day in EDGE_DAYS + ["%00", "2026-01-01%00"]:
        for name in ("from", "to"):
            cases += [
                ("GET", f"/api/v1/offices/O1/summary?{name}={day}", {"headers": manager}),
                ("GET", f"/api/v1/offices/O1/responses.csv?{name}={day}", {"headers": manager}),
            ]
    # Methods a path does not take.
    for method, path in (
        ("DELETE", "/api/v1/responses"),
        ("PUT", "/api/v1/surveys/COUNTR1"),
        ("TRACE", "/api/v1/offices"),
        ("PATCH", "/s/COUNTR1"),
        ("DELETE", "/kiosk"),
    ):
        cases.append((method, path, {}))
    return cases


@pytest.fixture()
def tokens(db, city, make_token, device_token):
    return {"manager": make_token(scope="O1"), "device": device_token}


def stored(db) -> tuple[int, int]:
    db.expire_all()
    return (
        db.scalar(select(func.count()).select_from(Response)),
        db.scalar(select(func.count()).select_from(Ticket)),
    )


def test_no_hostile_input_gets_a_5xx_and_nothing_is_lost(client, db, city, tokens):
    seeded = client.post("/api/v1/responses", json=response_body(comment="đã có từ trước"))
    assert seeded.status_code == 201
    before = stored(db)
    failures = []
    for method, path, options in corpus(tokens):
        response = client.open(path, method=method, **options)
        status = response.status_code
        if status >= 500:
            failures.append((method, path, status))
            continue
        if path.startswith("/api/") and status >= 400:
            error = response.get_json(silent=True)
            if not (error and set(error.get("error", {})) == {"code", "message", "fields"}):
                failures.append((method, path, status, "not a JSON error"))
        if status == 405 and not response.headers.get("Allow"):
            failures.append((method, path, status, "no Allow"))
    assert not failures, failures
    responses, tickets = stored(db)
    # Hostile requests store nothing and lose nothing.
    assert (responses, tickets) == before


#: A form cannot carry a lone surrogate (invalid UTF-8 is decoded as U+FFFD); NUL it can.
FORM_TEXTS = [NUL, "a\x00b", "\x00" * 300]


@pytest.mark.parametrize("bad", FORM_TEXTS)
def test_unstorable_text_in_forms_is_a_clear_400(client, db, city, device_token, bad):
    page = client.get("/s/COUNTR1").get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "overall": "not_satisfied", "comment": bad}
    response = client.post("/s/COUNTR1?lang=en", data=form)
    assert response.status_code == 400
    assert "Please go back and try again." in response.get_data(as_text=True)
    client.set_cookie("hailong_device", device_token)
    page = client.get("/kiosk").get_data(as_text=True)
    response = client.post(
        "/kiosk", data={"csrf_token": csrf_token(page), "overall": "satisfied", "comment": bad}
    )
    assert response.status_code == 400
    assert stored(db) == (0, 0)


@pytest.mark.parametrize("bad", FORM_TEXTS)
def test_unstorable_text_at_sign_in_is_a_clear_400(client, city, make_user, bad):
    make_user("admin@example.vn", "admin", None)
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={"csrf_token": csrf_token(page), "email": "admin@example.vn" + bad, "password": bad},
    )
    assert response.status_code == 400


def test_unstorable_text_in_the_ticket_and_admin_forms(client, db, city, make_user, login):
    make_user("admin@example.vn", "admin", None)
    assert login("admin@example.vn", PASSWORD).status_code == 302
    page = client.get("/admin/codes/offices/O1/tickets").get_data(as_text=True)
    response = client.post(
        "/admin/codes/offices/O1/tickets",
        data={"csrf_token": csrf_token(page), "count": "²", "service": NUL},
    )
    assert response.status_code == 400
    response = client.post(
        "/admin/codes/offices/O1/tickets?lang=en",
        data={"csrf_token": csrf_token(page), "count": "²"},
    )
    assert response.status_code == 400 and "Choose a number" in response.get_data(as_text=True)
    # A kiosk renamed with a NUL in its name.
    device = KioskDevice(counter_id=city.counter.id, name="Máy 1", token_hash="x" * 64)
    db.add(device)
    db.commit()
    page = client.get(f"/admin/kiosks/{device.id}").get_data(as_text=True)
    response = client.post(
        f"/admin/kiosks/{device.id}/rename", data={"csrf_token": csrf_token(page), "name": "a\x00"}
    )
    assert response.status_code == 400
    db.expire_all()
    assert db.get(KioskDevice, device.id).name == "Máy 1"
    assert stored(db) == (0, 0)


def test_an_officer_code_with_a_nul_is_named(client, city, device_token):
    response = client.post(
        "/api/v1/kiosk/officer/sign-in",
        data=_json_body({"officer": "CB1\x00", "pin": "2580"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {device_token}"},
    )
    assert response.status_code == 400
    assert response.json["error"]["fields"] == {"officer": "invalid_text"}


def test_invalid_utf8_in_a_form_is_read_as_a_replacement_character(client, db, city):
    page = client.get("/s/COUNTR1").get_data(as_text=True)
    token = csrf_token(page)
    response = client.post(
        "/s/COUNTR1",
        data=f"csrf_token={token}&overall=not_satisfied&comment=%ED%A0%80%FF".encode(),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 302
    assert stored(db) == (1, 0)


def test_a_405_keeps_its_allow_header(client):
    response = client.delete("/api/v1/responses")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert response.json["error"]["code"] == "method_not_allowed"
    page = client.open("/s", method="TRACE")
    assert page.status_code == 405 and "GET" in page.headers["Allow"]


def test_deep_json_is_refused_quickly(client, city):
    response = client.post("/api/v1/responses", data=DEEP, content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"] == {
        "code": "malformed_json",
        "message": response.json["error"]["message"],
        "fields": {"body": "too_deep"},
    }


def test_a_csv_export_that_cannot_start_is_an_error_not_a_cut_file(
    client, city, make_token, monkeypatch
):
    """The first batch is read before the 200 and its headers go out (a database that fails
    there gets its 503); only a failure in a later batch could still cut a file short."""
    from sqlalchemy.exc import OperationalError

    from surveys import reports

    def failing(*_args, **_kwargs):
        yield ["id"]
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    token = make_token(scope="O1")
    monkeypatch.setattr(reports, "response_rows", failing)
    response = client.get(
        "/api/v1/offices/O1/responses.csv", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.json["error"]["code"] == "unavailable"
