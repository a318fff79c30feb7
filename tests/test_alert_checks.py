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


def _ratings(db, start, count, positive, *, step=timedelta(hours=2)):
    """Store ``count`` ratings from ``start``, one every ``step``, the first ``positive`` happy."""
    for i in range(count):
        answers = {"overall": "satisfied"} if i < positive else {"overall": "not_satisfied"}
        submit_response(
            db,
            ResponseInput(id=uuid.uuid4(), target_code="COUNTR1", answers=answers),
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
