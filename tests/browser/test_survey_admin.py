"""The survey pages in real Chromium: the kiosk preview of a draft runs the kiosk's own script
step by step and sends nothing, and every page of the survey administration is WCAG 2.2 AA
clean. Screenshots go to /tmp/shots/ for review (not the repo)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from surveys import accounts, survey_admin, survey_content
from surveys.db import utcnow
from surveys.models import Response
from tests.browser.conftest import axe_violations

ADMIN = "admin@example.vn"
PASSWORD = "correct horse battery"
SHOTS = Path("/tmp/shots")
DESKTOP = {"viewport": {"width": 1200, "height": 900}, "has_touch": False, "locale": "vi-VN"}


@pytest.fixture()
def draft(db, city):
    """An administrator and their copy of the quick survey, reworded, as a draft."""
    admin = accounts.create_user(db, ADMIN, PASSWORD, "admin")
    copy = survey_admin.copy_survey(
        db, admin, "quick", key="quick_o1", name_vi="Nhanh Q1", name_en="Quick D1", now=utcnow()
    )
    data = survey_content.draft_input(copy)
    overall = data.questions[0]
    data = survey_content.DraftInput(
        name_vi=data.name_vi,
        name_en=data.name_en,
        questions=(
            survey_content.QuestionInput(**{**overall.__dict__, "text_vi": "Câu hỏi đã sửa?"}),
            *data.questions[1:],
        ),
    )
    survey_admin.update_draft(db, admin, "quick_o1", 1, data, now=utcnow())
    db.commit()
    return copy


def sign_in(page: Page, live: str) -> None:
    page.goto(f"{live}/login", wait_until="networkidle")
    page.fill("input[name=email]", ADMIN)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"{live}/dashboard")


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_kiosk_preview_runs_the_kiosk_and_sends_nothing(live_server, page, db, draft):
    sign_in(page, live_server)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{live_server}/admin/surveys/quick_o1/1/preview/kiosk")
    expect(page.locator("#kiosk.js")).to_be_attached()
    expect(page.locator("fieldset.headline legend")).to_contain_text("Câu hỏi đã sửa?")
    assert axe_violations(page) == []
    shoot(page, "survey-preview-kiosk")
    page.locator("label.choice").filter(has=page.locator("input[value=not_satisfied]")).tap()
    expect(page.locator("fieldset[data-key=reasons]")).to_be_visible()
    page.locator("label.choice").filter(has=page.locator("input[value=waiting_time]")).tap()
    page.locator("button.send").tap()
    expect(page.locator("[data-key=comment]")).to_be_visible()
    page.locator("button.send").tap()
    expect(page.locator(".thanks-screen")).to_be_visible()
    assert not [url for url in requests if "/api/" in url]
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then(r => r.length)") == 0
    assert db.scalars(select(Response)).all() == []


def test_survey_pages_have_no_wcag_violations(live_server, new_page, db, draft):
    page = new_page(**DESKTOP)
    sign_in(page, live_server)
    for name, path in [
        ("survey-list", "/admin/surveys"),
        ("survey-quick", "/admin/surveys/quick"),
        ("survey-version", "/admin/surveys/quick_o1/1"),
        ("survey-edit", "/admin/surveys/quick_o1/1/edit"),
        ("survey-preview-phone", "/admin/surveys/quick_o1/1/preview/phone"),
    ]:
        page.goto(live_server + path, wait_until="networkidle")
        assert axe_violations(page) == [], path
        shoot(page, name)
    # The editor with its mistakes marked.
    page.goto(f"{live_server}/admin/surveys/quick_o1/1/edit", wait_until="networkidle")
    page.fill("#q-0-text_en", "")
    page.fill("#q-1-key", "Lý do")
    page.locator("form.survey-editor > button[type=submit]").click()
    expect(page.locator("#e-q-0-text_en")).to_be_visible()
    expect(page.locator("#e-q-1-key")).to_be_visible()
    assert axe_violations(page) == []
    shoot(page, "survey-edit-errors")
