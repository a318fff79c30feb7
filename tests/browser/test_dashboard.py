"""The managers' pages in Chromium: usable on a 390 px phone (only wide tables scroll, inside
their box), charts that need no script, no CSP violation, and what axe-core finds."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

import pytest

from surveys.responses import ResponseInput, submit_response
from tests.browser.conftest import PHONE, axe_violations
from tests.conftest import PASSWORD

LAPTOP = {"viewport": {"width": 1280, "height": 900}, "has_touch": False, "is_mobile": False}


@pytest.fixture()
def rated_city(db, city, make_user):
    make_user(scope="ROOT")
    today = date.today()
    for offset in range(1, 29):
        moment = datetime.combine(today - timedelta(days=offset), time(3, 0))
        for i, (target, overall) in enumerate(
            [("COUNTR1", "very_satisfied")] * 6
            + [("OFFICR1", "satisfied")] * 3
            + [("COUNTR1", "not_satisfied"), ("COUNTR2", "satisfied")]
        ):
            answers = {"overall": overall}
            comment = None
            if overall == "not_satisfied":
                answers["reasons"] = ["waiting_time", "procedure"]
                comment = "Chờ lâu, gọi 0912345678"
            submit_response(
                db,
                ResponseInput(
                    id=uuid.uuid4(), target_code=target, answers=answers, comment=comment
                ),
                now=moment + timedelta(seconds=i),
            )
    db.commit()
    return city


def sign_in(page, live_server):
    page.goto(f"{live_server}/login")
    page.locator("#email").fill("manager@example.vn")
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("size", [PHONE, {**PHONE, "viewport": {"width": 800, "height": 1280}}])
def test_dashboard_pages_fit_the_screen(new_page, live_server, rated_city, size):
    page = new_page(**size)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    sign_in(page, live_server)
    width = size["viewport"]["width"]
    for path in (
        "/dashboard",
        "/dashboard/offices/O1",
        "/dashboard/officers/CB1",
        "/dashboard/comments",
        "/dashboard/offices/O1/report",
        "/dashboard/units/ROOT/report",
    ):
        page.goto(live_server + path, wait_until="networkidle")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        # The charts are server-drawn SVG and are there with scripts or without.
        assert page.locator("svg").count() > 0 or path == "/dashboard/comments", path
    page.goto(live_server + "/dashboard/offices/O1", wait_until="networkidle")
    # A chart's text alternative opens as a table.
    page.get_by_text("Xem số liệu dạng bảng").first.click()
    assert page.locator("figure details[open] table").count() == 1
    assert problems == []


def test_overview_sorts_by_a_column_without_script(new_page, live_server, rated_city):
    page = new_page(**LAPTOP, java_script_enabled=False, locale="vi-VN")
    sign_in(page, live_server)
    page.goto(live_server + "/dashboard", wait_until="networkidle")
    page.get_by_role("link", name="Lượt đánh giá").click()
    first = page.locator("table.offices tbody tr").first
    assert "Quận Một" in first.inner_text()
    page.get_by_role("link", name="Lượt đánh giá").click()  # again: lowest first
    assert "Quận Hai" in page.locator("table.offices tbody tr").first.inner_text()


def test_dashboard_pages_pass_axe(new_page, live_server, rated_city):
    page = new_page(**LAPTOP, locale="vi-VN")
    sign_in(page, live_server)
    for path in (
        "/dashboard",
        "/dashboard/offices/O1",
        "/dashboard/officers/CB1",
        "/dashboard/comments",
        "/dashboard/offices/O1/report",
    ):
        page.goto(live_server + path, wait_until="networkidle")
        assert axe_violations(page) == [], path
