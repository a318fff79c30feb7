"""Webhooks: subscribed through the API, delivered signed by the worker to a real HTTP
receiver, retried after failures, listed with their status."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from kiosk.worker import Worker
from surveys import alerts, webhooks
from surveys.db import utcnow
from surveys.models import User
from tests.receivers import HttpReceiver

SECRET = "correct-horse-battery-staple"
HARASSED = {"overall": "not_satisfied", "reasons": ["harassment"], "comment": ""}
DOCS = Path(__file__).resolve().parents[1] / "docs" / "alerts.md"


def documented_verifier():
    """Return the verification function exactly as docs/alerts.md shows it."""
    text = DOCS.read_text(encoding="utf-8")
    snippet = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(snippet, namespace)  # noqa: S102 - our own documentation
    return namespace["is_from_hailong"]


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture(autouse=True)
def _forget_subscribers():
    """The process keeps its response.created subscribers 30 s; tests start afresh."""
    webhooks.forget_subscribers()
    yield
    webhooks.forget_subscribers()


@pytest.fixture()
def receiver():
    server = HttpReceiver().start()
    yield server
    server.stop()


@pytest.fixture()
def admin(make_token):
    token = make_token("admin@example.vn", "admin", None)
    return {"Authorization": f"Bearer {token}"}


def subscribe(client, admin, url, events=("alert.raised", "alert.acknowledged")):
    answer = client.post(
        "/api/v1/webhooks",
        json={"url": url, "events": list(events), "secret": SECRET},
        headers=admin,
    )
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def harass(client):
    answer = client.post(
        "/api/v1/responses",
        json={
            "id": str(uuid.uuid4()),
            "target": "OFFICR1",
            "answers": {"overall": "not_satisfied", "reasons": ["harassment"]},
            "comment": "Cán bộ đòi tiền bồi dưỡng",
        },
    )
    assert answer.status_code == 201


def test_an_alert_reaches_the_receiver_signed(app, client, city, admin, receiver):
    webhook_id = subscribe(client, admin, receiver.url)
    harass(client)
    assert Worker(app).send_due() == 1
    [delivery] = receiver.deliveries
    assert delivery.headers["X-HaiLong-Event"] == "alert.raised"
    assert documented_verifier()(SECRET, delivery.body, delivery.headers["X-HaiLong-Signature"])
    assert not documented_verifier()(
        "another-secret-key", delivery.body, delivery.headers["X-HaiLong-Signature"]
    )
    body = json.loads(delivery.body)
    assert set(body) == {"id", "event", "created_at", "data"}
    uuid.UUID(body["id"])
    assert body["event"] == "alert.raised"
    assert body["data"]["office"]["code"] == "O1"
    assert body["data"]["officer"]["name"] == "Nguyễn Thị Lan"
    assert "bồi dưỡng" not in delivery.body.decode()  # never a comment
    listed = client.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers=admin).json
    assert [(d["event_id"], d["status"], d["last_status"]) for d in listed] == [
        (body["id"], "sent", 200)
    ]


def test_a_receiver_failing_twice_gets_the_third_try(app, client, city, admin, receiver):
    receiver.script = [500, 500]
    webhook_id = subscribe(client, admin, receiver.url)
    harass(client)
    start = utcnow() + timedelta(seconds=1)
    clock = Clock(start)
    worker = Worker(app, clock=clock)
    assert worker.send_due() == 0
    [pending] = client.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers=admin).json
    assert (pending["status"], pending["attempts"], pending["last_status"]) == ("pending", 1, 500)
    assert (
        pending["next_attempt_at"]
        == (start + timedelta(seconds=30)).isoformat(timespec="seconds") + "Z"
    )
    clock.now = start + timedelta(seconds=30)
    assert worker.send_due() == 0
    clock.now += timedelta(seconds=60)
    assert worker.send_due() == 1
    bodies = [d.body for d in receiver.deliveries]
    assert len(bodies) == 3 and len(set(bodies)) == 1  # the same event, the same bytes
    [sent] = client.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers=admin).json
    assert (sent["status"], sent["attempts"], sent["last_status"]) == ("sent", 3, 200)
    assert sent["next_attempt_at"] is None


def test_only_subscribed_events_are_delivered(app, client, db, city, admin, receiver):
    subscribe(client, admin, receiver.url, events=["alert.acknowledged"])
    harass(client)
    assert Worker(app).send_due() == 0
    [alert] = db.scalars(alerts.select(alerts.Alert)).all()
    boss = db.scalar(alerts.select(User).where(User.email == "admin@example.vn"))
    alerts.acknowledge(db, boss, alert.id, note="Đã xử lý", now=utcnow())
    db.commit()
    assert Worker(app).send_due() == 1
    [delivery] = receiver.deliveries
    body = json.loads(delivery.body)
    assert body["event"] == "alert.acknowledged"
    assert body["data"]["note"] == "Đã xử lý" and body["data"]["acknowledged_by"] == boss.email


def test_a_removed_webhook_gets_nothing_more(app, client, city, admin, receiver):
    webhook_id = subscribe(client, admin, receiver.url)
    harass(client)
    assert client.delete(f"/api/v1/webhooks/{webhook_id}", headers=admin).status_code == 204
    assert Worker(app).send_due() == 0
    assert receiver.deliveries == []
    [given_up] = client.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers=admin).json
    assert given_up["status"] == "failed"
    assert client.get("/api/v1/webhooks", headers=admin).json[0]["active"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://x.example/", "events": ["alert.raised"], "secret": SECRET}, "url"),
        ({"url": "https://", "events": ["alert.raised"], "secret": SECRET}, "url"),
        ({"url": "https://x.example/", "events": [], "secret": SECRET}, "events"),
        ({"url": "https://x.example/", "events": ["case.closed"], "secret": SECRET}, "events"),
        ({"url": "https://x.example/", "events": ["alert.raised"], "secret": "short"}, "secret"),
        ({"url": "https://x.example/", "events": ["alert.raised"]}, "secret"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, city, admin, body, field):
    answer = client.post("/api/v1/webhooks", json=body, headers=admin)
    assert answer.status_code == 400
    assert any(name.startswith(field) for name in answer.json["error"]["fields"])


def test_only_city_wide_administrators(client, city, make_token, receiver):
    body = {"url": receiver.url, "events": ["alert.raised"], "secret": SECRET}
    assert client.post("/api/v1/webhooks", json=body).status_code == 401
    for email, role, scope in (
        ("quanly@example.vn", "manager", "O1"),
        ("admin1@example.vn", "admin", "D1"),
    ):
        headers = {"Authorization": f"Bearer {make_token(email, role, scope)}"}
        assert client.post("/api/v1/webhooks", json=body, headers=headers).status_code == 403
        assert client.get("/api/v1/webhooks/1/deliveries", headers=headers).status_code == 403


def test_unknown_webhooks_are_404(client, city, admin):
    for webhook_id in (1, 2**31, 2**63):
        answer = client.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers=admin)
        assert answer.status_code == 404


def test_webhooks_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "post" in paths["/webhooks"]
    assert "get" in paths["/webhooks/{webhook_id}/deliveries"]


@pytest.mark.parametrize("include_comments", [False, True])
def test_response_created_is_opt_in_and_carries_a_comment_only_if_asked(
    app, client, city, admin, receiver, include_comments
):
    answer = client.post(
        "/api/v1/webhooks",
        json={
            "url": receiver.url,
            "events": ["response.created"],
            "secret": SECRET,
            "include_comments": include_comments,
        },
        headers=admin,
    )
    assert answer.status_code == 201
    response_id = str(uuid.uuid4())
    client.post(
        "/api/v1/responses",
        json={
            "id": response_id,
            "target": "COUNTR1",
            "answers": {"overall": "not_satisfied", "reasons": ["waiting_time"]},
            "comment": "Chờ hơn một tiếng",
        },
    )
    assert Worker(app).send_due() == 1
    [delivery] = receiver.deliveries
    body = json.loads(delivery.body)
    assert body["event"] == "response.created"
    data = body["data"]
    assert data["response"] == response_id and data["polarity"] == "negative"
    assert data["answers"] == {"overall": "not_satisfied", "reasons": ["waiting_time"]}
    assert data["counter"]["code"] == "O1-Q1"
    assert ("Chờ hơn một tiếng" in delivery.body.decode()) is include_comments
    assert "officer" not in data


def test_no_response_event_without_a_subscriber(app, client, city, admin, receiver):
    subscribe(client, admin, receiver.url, events=["alert.raised"])
    client.post(
        "/api/v1/responses",
        json={"id": str(uuid.uuid4()), "target": "COUNTR1", "answers": {"overall": "satisfied"}},
    )
    assert Worker(app).send_due() == 0
