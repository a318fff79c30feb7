"""Call-back cases: opened through the API after an unhappy rating, with consent; contact
shown to the office's managers only; open → contacted → resolved; overdue alerts (rule 5);
the contact erased after the set days."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from kiosk.worker import Checks, Worker
from surveys import cases
from surveys.models import Alert, CallbackCase
from surveys.responses import ResponseInput, submit_response
from tests.conftest import PASSWORD, csrf_token
from tests.receivers import HttpReceiver

UNHAPPY = {"overall": "not_satisfied", "reasons": ["waiting_time"]}
#: Thursday 3 December 2026, 09:00 in Hanoi.
THURSDAY = datetime(2026, 12, 3, 2, 0)


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def rated(client, answers=None) -> str:
    response_id = str(uuid.uuid4())
    answer = client.post(
        "/api/v1/responses",
        json={"id": response_id, "target": "COUNTR1", "answers": answers or UNHAPPY},
    )
    assert answer.status_code == 201
    return response_id


def ask(client, response_id, **body):
    return client.post(f"/api/v1/responses/{response_id}/callback", json=body)


def stored(db):
    db.expire_all()
    return db.scalars(select(CallbackCase).order_by(CallbackCase.id)).all()


def test_an_unhappy_citizen_asks_to_be_called_back(client, db, city):
    answer = ask(client, rated(client), phone="0912 345 678", consent=True)
    assert answer.status_code == 201
    [case] = stored(db)
    assert (case.id, case.status, case.contact) == (answer.json["id"], "open", "0912 345 678")
    assert case.office_id == city.office.id and case.counter_id == city.counter.id


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "0912345678", "consent": False}, "consent"),
        ({"consent": True}, "phone"),
        ({"phone": "12", "consent": True}, "phone"),
        ({"email": "not-an-address", "consent": True}, "email"),
        ({"phone": "0912345678", "email": "a@b.vn", "consent": True}, "email"),
        ({"phone": "0912345678"}, "consent"),
    ],
)
def test_incomplete_requests_are_400(client, db, city, body, field):
    answer = ask(client, rated(client), **body)
    assert answer.status_code == 400
    assert field in answer.json["error"]["fields"]
    assert stored(db) == []


def test_only_once_only_unhappy_only_known(client, db, city):
    response_id = rated(client)
    assert ask(client, response_id, email="dan@example.vn", consent=True).status_code == 201
    assert ask(client, response_id, email="dan@example.vn", consent=True).status_code == 409
    happy = rated(client, {"overall": "very_satisfied"})
    assert ask(client, happy, email="dan@example.vn", consent=True).status_code == 409
    assert ask(client, uuid.uuid4(), email="dan@example.vn", consent=True).status_code == 404
    assert ask(client, "not-a-uuid", email="dan@example.vn", consent=True).status_code == 404


def test_due_in_working_days():
    # Thursday + 3 working days = Tuesday; the weekend does not count.
    assert cases.add_working_days(THURSDAY, 3, "Asia/Ho_Chi_Minh") == THURSDAY + timedelta(days=5)


def test_contacts_are_masked_for_everyone_but_managers():
    assert cases.mask("0912 345 678", "phone") == "*******678"
    assert cases.mask("dan@example.vn", "email") == "d***@example.vn"


@pytest.mark.parametrize(
    ("email", "role", "scope", "shown"),
    [
        ("quanly@example.vn", "manager", "O1", "0912 345 678"),
        ("donvi@example.vn", "manager", "D1", "0912 345 678"),
        ("xem@example.vn", "viewer", "O1", "*******678"),
        ("khac@example.vn", "manager", "O2", None),
    ],
)
def test_managers_see_the_contact_viewers_a_masked_one(
    client, db, city, make_user, login, email, role, scope, shown
):
    ask(client, rated(client), phone="0912 345 678", consent=True)
    make_user(email, role, scope)
    login(email, PASSWORD)
    html = client.get("/cases").get_data(as_text=True)
    if shown is None:
        assert "678" not in html and "Quận Một" not in html
    else:
        assert shown in html
        if shown.startswith("*"):
            assert "0912 345 678" not in html


def test_open_contacted_resolved_with_who_when_and_note(client, db, city, make_user, login):
    ask(client, rated(client), phone="0912 345 678", consent=True)
    [case] = stored(db)
    make_user("quanly@example.vn", "manager", "O1")
    login("quanly@example.vn", PASSWORD)
    token = csrf_token(client.get("/cases").get_data(as_text=True))
    # Not resolved before being contacted.
    assert client.post(f"/cases/{case.id}/resolved", data={"csrf_token": token}).status_code == 409
    note = {"csrf_token": token, "note": "Đã gọi điện, hẹn bổ sung hồ sơ"}
    assert client.post(f"/cases/{case.id}/contacted", data=note).status_code == 302
    assert client.post(f"/cases/{case.id}/resolved", data=note).status_code == 302
    [case] = stored(db)
    assert case.status == "resolved" and case.resolved_by.email == "quanly@example.vn"
    assert case.contacted_note == "Đã gọi điện, hẹn bổ sung hồ sơ"
    assert client.post(f"/cases/{case.id}/resolved", data=note).status_code == 409


def test_others_cannot_move_a_case(client, db, city, make_user, login):
    ask(client, rated(client), phone="0912 345 678", consent=True)
    [case] = stored(db)
    make_user("khac@example.vn", "manager", "O2")
    login("khac@example.vn", PASSWORD)
    token = csrf_token(client.get("/cases").get_data(as_text=True))
    answer = client.post(f"/cases/{case.id}/contacted", data={"csrf_token": token})
    assert answer.status_code == 403


def _case_at(db, now):
    response_id = uuid.uuid4()
    submit_response(
        db, ResponseInput(id=response_id, target_code="COUNTR1", answers=UNHAPPY), now=now
    )
    cases.open_case(db, response_id, phone="0912345678", email=None, consent=True, now=now)
    db.commit()
    return stored(db)[-1]


def test_an_overdue_case_alerts_once(app, db, city, make_user):
    make_user("quanly@example.vn", "manager", "O1")
    case = _case_at(db, THURSDAY)
    checks = Checks(app, clock=Clock(case.due_at - timedelta(minutes=1)))
    assert checks.cases() == (0, 0)
    checks.clock.now = case.due_at + timedelta(minutes=1)
    assert checks.cases() == (1, 0)
    checks.clock.now += timedelta(minutes=15)
    assert checks.cases() == (0, 0)
    db.expire_all()
    [alert] = db.scalars(select(Alert).where(Alert.rule == "case_overdue")).all()
    assert alert.figures["case"] == case.id


def test_the_contact_is_erased_after_the_set_days(app, db, city, make_user):
    boss = make_user("quanly@example.vn", "manager", "O1")
    case = _case_at(db, THURSDAY)
    cases.advance(db, boss, case.id, to="contacted", note="", now=THURSDAY + timedelta(hours=1))
    cases.advance(db, boss, case.id, to="resolved", note="", now=THURSDAY + timedelta(hours=2))
    db.commit()
    checks = Checks(app, clock=Clock(THURSDAY + timedelta(days=30, hours=1)))
    assert checks.cases() == (0, 0)
    assert stored(db)[0].contact == "0912345678"
    checks.clock.now = THURSDAY + timedelta(days=30, hours=3)
    assert checks.cases() == (0, 1)
    [erased] = stored(db)
    assert erased.contact is None and erased.erased_at == checks.clock.now


def test_webhooks_get_case_events_without_the_contact(app, client, db, city, make_token):
    receiver = HttpReceiver().start()
    try:
        token = make_token("admin@example.vn", "admin", None)
        client.post(
            "/api/v1/webhooks",
            json={"url": receiver.url, "events": ["case.opened"], "secret": "x" * 16},
            headers={"Authorization": f"Bearer {token}"},
        )
        ask(client, rated(client), phone="0912 345 678", consent=True)
        assert Worker(app).send_due() == 1
    finally:
        receiver.stop()
    [delivery] = receiver.deliveries
    body = json.loads(delivery.body)
    assert body["event"] == "case.opened" and body["data"]["status"] == "open"
    assert "345" not in delivery.body.decode()


def test_call_back_requests_share_the_citizens_allowance(database_url, db, city):
    from tests.conftest import make_app

    app = make_app(database_url, RATELIMIT_ENABLED=True, PHONE_RATE_LIMIT="3 per minute")
    try:
        client = app.test_client()
        first, second = str(uuid.uuid4()), str(uuid.uuid4())
        for response_id, target in ((first, "COUNTR1"), (second, "OFFICE1")):
            answer = client.post(
                "/api/v1/responses",
                json={"id": response_id, "target": target, "answers": UNHAPPY},
            )
            assert answer.status_code == 201
        # Two ratings and one call-back use the 3 allowed in a minute.
        assert ask(client, first, phone="0912345678", consent=True).status_code == 201
        answer = ask(client, second, phone="0912345678", consent=True)
        assert answer.status_code == 429
        assert answer.json["error"]["code"] == "too_many_requests"
    finally:
        app.extensions["hailong.engine"].dispose()
    assert len(stored(db)) == 1
