"""The JSON API through HTTP: contract shapes, bad input, idempotency, concurrency, scope."""

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from surveys.db import utcnow
from surveys.models import Answer, Response
from tests.conftest import iso


def body(target="COUNTR1", answers=None, **extra):
    data = {
        "id": str(uuid.uuid4()),
        "target": target,
        "answers": answers or {"overall": "satisfied"},
    }
    data.update(extra)
    return data


def count(db, model=Response):
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_survey_in_both_languages_best_choice_first(client, city):
    response = client.get("/api/v1/surveys/countr1")
    assert response.status_code == 200
    data = response.json
    assert data["target"] == "COUNTR1"
    assert data["survey"] == {"key": "quick", "version": 1}
    overall = data["questions"][0]
    assert overall["key"] == "overall" and overall["headline"] and overall["required"]
    assert overall["text"]["en"] == "How satisfied are you with how your request was handled today?"
    assert [c["key"] for c in overall["choices"]] == [
        "very_satisfied",
        "satisfied",
        "not_satisfied",
    ]
    assert overall["choices"][2] == {
        "key": "not_satisfied",
        "polarity": "negative",
        "text": {"vi": "Không hài lòng", "en": "Not satisfied"},
    }
    reasons = data["questions"][1]
    assert reasons["kind"] == "multi" and reasons["show_if"] == {
        "question": "overall",
        "polarity": "negative",
    }


def test_unknown_survey_is_a_json_404(client, city):
    response = client.get("/api/v1/surveys/NOPE")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_phone_response_is_stored_once(client, db, city):
    data = body(
        answers={"overall": "not_satisfied", "reasons": ["attitude"]}, comment="Chậm", locale="en"
    )
    first = client.post("/api/v1/responses", json=data)
    assert first.status_code == 201 and first.json == {"id": data["id"]}
    again = client.post("/api/v1/responses", json=data)
    assert again.status_code == 201 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(db) == 1 and count(db, Answer) == 3
    stored = db.get(Response, uuid.UUID(data["id"]))
    assert stored.channel == "qr" and stored.locale == "en" and stored.device_id is None


def test_same_id_with_another_body_is_422_and_keeps_the_first(client, db, city):
    data = body()
    client.post("/api/v1/responses", json=data)
    data["answers"] = {"overall": "not_satisfied"}
    response = client.post("/api/v1/responses", json=data)
    assert response.status_code == 422 and response.json["error"]["fields"] == {
        "id": "already_used"
    }
    assert db.get(Response, uuid.UUID(data["id"])).headline_polarity == 1


@pytest.mark.parametrize(
    "raw,content_type",
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"id": 1}', "text/plain"),
        (b"\xff\xfe", "application/json"),
    ],
)
def test_malformed_bodies_are_400_json(client, city, raw, content_type):
    response = client.post("/api/v1/responses", data=raw, content_type=content_type)
    assert response.status_code == 400
    assert set(response.json["error"]) == {"code", "message", "fields"}


@pytest.mark.parametrize(
    "change,field",
    [
        ({"id": "123"}, "id"),
        ({"target": 42}, "target"),
        ({"answers": "overall"}, "answers"),
        ({"locale": "fr"}, "locale"),
        ({"answers": {"overall": "satisfied", "nope": "x"}}, "answers.nope"),
        ({"answers": {"overall": "meh"}}, "answers.overall"),
        ({"answers": {"overall": 1}}, "answers.overall"),
        ({"answers": {"overall": "satisfied", "reasons": ["attitude"]}}, "answers.reasons"),
        ({"comment": "x" * 1001}, "comment"),
        ({"submitted_at": "2999-01-01T00:00:00+07:00"}, "submitted_at"),
    ],
)
def test_invalid_input_names_the_field(client, db, city, change, field):
    response = client.post("/api/v1/responses", json={**body(), **change})
    assert response.status_code == 400
    assert field in response.json["error"]["fields"]
    assert count(db) == 0


