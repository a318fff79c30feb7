"""The weekly digest: once a week per manager whatever the number of workers, their offices
against the week before, open alerts, and an unsubscribe link that works."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select

from kiosk.worker import Checks, Worker
from surveys.models import DigestOptOut, OutboxMessage
from surveys.responses import ResponseInput, submit_response
from tests.conftest import csrf_token

#: Monday 30 November 2026, 07:00 in Hanoi.
MONDAY_7AM = datetime(2026, 11, 30, 0, 0)


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def _ratings(db, start, count, positive, target="COUNTR1"):
    for i in range(count):
        answers = {"overall": "satisfied"} if i < positive else {"overall": "not_satisfied"}
        submit_response(
            db,
            ResponseInput(id=uuid.uuid4(), target_code=target, answers=answers),
            now=start + i * timedelta(hours=3),
        )
    db.commit()


def digests(db):
    db.expire_all()
    return db.scalars(
        select(OutboxMessage).where(OutboxMessage.payload["template"].as_string() == "digest")
    ).all()


def test_one_digest_per_manager_per_week_whatever_the_workers(app, db, city, make_user):
    make_user("quanly@example.vn", "manager", "O1")
    make_user("xem@example.vn", "viewer", "O1")
    assert Checks(app, clock=Clock(MONDAY_7AM)).weekly_digest() == 1
    assert Checks(app, clock=Clock(MONDAY_7AM + timedelta(seconds=5))).weekly_digest() == 0
    assert [m.payload["to"] for m in digests(db)] == ["quanly@example.vn"]
    assert Checks(app, clock=Clock(MONDAY_7AM + timedelta(days=7))).weekly_digest() == 1


def test_the_digest_compares_the_week_and_links_to_unsubscribe(
    mail_app, client, db, city, make_user, smtp
):
    make_user("quanly@example.vn", "manager", "D1")
    _ratings(db, MONDAY_7AM - timedelta(days=13), 40, 36)  # the week before: 90 %
    _ratings(db, MONDAY_7AM - timedelta(days=6), 40, 20)  # this week: 50 %
    Checks(mail_app, clock=Clock(MONDAY_7AM)).weekly_digest()
    assert Worker(mail_app, clock=Clock(MONDAY_7AM)).send_due() == 1
    [(recipients, message)] = smtp.messages
    assert recipients == ["quanly@example.vn"]
    assert message["Subject"] == "Hài Lòng: tình hình các điểm phục vụ trong tuần (2026-W49)"
    plain = message.get_body(("plain",)).get_content()
    assert "Bộ phận một cửa Quận Một: 50" in plain and "90" in plain
    assert "giảm rõ rệt" in plain
    assert "Quận Hai" not in plain  # not in this manager's scope
    link = re.search(r"http://kiosk\.test(/digest/unsubscribe/\S+)", plain).group(1)
    assert message["List-Unsubscribe"] == f"<http://kiosk.test{link}>"
    # Following the link changes nothing; the button does.
    page = client.get(link)
    assert page.status_code == 200 and db.scalars(select(DigestOptOut)).all() == []
    done = client.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert done.status_code == 200
    db.expire_all()
    assert len(db.scalars(select(DigestOptOut)).all()) == 1
    assert Checks(mail_app, clock=Clock(MONDAY_7AM + timedelta(days=7))).weekly_digest() == 0


def test_a_forged_unsubscribe_link_is_404(client, city):
    assert client.get("/digest/unsubscribe/1.forged").status_code == 404
    assert client.post("/digest/unsubscribe/1.forged").status_code in (400, 404)
