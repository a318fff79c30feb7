"""While the database cannot be reached (down, restarting, full), every request answers 503
with Retry-After: JSON under /api, a calm page elsewhere, and /healthz says so too. A client
(the kiosk's queue, a phone's retry) then tries again with the same id, and nothing is lost.
"""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import make_app

UNREACHABLE = {
    # A PostgreSQL that refuses connections (nothing listens on port 1).
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2",
    # A SQLite file in a folder that does not exist.
    "sqlite": "sqlite:////nonexistent-folder/hailong/test.db",
}


@pytest.fixture(params=sorted(UNREACHABLE))
def down(request):
    app = make_app(UNREACHABLE[request.param], RETRY_AFTER_SECONDS=7)
    yield app.test_client()
    app.extensions["hailong.engine"].dispose()


def test_the_api_answers_503_json_with_retry_after(down):
    for method, path, options in (
        ("GET", "/api/v1/surveys/COUNTR1", {}),
        ("GET", "/api/v1/offices", {"headers": {"Authorization": "Bearer hl_x"}}),
        (
            "POST",
            "/api/v1/responses",
            {
                "json": {
                    "id": str(uuid.uuid4()),
                    "target": "COUNTR1",
                    "answers": {"overall": "satisfied"},
                }
            },
        ),
        (
            "POST",
            "/api/v1/kiosk/heartbeat",
            {
                "json": {"app_version": "1", "queue_depth": 3},
                "headers": {"Authorization": "Bearer kd_x"},
            },
        ),
    ):
        response = down.open(path, method=method, **options)
        assert response.status_code == 503, (method, path, response.status_code)
        assert response.headers["Retry-After"] == "7"
        assert response.json["error"]["code"] == "unavailable"


def test_pages_answer_503_with_a_calm_page(down):
    down.set_cookie("hailong_device", "kd_x")
    for path in ("/s/COUNTR1?lang=en", "/t/ABCDEFGHJK?lang=en", "/kiosk?lang=en"):
        response = down.get(path)
        assert response.status_code == 503, path
        assert response.headers["Retry-After"] == "7"
        assert "Please try again in a moment" in response.get_data(as_text=True)
        assert "Traceback" not in response.get_data(as_text=True)


def test_healthz_says_503(down):
    response = down.get("/healthz")
    assert response.status_code == 503 and response.json["status"] == "error"
    assert response.headers["Retry-After"] == "7"
