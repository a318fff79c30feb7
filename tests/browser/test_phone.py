"""The phone survey in real Chromium at 390×844 (and 320 px): JavaScript off, page weight within
the 50 KB budget from the app's host only, axe-core clean on every page a citizen sees there,
tickets, and the printed poster's layout.

Every navigation waits for network idle: Chromium fetches the favicon after the load event, and
leaving the page earlier cuts that response off in the live server (a ResourceWarning there).
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from surveys import accounts
from surveys.db import utcnow
from surveys.models import Answer, Choice, Question, Response, Ticket
from surveys.targets import rotate_target
from surveys.tickets import MintRequest, mint_tickets
from tests.browser.conftest import PHONE, axe_violations, page_weight

#: The budget of the product brief: everything the phone page loads.
PAGE_BUDGET = 50_000
SHOTS = Path("/tmp/shots")


@pytest.fixture()
def live_server_config() -> dict:
    """Serve with the throttles on, as in production (limits high enough for a test)."""
    return {
        "RATELIMIT_ENABLED": True,
        "PHONE_RATE_LIMIT": "1000 per minute",
        "CODE_LOOKUP_RATE_LIMIT": "1000 per minute",
    }


def stored(db, at_least: int = 1, timeout: float = 10.0) -> list[Response]:
    deadline = time.monotonic() + timeout
    while True:
        db.commit()
        db.expire_all()
        found = db.scalars(select(Response)).all()
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def phone(new_page, **options) -> Page:
    return new_page(**{**PHONE, "java_script_enabled": False, **options})


def choice(page: Page, question: str, value: str):
    return page.locator(f"fieldset[data-key='{question}'] label.choice").filter(
        has=page.locator(f"input[value='{value}']")
    )


@pytest.fixture()
def tickets(db, city):
    """Mint two tickets for counter O1-Q1 through the domain, as the admin page would."""
    admin = accounts.create_user(db, "admin@example.vn", "correct horse battery", "admin")
    minted = mint_tickets(
        db,
        admin,
        MintRequest(office="O1", counter="O1-Q1", officer="CB1", count=2),
        now=utcnow(),
        ttl=timedelta(hours=72),
        max_count=500,
    )
    db.commit()
    return minted.codes


def test_weight_within_budget_from_the_app_host_only(new_page, live_server, city):
    page = phone(new_page)
    weight, hosts = page_weight(page, f"{live_server}/s/COUNTR1")
    assert hosts == {urlsplit(live_server).netloc}
    assert weight <= PAGE_BUDGET, f"the phone page loads {weight} bytes"
    # Also with JavaScript on (nothing more is loaded) and for the officer survey (longest).
    page = new_page(**PHONE)
    weight_js, hosts_js = page_weight(page, f"{live_server}/s/OFFICR1")
    assert hosts_js == {urlsplit(live_server).netloc} and weight_js <= PAGE_BUDGET
    print(f"\nphone page weight: COUNTR1 {weight} B (JS off), OFFICR1 {weight_js} B (JS on)")


def test_submit_with_javascript_off(new_page, live_server, db, city):
    page = phone(new_page)
    page.goto(f"{live_server}/s/COUNTR1", wait_until="networkidle")
    reasons = page.locator("fieldset[data-key='reasons']")
    expect(reasons).to_be_hidden()  # reasons only after a negative answer
    choice(page, "overall", "not_satisfied").tap()
    expect(reasons).to_be_visible()  # CSS :has(), no script
    choice(page, "reasons", "waiting_time").tap()
    page.locator("textarea[name='comment']").fill("Chờ hơi lâu")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "issue4-phone-js-off-negative.png"), full_page=True)
    page.locator("button.send").tap()
    page.wait_for_url(f"{live_server}/s/COUNTR1/thanks")
    page.wait_for_load_state("networkidle")
    expect(page.locator("section.thanks h1")).to_be_visible()
    (response,) = stored(db)
    assert response.channel == "qr" and response.headline_polarity == -1
    keys = db.execute(
        select(Question.key, Choice.key, Answer.text)
        .join(Question, Question.id == Answer.question_id)
        .outerjoin(Choice, Choice.id == Answer.choice_id)
        .where(Answer.response_id == response.id)
    ).all()
    assert sorted((q, c or t) for q, c, t in keys) == [
        ("comment", "Chờ hơi lâu"),
        ("overall", "not_satisfied"),
        ("reasons", "waiting_time"),
    ]


@pytest.mark.parametrize("width, height", [(320, 640), (390, 844), (430, 932)])
def test_fits_small_phones_with_large_targets(new_page, live_server, city, width, height):
    page = phone(new_page, viewport={"width": width, "height": height})
    page.goto(f"{live_server}/s/OFFICR1", wait_until="networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    targets = page.locator("label.choice:visible, button.choice, button.send, .langs a").all()
    assert len(targets) >= 6  # the five answers of the one-tap first step, a language
    for box in targets:
        size = box.bounding_box()
        assert size["height"] >= 48 and size["width"] >= 48


def test_language_switch_works_without_javascript(new_page, live_server, city):
    page = phone(new_page)
    page.goto(f"{live_server}/s/COUNTR1", wait_until="networkidle")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    page.locator(".langs a[lang='en']").tap()
    page.wait_for_load_state("networkidle")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("fieldset.headline legend")).to_contain_text("How satisfied")


def test_ticket_with_javascript_off(new_page, live_server, db, city, tickets):
    page = phone(new_page)
    page.goto(f"{live_server}/t/{tickets[0]}", wait_until="networkidle")
    choice(page, "overall", "very_satisfied").tap()
    page.locator("button.send").tap()
    page.wait_for_url(f"{live_server}/t/{tickets[0]}/thanks")
    page.wait_for_load_state("networkidle")
    (response,) = stored(db)
    assert response.is_verified and response.channel == "ticket"
    page.goto(f"{live_server}/t/{tickets[0]}", wait_until="networkidle")
    expect(page.locator("h1")).to_be_visible()


def _axe_clean(page: Page, url: str, expected_status: int) -> None:
    response = page.goto(url, wait_until="networkidle")
    assert response is not None and response.status == expected_status, url
    assert axe_violations(page) == [], url


def test_citizen_pages_have_no_axe_violations(new_page, live_server, db, city, tickets):
    used, expired = tickets
    # axe-core runs as page script, so this context has JavaScript on; the pages have none.
    page = new_page(**PHONE)
    # The survey, also in English and with the reasons open.
    _axe_clean(page, f"{live_server}/s/COUNTR1", 200)
    choice(page, "overall", "not_satisfied").tap()
    assert axe_violations(page) == []
    _axe_clean(page, f"{live_server}/s/OFFICR1?lang=en", 200)
    page.locator("button.choice[value='not_satisfied']").tap()
    page.wait_for_url(f"{live_server}/s/OFFICR1/more")
    page.wait_for_load_state("networkidle")
    assert axe_violations(page) == []  # the optional second step, in English
    _axe_clean(page, f"{live_server}/s/COUNTR1/thanks", 200)
    _axe_clean(page, f"{live_server}/s", 200)
    _axe_clean(page, f"{live_server}/s?code=NOPE999", 404)
    _axe_clean(page, f"{live_server}/t/{used}", 200)
    _axe_clean(page, f"{live_server}/t/{used}/thanks", 200)
    db.execute(update(Ticket).where(Ticket.code == used).values(used_at=utcnow()))
    db.execute(
        update(Ticket).where(Ticket.code == expired).values(expires_at=utcnow() - timedelta(1))
    )
    db.commit()
    _axe_clean(page, f"{live_server}/t/{used}", 409)
    _axe_clean(page, f"{live_server}/t/{expired}", 410)
    _axe_clean(page, f"{live_server}/t/ABCDEFGHJK", 404)
    admin = db.scalar(select(accounts.User))
    rotate_target(db, admin, "COUNTR1", now=utcnow())
    db.commit()
    _axe_clean(page, f"{live_server}/s/COUNTR1", 410)
    expect(page.locator("h1")).to_be_visible()


def test_already_answered_page_is_accessible(new_page, live_server, city):
    page = new_page(**PHONE)
    page.goto(f"{live_server}/s/COUNTR1", wait_until="networkidle")
    choice(page, "overall", "satisfied").tap()
    page.locator("button.send").tap()
    page.wait_for_url(f"{live_server}/s/COUNTR1/thanks")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server}/s/COUNTR1", wait_until="networkidle")
    expect(page.locator("form.survey")).to_have_count(0)  # one answer per phone per window
    assert axe_violations(page) == []


def test_poster_prints_on_one_a4_page(new_page, live_server, city):
    page = new_page(viewport={"width": 1000, "height": 1300})
    for url in ("/s/COUNTR1/poster", "/s/OFFICR1/poster?size=a5"):
        page.goto(live_server + url, wait_until="networkidle")
        assert axe_violations(page) == []
        page.emulate_media(media="print")
        pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
        assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1, f"{url}: not one page"
        sheet = page.locator("article.sheet").bounding_box()
        # 210 × 297 mm at 96 px per inch.
        assert abs(sheet["width"] - 793.7) < 2 and abs(sheet["height"] - 1122.5) < 2
        page.emulate_media(media="screen")


def test_badge_and_ticket_sheets_print_one_a4_page_per_sheet(new_page, live_server, db, city):
    accounts.create_user(db, "admin@example.vn", "correct horse battery", "admin")
    db.commit()
    page = new_page(viewport={"width": 1000, "height": 1300})
    page.goto(f"{live_server}/login", wait_until="networkidle")
    page.fill("input[name=email]", "admin@example.vn")
    page.fill("input[name=password]", "correct horse battery")
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"{live_server}/dashboard")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server}/admin/codes/offices/O1/tickets", wait_until="networkidle")
    page.fill("#count", "30")
    page.locator("form.mint button[type=submit]").click()
    page.wait_for_url("**/tickets/print?at=*")
    page.wait_for_load_state("networkidle")
    expect(page.locator("section.slip")).to_have_count(30)
    assert axe_violations(page) == []
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 2  # 21 + 9 slips
    page.emulate_media(media="screen")
    page.goto(f"{live_server}/admin/codes/offices/O1/badges", wait_until="networkidle")
    expect(page.locator("section.card")).to_have_count(1)
    assert axe_violations(page) == []
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1
    card = page.locator("section.card").bounding_box()
    # 85.6 × 54 mm at 96 px per inch.
    assert abs(card["width"] - 323.5) < 2 and abs(card["height"] - 204.1) < 2


def officer_answers(db, response: Response) -> list[tuple[str, str]]:
    rows = db.execute(
        select(Question.key, Choice.key, Answer.text)
        .join(Question, Question.id == Answer.question_id)
        .outerjoin(Choice, Choice.id == Answer.choice_id)
        .where(Answer.response_id == response.id)
    ).all()
    return sorted((q, c or t) for q, c, t in rows)


def test_officer_survey_in_two_steps_with_javascript_off(new_page, live_server, db, city):
    """Headline first, one tap, stored at once; the conduct values as an optional step."""
    page = phone(new_page)
    page.goto(f"{live_server}/s/OFFICR1", wait_until="networkidle")
    first_height = page.evaluate("document.documentElement.scrollHeight")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "issue12-phone-step-1.png"), full_page=True)
    expect(page.locator("button.choice")).to_have_count(5)
    expect(page.locator("fieldset[data-key='discipline']")).to_have_count(0)

    page.locator("button.choice[value='satisfied']").tap()

    page.wait_for_url(f"{live_server}/s/OFFICR1/more")
    page.wait_for_load_state("networkidle")
    # Stored after the first step: a citizen who stops here has rated.
    (response,) = stored(db)
    assert response.channel == "qr" and response.headline_polarity == 1
    assert officer_answers(db, response) == [("overall", "satisfied")]
    expect(page.locator("section.thanks h1")).to_be_visible()
    second_height = page.evaluate("document.documentElement.scrollHeight")
    page.screenshot(path=str(SHOTS / "issue12-phone-step-2.png"), full_page=True)
    print(f"\nofficer survey at 390x844: step 1 {first_height} px, step 2 {second_height} px")
    # The one-tap step fits the phone's screen; the whole survey was about 2,500 px.
    assert first_height <= 844

    choice(page, "discipline", "very_satisfied").tap()
    choice(page, "friendliness", "satisfied").tap()
    page.locator("textarea[name='comment']").fill("Cán bộ hướng dẫn tận tình")
    page.locator("button.send").tap()

    page.wait_for_url(f"{live_server}/s/OFFICR1/thanks")
    page.wait_for_load_state("networkidle")
    db.expire_all()
    (same,) = stored(db)
    assert same.id == response.id
    assert officer_answers(db, same) == [
        ("comment", "Cán bộ hướng dẫn tận tình"),
        ("discipline", "very_satisfied"),
        ("friendliness", "satisfied"),
        ("overall", "satisfied"),
    ]


def test_officer_survey_done_after_one_tap(new_page, live_server, db, city):
    page = phone(new_page)
    page.goto(f"{live_server}/s/OFFICR1", wait_until="networkidle")
    page.locator("button.choice[value='very_dissatisfied']").tap()
    page.wait_for_url(f"{live_server}/s/OFFICR1/more")
    page.wait_for_load_state("networkidle")
    expect(page.locator("fieldset[data-key='reasons']")).to_be_visible()

    page.locator(".finish a").tap()

    page.wait_for_url(f"{live_server}/s/OFFICR1/thanks")
    page.wait_for_load_state("networkidle")
    (response,) = stored(db)
    assert response.headline_polarity == -1
    assert officer_answers(db, response) == [("overall", "very_dissatisfied")]


def test_an_unhappy_citizen_asks_for_a_call_back_without_javascript(
    new_page, live_server, db, city
):
    """The thank-you after an unhappy rating offers a call-back: a plain form, axe-clean, within
    the page budget, that opens a case; the office's public page is one tap away."""
    from surveys.models import CallbackCase

    # axe-core runs as page script, so this context has JavaScript on; the pages have none.
    page = new_page(**PHONE)
    page.goto(f"{live_server}/s/COUNTR1", wait_until="networkidle")
    choice(page, "overall", "not_satisfied").tap()
    choice(page, "reasons", "attitude").tap()
    page.locator("button.send").tap()
    page.wait_for_url(f"{live_server}/s/COUNTR1/thanks")
    page.wait_for_load_state("networkidle")
    offer = page.locator("section.callback")
    expect(offer.locator("h2")).to_have_text("Ông/Bà có muốn được liên hệ lại không?")
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "issue10-phone-callback-offer.png"), full_page=True)
    total, hosts = page_weight(page, page.url)
    assert total <= PAGE_BUDGET and hosts == {urlsplit(live_server).netloc}

    page.locator("#callback-phone").fill("0912 345 678")
    offer.locator("button[type=submit]").tap()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#callback-consent-error")).to_be_visible()
    assert axe_violations(page) == []
    page.screenshot(path=str(SHOTS / "issue10-phone-callback-error.png"), full_page=True)
    expect(page.locator("#callback-phone")).to_have_value("0912 345 678")
    page.locator("section.callback .consent").tap()
    page.locator("section.callback button[type=submit]").tap()
    page.wait_for_load_state("networkidle")

    expect(page.locator(".flash")).to_contain_text("trong 3 ngày làm việc")
    expect(page.locator("section.callback")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "issue10-phone-callback-done.png"), full_page=True)
    db.expire_all()
    [case] = db.scalars(select(CallbackCase)).all()
    assert case.contact == "0912 345 678" and case.status == "open"

    page.locator(".public-link a").tap()
    page.wait_for_url(f"{live_server}/p/O1")
    page.wait_for_load_state("networkidle")
