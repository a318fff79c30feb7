"""API errors speak the request's language (Vietnamese by default); their codes never change."""

from datetime import UTC, datetime

import pytest

from tests.conftest import iso

VI, EN = "vi", "en"


def _errors(client, token, accept_language):
    headers = {"Authorization": f"Bearer {token}"}
    if accept_language is not None:
        headers["Accept-Language"] = accept_language
    return {
        "forbidden": client.get("/api/v1/offices/O2/summary", headers=headers),
        "validation": client.post("/api/v1/responses", json={"id": "x"}, headers=headers),
        "not_found": client.get("/api/v1/surveys/NOSUCH1", headers=headers),
        "method": client.delete("/api/v1/offices", headers=headers),
        "media": client.post("/api/v1/responses", data="x", headers=headers),
    }


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [(None, VI), ("vi-VN,vi;q=0.9", VI), ("en-US,en;q=0.8", EN), ("fr-FR", VI)],
)
def test_error_messages_follow_accept_language(client, city, make_token, accept_language, expected):
    token = make_token()
    english = {name: r.json["error"] for name, r in _errors(client, token, "en").items()}
    asked = {name: r.json["error"] for name, r in _errors(client, token, accept_language).items()}
    for name, error in asked.items():
        # The machine code and the fields are the contract: they never change with the language.
        assert error["code"] == english[name]["code"], name
        assert error["fields"] == english[name]["fields"], name
        if expected == EN:
            assert error["message"] == english[name]["message"], name
        else:
            assert error["message"] != english[name]["message"], (name, error["message"])
    assert asked["forbidden"]["code"] == "forbidden"
    if expected == VI:
        assert asked["forbidden"]["message"] == "Tài khoản không có quyền thực hiện thao tác này."
        assert asked["not_found"]["message"] == "Không tìm thấy mục nào có mã này."
    else:
        assert asked["forbidden"]["message"] == "You may not do this."


def test_an_english_client_keeps_english_even_after_a_domain_error(client, city, device_token):
    """A kiosk posting for another counter gets a 403 whose message follows its language."""
    body = {
        "id": "5b0e4a63-9d4b-4a8a-9a55-0e2f3c4d5e6f",
        "target": "COUNTR2",
        "answers": {"overall": "satisfied"},
        "submitted_at": iso(datetime.now(UTC)),
    }
    headers = {"Authorization": f"Bearer {device_token}"}
    vi = client.post("/api/v1/responses", json=body, headers=headers)
    en = client.post("/api/v1/responses", json=body, headers={**headers, "Accept-Language": "en"})
    assert vi.status_code == en.status_code == 403
    assert vi.json["error"]["code"] == en.json["error"]["code"] == "forbidden"
    assert vi.json["error"]["fields"] == en.json["error"]["fields"] == {"target": "not_this_kiosk"}
    assert "không" in vi.json["error"]["message"].lower()
    assert en.json["error"]["message"] == "You may not do this."