def test_unknown_target_is_404(client, db, city):
    response = client.post("/api/v1/responses", json=body(target="ZZZZ999"))
    assert response.status_code == 404 and response.json["error"]["fields"] == {
        "target": "unknown_code"
    }


def test_oversized_body_is_413_json(client, city):
    response = client.post("/api/v1/responses", json=body(comment="x" * 100_000))
    assert response.status_code == 413 and "error" in response.json


def test_kiosk_response_with_device_token(client, db, city, device_token):
    old = utcnow() - timedelta(days=3)
    data = body(submitted_at=iso(old))
    response = client.post(
        "/api/v1/responses", json=data, headers={"Authorization": f"Bearer {device_token}"}
    )
    assert response.status_code == 201
    stored = db.get(Response, uuid.UUID(data["id"]))
    assert stored.channel == "kiosk" and stored.device_id is not None
    assert abs((stored.submitted_at - old).total_seconds()) < 1


def test_kiosk_cannot_post_for_another_counter(client, db, city, device_token):
    response = client.post(
        "/api/v1/responses",
        json=body(target="COUNTR2"),
        headers={"Authorization": f"Bearer {device_token}"},
    )
    assert response.status_code == 403 and count(db) == 0


def test_unknown_device_token_is_401(client, db, city):
    response = client.post(
        "/api/v1/responses", json=body(), headers={"Authorization": "Bearer kd_forged"}
    )
    assert response.status_code == 401 and count(db) == 0


def test_one_id_sent_concurrently_is_stored_once(app, db, city):
    data = body(answers={"overall": "not_satisfied", "reasons": ["waiting_time"]})
    statuses = []
    barrier = threading.Barrier(8)

    def send():
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/api/v1/responses", json=data).status_code)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 8
    assert count(db) == 1 and count(db, Answer) == 2


