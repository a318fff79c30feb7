"""The public office pages in Chromium: axe-core clean, within 50 KB, no other host."""

from __future__ import annotations

import uuid
from datetime import timedelta

from kiosk import public_cache
from surveys.db import utcnow
from surveys.responses import ResponseInput, submit_response
from tests.browser.conftest import PHONE, axe_violations, page_weight


def test_public_pages_are_light_and_accessible(new_page, live_server, db, city):
    start = utcnow() - timedelta(hours=5)
    for i in range(14):
        answers = (
            {"overall": "satisfied"}
            if i < 4
            else {"overall": "not_satisfied", "reasons": ["waiting_time"]}
        )
        submit_response(
            db,
            ResponseInput(id=uuid.uuid4(), target_code="COUNTR1", answers=answers),
            now=start + i * timedelta(minutes=20),
        )
    db.commit()
    public_cache.clear()
    page = new_page(**PHONE, java_script_enabled=True)
    for path in ("/p", "/p/O1", "/p/O1?lang=en"):
        weight, hosts = page_weight(page, f"{live_server}{path}")
        assert weight <= 50 * 1024, path
        assert len(hosts) == 1, hosts
        assert axe_violations(page) == [], path
    public_cache.clear()
