"""The periodic alert rules the worker runs: 4 (a kiosk silent during opening hours, every
minute) and 3 (a significant fall in satisfaction, daily)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from kiosk.worker import Checks, periodic_jobs
from surveys import alerts
from surveys.models import Alert, KioskDevice, OutboxMessage
from surveys.responses import ResponseInput, submit_response

#: Monday 30 November 2026, 09:00 in Hanoi (UTC+7): the office is open.
MONDAY_9AM = datetime(2026, 11, 30, 2, 0)
#: Sunday 29 November 2026, 09:00 in Hanoi: closed.
SUNDAY_9AM = datetime(2026, 11, 29, 2, 0)


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def all_alerts(db, rule):
    db.expire_all()
    return db.scalars(select(Alert).where(Alert.rule == rule).order_by(Alert.id)).all()


@pytest.fixture()
def device(db, city, device_token):
    found = db.scalar(select(KioskDevice))
    found.created_at = MONDAY_9AM - timedelta(days=3)
    found.last_seen_at = MONDAY_9AM - timedelta(minutes=20)
    db.commit()
    return found


def test_a_silent_kiosk_is_raised_once_until_heard_again(app, db, city, device, make_user):
    make_user("quanly@example.vn", "manager", "O1")
    clock = Clock(MONDAY_9AM)
    checks = Checks(app, clock=clock)
    assert checks.silent_kiosks() == 1
    clock.now += timedelta(minutes=1)
    assert checks.silent_kiosks() == 0
    [alert] = all_alerts(db, "kiosk_silent")
    assert alert.counter_id == city.counter.id and alert.trigger_count == 2
    assert alert.figures["silent_minutes"] == 21  # the latest check's figures
    emails = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email")).all()
    assert [m.payload["to"] for m in emails] == ["quanly@example.vn"]
    # A heartbeat ends the episode; silence later is a new one.
    device.last_seen_at = clock.now
    db.commit()
    assert checks.silent_kiosks() == 0
    assert all_alerts(db, "kiosk_silent")[0].closed_at == clock.now
    clock.now += timedelta(minutes=16)
    assert checks.silent_kiosks() == 1
    assert len(all_alerts(db, "kiosk_silent")) == 2


def test_a_kiosk_silent_for_less_or_out_of_hours_raises_nothing(app, db, city, device):
    assert Checks(app, clock=Clock(MONDAY_9AM - timedelta(minutes=6))).silent_kiosks() == 0
    device.last_seen_at = SUNDAY_9AM - timedelta(hours=5)
    db.commit()
    assert Checks(app, clock=Clock(SUNDAY_9AM)).silent_kiosks() == 0
    assert all_alerts(db, "kiosk_silent") == []


def test_a_revoked_kiosk_or_a_switched_off_rule_raises_nothing(app, db, city, device):
    db.add(alerts.AlertRule(unit_id=city.unit.id, rule="kiosk_silent", is_enabled=False))
    db.commit()
    assert Checks(app, clock=Clock(MONDAY_9AM)).silent_kiosks() == 0
    assert all_alerts(db, "kiosk_silent") == []


def _ratings(db, start, count, positive, *, step=timedelta(hours=2), target="COUNTR1"):
    """Store ``count`` ratings from ``start``, one every ``step``, the first ``positive`` happy."""
    for i in range(count):
        answers = {"overall": "satisfied"} if i < positive else {"overall": "not_satisfied"}
        submit_response(
            db,
            ResponseInput(id=uuid.uuid4(), target_code=target, answers=answers),
            now=start + i * step,
        )
    db.commit()


def test_a_significant_fall_is_raised_once(app, db, city):
    now = MONDAY_9AM
    _ratings(db, now - timedelta(weeks=8, days=6), 40, 36, step=timedelta(days=1))  # 90 %
    _ratings(db, now - timedelta(days=6), 20, 10)  # 50 %
    checks = Checks(app, clock=Clock(now))
    assert checks.falls() == 1
    [alert] = all_alerts(db, "fall")
    assert alert.office_id == city.office.id
    assert alert.figures["recent"]["n"] == 20 and alert.figures["before"]["n"] == 40
    assert alert.figures["recent_rate"] == 0.5 and alert.figures["before_rate"] == 0.9
    # The next day's check finds it still: the same episode.
    checks.clock.now += timedelta(days=1)
    assert checks.falls() == 0
    assert len(all_alerts(db, "fall")) == 1


def test_no_fall_without_significance_or_enough_ratings(app, db, city):
    now = MONDAY_9AM
    _ratings(db, now - timedelta(weeks=8, days=6), 40, 34, step=timedelta(days=1))  # 85 %
    _ratings(db, now - timedelta(days=6), 9, 1)  # below MIN_RESPONSES
    assert Checks(app, clock=Clock(now)).falls() == 0
    _ratings(db, now - timedelta(days=5), 3, 3)  # now 4 happy of 12: enough, and a fall
    assert alerts.two_proportion_z(4, 12, 34, 40) < -alerts.Z_95
    assert Checks(app, clock=Clock(now)).falls() == 1


def test_two_proportion_z():
    # 50 % of 100 against 60 % of 100: z = -1.42 (not significant); 40 % vs 60 %: -2.83.
    assert round(alerts.two_proportion_z(50, 100, 60, 100), 2) == -1.42
    assert round(alerts.two_proportion_z(40, 100, 60, 100), 2) == -2.83
    assert alerts.two_proportion_z(10, 10, 20, 20) == 0.0


def test_the_schedule(app):
    jobs = {trigger["id"]: trigger for _, trigger in periodic_jobs(app)}
    assert jobs["kiosk_silent"]["minutes"] == 1
    assert (jobs["fall"]["trigger"], jobs["fall"]["hour"]) == ("cron", 6)
    assert jobs["fall"]["timezone"] == "Asia/Ho_Chi_Minh"


# Rule 3's numbers, adjusted per unit or office on /admin/alerts -------------------------------


@pytest.fixture()
def admin_client(client, make_user, login):
    from tests.conftest import PASSWORD

    make_user("admin@example.vn", "admin", None)
    login("admin@example.vn", PASSWORD)
    return client


def set_fall(client, place, **numbers):
    """Adjust the fall rule through the administration page, as an administrator does."""
    from tests.conftest import csrf_token

    token = csrf_token(client.get("/admin/alerts").get_data(as_text=True))
    data = {"csrf_token": token, "place": place, "rule": "fall", "enabled": "on"}
    answer = client.post(
        "/admin/alerts",
        data={**data, **{k: str(v) for k, v in numbers.items()}},
        headers={"Accept-Language": "en"},
    )
    return answer


def test_a_longer_baseline_reaches_older_ratings(app, db, city, admin_client):
    now = MONDAY_9AM
    # 90 % happy 10 to 12 weeks ago; nothing in the 8 weeks before the last 7 days.
    _ratings(db, now - timedelta(weeks=12), 40, 36, step=timedelta(hours=12))
    _ratings(db, now - timedelta(days=6), 20, 10)  # 50 %
    checks = Checks(app, clock=Clock(now))
    assert checks.falls() == 0  # the default 8 weeks hold no rating: nothing to compare
    assert set_fall(admin_client, "O1", fall_baseline_weeks=13).status_code == 302
    assert checks.falls() == 1
    [alert] = all_alerts(db, "fall")
    assert alert.figures["before"] == {"n": 40, "positive": 36, "weeks": 13}
    checks.clock.now += timedelta(days=1)
    assert checks.falls() == 0  # the same episode
    assert len(all_alerts(db, "fall")) == 1


def test_a_shorter_baseline_or_recent_window_leaves_ratings_out(app, db, city, admin_client):
    now = MONDAY_9AM
    # One rating a day from 62 to 23 days ago, 90 % happy; then 20 in the last 6 days, 50 %.
    _ratings(db, now - timedelta(weeks=8, days=6), 40, 36, step=timedelta(days=1))
    _ratings(db, now - timedelta(days=6), 20, 10, step=timedelta(hours=6))
    assert set_fall(admin_client, "O1", fall_baseline_weeks=3).status_code == 302
    # The 3 weeks before the last 7 days hold only 6 of the 40: below MIN_RESPONSES.
    assert Checks(app, clock=Clock(now)).falls() == 0
    assert set_fall(admin_client, "O1", fall_recent_days=2).status_code == 302
    # The last 2 days hold 4 of the 20 (and the baseline is 8 weeks again): too few.
    assert Checks(app, clock=Clock(now)).falls() == 0
    assert all_alerts(db, "fall") == []
    assert set_fall(admin_client, "O1").status_code == 302  # back to inherited numbers
    assert Checks(app, clock=Clock(now)).falls() == 1


def test_the_minimum_is_adjustable_both_ways(app, db, city, admin_client):
    now = MONDAY_9AM
    _ratings(db, now - timedelta(weeks=8, days=6), 40, 36, step=timedelta(days=1))  # 90 %
    _ratings(db, now - timedelta(days=6), 6, 0)  # 6 unhappy: fewer than MIN_RESPONSES (10)
    checks = Checks(app, clock=Clock(now))
    assert checks.falls() == 0
    assert set_fall(admin_client, "D1", fall_min_responses=5).status_code == 302  # the unit
    assert checks.falls() == 1
    [alert] = all_alerts(db, "fall")
    assert alert.figures["minimum"] == 5
    # The office asks for more than the unit: the fall no longer counts, and its episode ends.
    assert set_fall(admin_client, "O1", fall_min_responses=30).status_code == 302
    checks.clock.now += timedelta(hours=1)
    assert checks.falls() == 0
    assert all_alerts(db, "fall")[0].closed_at == checks.clock.now


def test_numbers_are_inherited_field_by_field(db, city, admin_client):
    set_fall(admin_client, "D1", fall_recent_days=3, fall_baseline_weeks=12, fall_min_responses=8)
    set_fall(admin_client, "O1", fall_baseline_weeks=4)
    found = alerts.rule_settings(db, city.office, "fall")
    assert (found.fall_recent_days, found.fall_baseline_weeks, found.fall_min_responses) == (
        3,
        4,
        8,
    )
    assert alerts.rule_settings_of_offices(db, "fall")[city.office.id] == found
    other = alerts.rule_settings(db, city.other_office, "fall")
    assert (other.fall_recent_days, other.fall_baseline_weeks, other.fall_min_responses) == (
        7,
        8,
        None,
    )


def test_offices_on_their_own_and_on_the_default_windows_in_one_check(app, db, city, admin_client):
    now = MONDAY_9AM
    for target in ("COUNTR1", "COUNTR2"):
        _ratings(
            db, now - timedelta(weeks=8, days=6), 40, 36, step=timedelta(days=1), target=target
        )
        _ratings(db, now - timedelta(days=6), 20, 10, target=target)
    # O1 looks back only 1 week before its last 7 days (6 ratings: too few); O2 keeps defaults.
    set_fall(admin_client, "O1", fall_baseline_weeks=1)
    assert Checks(app, clock=Clock(now)).falls() == 1
    [alert] = all_alerts(db, "fall")
    assert alert.office_id == city.other_office.id


@pytest.mark.parametrize(
    ("numbers", "field", "message"),
    [
        ({"fall_recent_days": "0"}, "fall_recent_days", "from 1 to 90"),
        ({"fall_recent_days": "91"}, "fall_recent_days", "from 1 to 90"),
        ({"fall_baseline_weeks": "105"}, "fall_baseline_weeks", "from 1 to 104"),
        ({"fall_min_responses": "0"}, "fall_min_responses", "from 1 to 100000"),
        ({"fall_baseline_weeks": "abc"}, "fall_baseline_weeks", "whole number"),
        ({"fall_min_responses": "99999999999"}, "fall_min_responses", "whole number"),
    ],
)
def test_numbers_out_of_range_are_form_errors(db, city, admin_client, numbers, field, message):
    answer = set_fall(admin_client, "O1", **numbers)
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    error = page.split(f'id="e-{field}">', 1)[1].split("<", 1)[0]
    assert message in error
    assert 'aria-invalid="true"' in page
    assert db.scalars(select(alerts.AlertRule)).all() == []