def test_offices_list_is_scoped(client, city, make_token):
    token = make_token(scope="D1")
    response = client.get("/api/v1/offices", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json == [
        {
            "code": "O1",
            "name": "Bộ phận một cửa Quận Một",
            "unit": "D1",
            "timezone": "Asia/Ho_Chi_Minh",
            "target": "OFFICE1",
            "counters": [{"code": "O1-Q1", "name": "Quầy 1", "target": "COUNTR1"}],
        }
    ]


def test_admin_sees_every_office(client, city, make_token):
    token = make_token(email="admin@example.vn", role="admin", scope=None)
    response = client.get("/api/v1/offices", headers={"Authorization": f"Bearer {token}"})
    assert sorted(o["code"] for o in response.json) == ["O1", "O2"]


def test_manager_endpoints_need_credentials(client, city):
    for url in (
        "/api/v1/offices",
        "/api/v1/offices/O1/summary",
        "/api/v1/offices/O1/responses.csv",
    ):
        response = client.get(url)
        assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"
    response = client.get("/api/v1/offices", headers={"Authorization": "Bearer hl_wrong"})
    assert response.status_code == 401


def test_device_token_is_not_a_manager_token(client, city, device_token):
    response = client.get("/api/v1/offices", headers={"Authorization": f"Bearer {device_token}"})
    assert response.status_code == 401


@pytest.mark.parametrize("url", ["/api/v1/offices/O2/summary", "/api/v1/offices/O2/responses.csv"])
def test_manager_of_one_office_cannot_read_another(client, city, make_token, url):
    token = make_token(scope="O1")
    response = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"


def test_unit_manager_reads_offices_below_the_unit_only(client, city, make_token):
    token = make_token(scope="D1")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/offices/O1/summary", headers=headers).status_code == 200
    assert client.get("/api/v1/offices/O2/summary", headers=headers).status_code == 403
    assert client.get("/api/v1/offices/NOPE/summary", headers=headers).status_code == 404


def test_summary_counts_what_was_posted(client, city, make_token):
    answers = ["very_satisfied"] * 7 + ["satisfied"] * 2 + ["not_satisfied"] * 3
    for answer in answers:
        extra = {"reasons": ["procedure"]} if answer == "not_satisfied" else {}
        assert (
            client.post(
                "/api/v1/responses", json=body(answers={"overall": answer, **extra})
            ).status_code
            == 201
        )
    client.post("/api/v1/responses", json=body(target="COUNTR2"))  # another office
    token = make_token(scope="O1")
    response = client.get(
        "/api/v1/offices/O1/summary", headers={"Authorization": f"Bearer {token}"}
    )
    data = response.json
    assert data["office"] == "O1" and data["responses"] == 12
    assert data["satisfaction"]["n"] == 12 and data["satisfaction"]["rate"] == 0.75
    assert data["satisfaction"]["ci_low"] == pytest.approx(0.4677, abs=1e-4)
    assert data["satisfaction"]["ci_high"] == pytest.approx(0.9111, abs=1e-4)
    overall = data["questions"]["overall"]
    assert overall["counts"] == {"very_satisfied": 7, "satisfied": 2, "not_satisfied": 3}
    # (7·100 + 2·50 + 3·0) / 12
    assert overall["mean_score"] == pytest.approx(66.67, abs=0.01)
    assert data["questions"]["reasons"]["counts"] == {"procedure": 3}
    assert data["questions"]["reasons"]["rate"] is None


def test_summary_hides_rates_below_minimum_n(client, city, make_token):
    for _ in range(9):
        client.post("/api/v1/responses", json=body())
    token = make_token(scope="O1")
    data = client.get(
        "/api/v1/offices/O1/summary", headers={"Authorization": f"Bearer {token}"}
    ).json
    assert data["satisfaction"] == {"n": 9, "rate": None, "ci_low": None, "ci_high": None}


@pytest.mark.parametrize(
    "query,field",
    [("from=2026-13-01", "from"), ("to=yesterday", "to"), ("to=", "to"), ("from=20260501", "from")],
)
def test_summary_bad_dates_are_400(client, city, make_token, query, field):
    token = make_token(scope="O1")
    response = client.get(
        f"/api/v1/offices/O1/summary?{query}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 400
    assert response.json["error"]["fields"] == {field: "not_a_date"}


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-05-02&to=2026-05-01",
        "from=0001-01-01&to=0001-01-01",
        "to=0001-01-05",
        "from=9999-12-31&to=9999-12-31",
        "from=0001-01-01&to=9999-12-31",
    ],
)
def test_any_real_days_are_a_range_even_an_empty_one(client, city, make_token, query):
    token = make_token(scope="O1")
    for path in ("summary", "responses.csv"):
        response = client.get(
            f"/api/v1/offices/O1/{path}?{query}", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, (path, response.data[:200])


def test_csv_has_one_row_per_response(client, city, make_token):
    client.post(
        "/api/v1/responses",
        json=body(
            answers={"overall": "not_satisfied", "reasons": ["attitude", "waiting_time"]},
            comment='=HYPERLINK("http://evil")',
        ),
    )
    client.post(
        "/api/v1/responses",
        json=body(
            target="OFFICR1", answers={"overall": "very_satisfied", "discipline": "satisfied"}
        ),
    )
    token = make_token(scope="O1")
    response = client.get(
        "/api/v1/offices/O1/responses.csv?codes=1", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    import csv
    import io

    text = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 2
    quick = next(r for r in rows if r["survey"] == "quick")
    assert quick["overall"] == "not_satisfied" and quick["reasons"] == "attitude;waiting_time"
    assert quick["comment"].startswith("'=")  # defused for spreadsheets
    assert quick["submitted_at"].endswith("+07:00") and quick["counter"] == "O1-Q1"
    culture = next(r for r in rows if r["survey"] == "office_culture")
    assert culture["officer"] == "CB1" and culture["discipline"] == "satisfied"


def test_openapi_describes_every_endpoint_and_method(app, client):
    """Every route under /api/v1 is in the document with its methods, and nothing else is."""
    import re

    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1/openapi.json":
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        served |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, m) for path, ops in document["paths"].items() for m in ops}
    assert documented == served


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_wrong_method_is_json_405(client):
    response = client.get("/api/v1/responses")
    assert response.status_code == 405 and "error" in response.json
