"""Alert rules 1 (harassment) and 2 (burst): raised once per episode as ratings arrive through
the API, e-mailed to the managers whose scope holds the office, acknowledged on /alerts."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kiosk.worker import Worker
from surveys import alerts
from surveys.db import utcnow
from surveys.models import Alert, AlertRule, AuditEntry, OutboxMessage
from surveys.responses import ResponseInput, submit_response
from tests.conftest import PASSWORD, csrf_token, make_app
from tests.receivers import SmtpServer

NEGATIVE = {"overall": "not_satisfied", "reasons": ["waiting_time"]}
HARASSED = {"overall": "very_dissatisfied", "reasons": ["harassment", "procedure"]}
POSITIVE = {"overall": "satisfied"}


def rate(client, target="COUNTR1", answers=None):
    response = client.post(
        "/api/v1/responses",
        json={"id": str(uuid.uuid4()), "target": target, "answers": answers or NEGATIVE},
    )
    assert response.status_code == 201, response.json
    return response


def rate_at(db, now, target="COUNTR1", answers=None):
    """Store a rating as the API would at ``now`` (domain call: the clock is ours)."""
    submit_response(
        db,
        ResponseInput(id=uuid.uuid4(), target_code=target, answers=answers or NEGATIVE),
        now=now,
    )
    db.commit()


def all_alerts(db):
    db.expire_all()
    return db.scalars(select(Alert).order_by(Alert.id)).all()


def emails(db):
    db.expire_all()
    return db.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "email").order_by(OutboxMessage.id)
    ).all()


@pytest.fixture()
def managers(make_user):
    """Managers of the unit above O1 and of O1 itself; one of O2; a viewer and an admin."""
    make_user("donvi@example.vn", "manager", "D1")
    make_user("quanly@example.vn", "manager", "O1")
    make_user("khac@example.vn", "manager", "O2")
    make_user("xem@example.vn", "viewer", "O1")
    make_user("admin@example.vn", "admin", None)


def test_a_harassment_report_alerts_the_offices_managers_at_once(client, db, city, managers):
    rate(client, "OFFICR1", HARASSED)
    [alert] = all_alerts(db)
    assert (alert.rule, alert.office_id) == ("harassment", city.office.id)
    assert alert.officer_id == city.officer.id  # a reason about the person: named
    assert set(alert.figures["reasons"]) == {"harassment", "procedure"}
    assert sorted(m.payload["to"] for m in emails(db)) == [
        "donvi@example.vn",
        "quanly@example.vn",
    ]


def test_the_alert_email_names_office_counter_officer_and_links(database_url, db, city, managers):
    smtp = SmtpServer().start()
    app = make_app(database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    try:
        app.test_client().post(
            "/api/v1/responses",
            json={"id": str(uuid.uuid4()), "target": "OFFICR1", "answers": HARASSED},
        )
        assert Worker(app).send_due() == 2
    finally:
        smtp.stop()
        app.extensions["hailong.engine"].dispose()
    _, message = next(m for m in smtp.messages if m[0] == ["quanly@example.vn"])
    assert message["Subject"] == (
        "Cảnh báo: Phản ánh gây phiền hà, nhũng nhiễu tại Bộ phận một cửa Quận Một"
    )
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for text in (
        "Bộ phận một cửa Quận Một",
        "Quầy 1",
        "Nguyễn Thị Lan",
        "http://kiosk.test/alerts",
    ):
        assert text in plain and text in html


def test_no_officer_is_named_on_a_burst(client, db, city, managers):
    for _ in range(4):
        rate(client, "OFFICR1", {"overall": "not_satisfied", "reasons": ["facilities"]})
    [alert] = all_alerts(db)
    assert alert.rule == "burst" and alert.officer_id is None


def test_reports_about_one_officer_make_one_episode_until_acknowledged(db, city, managers):
    now = utcnow()
    rate_at(db, now, "OFFICR1", HARASSED)
    rate_at(db, now + timedelta(minutes=20), "OFFICR1", HARASSED)
    [alert] = all_alerts(db)
    assert alert.trigger_count == 2 and alert.figures["ratings_in_episode"] == 2
    assert len(emails(db)) == 2  # one per manager, once
    manager = db.scalar(select(alerts.User).where(alerts.User.email == "quanly@example.vn"))
    alerts.acknowledge(db, manager, alert.id, note="Đã làm việc", now=now + timedelta(minutes=30))
    db.commit()
    rate_at(db, now + timedelta(minutes=40), "OFFICR1", HARASSED)
    assert [a.trigger_count for a in all_alerts(db)] == [2, 1]
    assert len(emails(db)) == 4


def test_a_report_an_hour_after_the_last_is_a_new_episode(db, city, managers):
    now = utcnow()
    rate_at(db, now, "OFFICR1", HARASSED)
    rate_at(db, now + timedelta(minutes=61), "OFFICR1", HARASSED)
    first, second = all_alerts(db)
    assert first.closed_at is not None and second.closed_at is None


def test_a_burst_is_raised_once_at_the_fourth_unhappy_rating(client, db, city, managers):
    for _ in range(3):
        rate(client)
    assert all_alerts(db) == []
    rate(client)
    rate(client)
    [alert] = all_alerts(db)
    assert alert.rule == "burst" and alert.counter_id == city.counter.id
    assert alert.figures["negative"] == 5 and alert.figures["total"] == 5
    assert alert.trigger_count == 2
    assert len(emails(db)) == 2


def test_no_burst_when_the_unhappy_are_less_than_half(client, db, city, managers):
    for _ in range(5):
        rate(client, answers=POSITIVE)
    for _ in range(4):
        rate(client)
    assert all_alerts(db) == []
    rate(client)  # 5 of 10: half
    assert [a.rule for a in all_alerts(db)] == ["burst"]


def test_a_burst_after_a_quiet_window_is_a_new_episode(db, city, managers):
    start = utcnow()
    for minute in range(4):
        rate_at(db, start + timedelta(minutes=minute))
    later = start + timedelta(minutes=40)
    for minute in range(4):
        rate_at(db, later + timedelta(minutes=minute))
    assert [a.trigger_count for a in all_alerts(db)] == [1, 1]


def test_other_offices_ratings_do_not_count(client, db, city, managers):
    for _ in range(3):
        rate(client, "COUNTR1")
        rate(client, "COUNTR2")
    assert all_alerts(db) == []


def test_rules_can_be_switched_off_or_tuned_per_unit_and_office(client, db, city, managers):
    db.add(AlertRule(office_id=city.office.id, rule="harassment", is_enabled=False))
    db.add(AlertRule(unit_id=city.unit.id, rule="burst", is_enabled=True, burst_count=2))
    db.commit()
    rate(client, "OFFICR1", HARASSED)
    assert all_alerts(db) == []
    rate(client)
    assert [a.rule for a in all_alerts(db)] == ["burst"]


def test_the_office_overrides_its_unit(db, city):
    db.add(AlertRule(unit_id=city.unit.id, rule="burst", is_enabled=False, burst_count=9))
    db.add(AlertRule(office_id=city.office.id, rule="burst", is_enabled=True))
    db.commit()
    found = alerts.rule_settings(db, city.office, "burst")
    assert (found.is_enabled, found.burst_count, found.burst_minutes) == (True, 9, 15)


def test_a_held_rating_raises_nothing(db, city, managers):
    now = utcnow()
    submit_response(
        db,
        ResponseInput(id=uuid.uuid4(), target_code="OFFICR1", answers=HARASSED),
        now=now,
        over_ceiling=lambda _target: True,
    )
    db.commit()
    assert all_alerts(db) == []


# The alerts page ----------------------------------------------------------------------------


def test_managers_in_scope_see_and_acknowledge(client, db, city, managers, login):
    rate(client, "OFFICR1", HARASSED)
    [alert] = all_alerts(db)
    login("quanly@example.vn", PASSWORD)
    page = client.get("/alerts")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Phản ánh gây phiền hà, nhũng nhiễu" in html and "Nguyễn Thị Lan" in html
    answer = client.post(
        f"/alerts/{alert.id}/acknowledge",
        data={"csrf_token": csrf_token(html), "note": "Đã gọi lại cho công dân <b>"},
    )
    assert answer.status_code == 302
    html = client.get("/alerts").get_data(as_text=True)
    assert "Đã gọi lại cho công dân &lt;b&gt;" in html
    stored = all_alerts(db)[0]
    assert stored.acknowledged_by.email == "quanly@example.vn"
    assert stored.acknowledgement_note == "Đã gọi lại cho công dân <b>"
    assert (
        db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "alert.acknowledge")
        )
        == 1
    )


def test_a_manager_out_of_scope_neither_sees_nor_acknowledges(client, db, city, managers, login):
    rate(client, "OFFICR1", HARASSED)
    [alert] = all_alerts(db)
    login("khac@example.vn", PASSWORD)
    html = client.get("/alerts").get_data(as_text=True)
    assert "Nguyễn Thị Lan" not in html
    answer = client.post(
        f"/alerts/{alert.id}/acknowledge", data={"csrf_token": csrf_token(html), "note": ""}
    )
    assert answer.status_code == 403
    assert all_alerts(db)[0].acknowledged_at is None


def test_a_viewer_sees_but_does_not_acknowledge(client, db, city, managers, login):
    rate(client, "OFFICR1", HARASSED)
    [alert] = all_alerts(db)
    login("xem@example.vn", PASSWORD)
    html = client.get("/alerts").get_data(as_text=True)
    assert "Nguyễn Thị Lan" in html and "note-" not in html
    answer = client.post(
        f"/alerts/{alert.id}/acknowledge", data={"csrf_token": csrf_token(html), "note": ""}
    )
    assert answer.status_code == 403


def test_acknowledging_twice_or_an_unknown_alert(client, db, city, managers, login):
    rate(client, "OFFICR1", HARASSED)
    [alert] = all_alerts(db)
    login("quanly@example.vn", PASSWORD)
    token = csrf_token(client.get("/alerts").get_data(as_text=True))
    assert (
        client.post(f"/alerts/{alert.id}/acknowledge", data={"csrf_token": token}).status_code
        == 302
    )
    again = client.post(f"/alerts/{alert.id}/acknowledge", data={"csrf_token": token})
    assert again.status_code == 409
    assert client.post("/alerts/999999/acknowledge", data={"csrf_token": token}).status_code == 404
    too_long = client.post(
        f"/alerts/{alert.id}/acknowledge", data={"csrf_token": token, "note": "x" * 1001}
    )
    assert too_long.status_code in (302, 409)


def test_the_alerts_page_needs_a_sign_in(client):
    assert client.get("/alerts").status_code == 302


# Rules adjusted by administrators --------------------------------------------------------------


def _rules_form(client):
    return csrf_token(client.get("/admin/alerts").get_data(as_text=True))


def test_an_administrator_switches_a_rule_off_for_an_office(client, db, city, make_user, login):
    make_user("admin@example.vn", "admin", None)
    login("admin@example.vn", PASSWORD)
    answer = client.post(
        "/admin/alerts",
        data={"csrf_token": _rules_form(client), "place": "o1", "rule": "harassment"},
    )
    assert answer.status_code == 302
    assert not alerts.rule_settings(db, city.office, "harassment").is_enabled
    page = client.get("/admin/alerts").get_data(as_text=True)
    assert "<code>O1</code>" in page
    rate(client, "OFFICR1", HARASSED)
    assert all_alerts(db) == []
    assert (
        db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "alert_rule.set")
        )
        == 1
    )


def test_burst_numbers_per_unit(client, db, city, make_user, login):
    make_user("admin@example.vn", "admin", None)
    login("admin@example.vn", PASSWORD)
    answer = client.post(
        "/admin/alerts",
        data={
            "csrf_token": _rules_form(client),
            "place": "D1",
            "rule": "burst",
            "enabled": "on",
            "burst_count": "6",
            "burst_minutes": "30",
        },
    )
    assert answer.status_code == 302
    found = alerts.rule_settings(db, city.office, "burst")
    assert (found.is_enabled, found.burst_count, found.burst_minutes) == (True, 6, 30)


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"place": "NOPE"}, 404),
        ({"place": "O1", "burst_count": "0"}, 400),
        ({"place": "O1", "burst_count": "abc"}, 400),
        ({"place": "O1", "rule": "bogus"}, 400),
    ],
)
def test_bad_rule_input_is_a_form_error(client, city, make_user, login, fields, status):
    make_user("admin@example.vn", "admin", None)
    login("admin@example.vn", PASSWORD)
    data = {"csrf_token": _rules_form(client), "rule": "burst", "enabled": "on", **fields}
    answer = client.post("/admin/alerts", data=data)
    assert answer.status_code == status
    assert 'class="error"' in answer.get_data(as_text=True)


def test_a_scoped_administrator_sets_rules_only_within_scope(client, db, city, make_user, login):
    make_user("admin1@example.vn", "admin", "D1")
    login("admin1@example.vn", PASSWORD)
    data = {"csrf_token": _rules_form(client), "rule": "burst", "enabled": "on"}
    assert client.post("/admin/alerts", data={**data, "place": "O2"}).status_code == 403
    assert client.post("/admin/alerts", data={**data, "place": "O1"}).status_code == 302


def test_managers_do_not_set_rules(client, city, managers, login):
    login("quanly@example.vn", PASSWORD)
    assert client.get("/admin/alerts").status_code == 403
