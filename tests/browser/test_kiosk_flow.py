"""The counter kiosk in real Chromium at 800×1280 with touch: pair a tablet, tap a rating,
see it counted; a negative rating's follow-up steps; an unpaired tablet; the reset for the
next citizen. Screenshots of each screen go to /tmp/shots/ for review (not the repo)."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from surveys.models import Answer, Choice, KioskDevice, Question, Response
from tests.browser.conftest import THANKS_SECONDS
from tests.conftest import pairing_secret

SHOTS = Path("/tmp/shots")
#: How long the database may take to see a rating the tablet has queued.
RECORD_TIMEOUT = 10.0


@pytest.fixture()
def shot():
    """Save a screenshot of the page as /tmp/shots/NAME.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = SHOTS / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return take


def pair_kiosk(page: Page, live: str, db, shot=None) -> None:
    """Pair this browser with counter O1-Q1 through a one-time link, as staff would."""
    secret = pairing_secret(db)
    db.commit()
    response = page.goto(f"{live}/kiosk/pair/{secret}")
    assert response is not None and response.status == 200
    if shot:
        shot(page, "kiosk-0-pair")
    page.locator("form[method=post] button.button").tap()
    page.wait_for_url(f"{live}/kiosk")
    expect(page.locator("#kiosk.js")).to_be_attached()


def choice(page: Page, question: str, value: str) -> Locator:
    """The tappable label of one choice."""
    return page.locator(f"fieldset[data-key='{question}'] label.choice").filter(
        has=page.locator(f"input[value='{value}']")
    )


def headline(page: Page) -> Locator:
    return page.locator("fieldset.question.headline")


def stored_responses(db, at_least: int = 1) -> list[Response]:
    """Poll the database until ``at_least`` responses exist (or the time runs out)."""
    deadline = time.monotonic() + RECORD_TIMEOUT
    while True:
        db.commit()  # end any read transaction, so the next query sees the server's commits
        db.expire_all()
        found = db.scalars(select(Response)).all()
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def answer_keys(db, response: Response) -> dict[str, list[str]]:
    """Return {question key: [choice keys]} of a stored response (text answers under 'text:')."""
    rows = db.execute(
        select(Question.key, Choice.key, Answer.text)
        .join(Question, Question.id == Answer.question_id)
        .outerjoin(Choice, Choice.id == Answer.choice_id)
        .where(Answer.response_id == response.id)
    ).all()
    keys: dict[str, list[str]] = {}
    for question_key, choice_key, text in rows:
        keys.setdefault(question_key, []).append(choice_key if choice_key else f"text:{text}")
    return {k: sorted(v) for k, v in keys.items()}


#: Counts the tablet's outbox: IndexedDB's stores and the localStorage fallback (never
#: creating the database, which the kiosk's own upgrade must do).
QUEUE_COUNTS = """async () => {
  const stored = (key) => JSON.parse(localStorage.getItem(key) || '[]').length;
  const counts = {outbox: 0, rejected: stored('hailong.rejected'), local: stored('hailong.outbox')};
  if (!(await indexedDB.databases()).some((d) => d.name === 'hailong')) return counts;
  const db = await new Promise((ok, fail) => {
    const r = indexedDB.open('hailong');
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
  for (const store of ['outbox', 'rejected']) {
    counts[store] += await new Promise((ok, fail) => {
      const r = db.transaction(store).objectStore(store).count();
      r.onsuccess = () => ok(r.result);
      r.onerror = () => fail(r.error);
    });
  }
  db.close();
  return counts;
}"""


def queue_counts(page: Page) -> dict[str, int]:
    """Return {"outbox", "rejected", "local"}: ratings waiting, refused, in localStorage."""
    return page.evaluate(QUEUE_COUNTS)


def wait_for_queue(page: Page, outbox: int, timeout: float = 10.0) -> dict[str, int]:
    """Poll the tablet's outbox until it holds ``outbox`` ratings; return the last counts."""
    deadline = time.monotonic() + timeout
    while True:
        counts = queue_counts(page)
        if counts["outbox"] + counts["local"] == outbox or time.monotonic() > deadline:
            return counts
        time.sleep(0.1)


def outbox_is_empty(page: Page) -> None:
    """Wait until the tablet has had its queued ratings acknowledged, and none was rejected."""
    assert wait_for_queue(page, 0) == {"outbox": 0, "rejected": 0, "local": 0}


def expect_reset(page: Page) -> None:
    """After the thank-you, the first question is back, with nothing chosen."""
    expect(page.locator(".thanks-screen")).to_be_hidden()
    expect(headline(page)).to_be_visible()
    expect(page.locator("#kiosk input:checked")).to_have_count(0)
    expect(page.locator("fieldset[data-key='reasons']")).to_be_hidden()
    expect(page.locator("[data-key='comment']")).to_be_hidden()
    expect(page.locator("#kiosk textarea")).to_have_value("")


def next_citizen(page: Page, *, unhappy: bool = False) -> None:
    """Let the thank-you screen run its time on the tablet's clock; expect the reset. After an
    unhappy rating it may offer a call-back, for two and a half thank-yous."""
    expect(page.locator(".thanks-screen")).to_be_visible()
    page.clock.run_for(THANKS_SECONDS * (2500 if unhappy else 1000))
    expect_reset(page)


def advance_until(page: Page, done: Callable[[], bool], within_ms: int, step_ms: int = 250) -> None:
    """Move the tablet's clock on a step at a time until ``done()``, which must come within
    ``within_ms`` of the tablet's time: for what the kiosk starts on a timer (a retry after its
    backoff). ``done`` should look for the start (a request sent), not for a round trip the
    clock would keep running through."""
    advanced = 0
    while not done():
        assert advanced < within_ms, f"not done within {within_ms} ms on the tablet's clock"
        page.clock.run_for(step_ms)
        advanced += step_ms


def get_json(url: str, token: str) -> dict:
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return json.load(response)


def test_pair_a_kiosk_tap_a_rating_see_it_counted(live_server, page, db, city, make_token, shot):
    pair_kiosk(page, live_server, db, shot)
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(headline(page)).to_be_visible()
    expect(page.locator("fieldset[data-key='reasons']")).to_be_hidden()
    expect(page.locator(".kiosk .actions")).to_be_hidden()
    expect(page.locator(".thanks-screen")).to_be_hidden()
    shot(page, "kiosk-1-start")

    choice(page, "overall", "very_satisfied").tap()

    thanks = page.locator(".thanks-screen")
    expect(thanks).to_be_visible()
    # The thank-you comes at once and offers a comment; the rating is on the tablet already,
    # held back while the citizen may still add to it.
    expect(thanks.locator(".add-comment")).to_be_visible()
    shot(page, "kiosk-4-thanks")
    expect(headline(page)).to_be_hidden()
    assert wait_for_queue(page, 1)["outbox"] == 1
    assert stored_responses(db, at_least=0) == []

    # Nothing more from the citizen: the thank-you runs its time and the rating is sent.
    page.clock.run_for(THANKS_SECONDS * 1000)
    expect_reset(page)
    found = stored_responses(db)
    assert len(found) == 1
    response = found[0]
    assert response.channel == "kiosk" and response.headline_polarity == 1
    assert response.counter_id == city.counter.id and response.office_id == city.office.id
    device = db.get(KioskDevice, response.device_id)
    assert device is not None and device.counter_id == city.counter.id
    assert answer_keys(db, response) == {"overall": ["very_satisfied"]}
    outbox_is_empty(page)

    token = make_token(scope="O1")
    summary = get_json(f"{live_server}/api/v1/offices/O1/summary", token)
    assert summary["office"] == "O1"
    assert summary["responses"] == 1
    shot(page, "kiosk-5-after-reset")


def test_negative_rating_asks_reasons_then_comment(live_server, page, db, city, shot):
    pair_kiosk(page, live_server, db)

    choice(page, "overall", "not_satisfied").tap()

    reasons = page.locator("fieldset[data-key='reasons']")
    expect(reasons).to_be_visible()
    expect(headline(page)).to_be_hidden()
    expect(page.locator(".thanks-screen")).to_be_hidden()
    actions = page.locator(".kiosk .actions")
    expect(actions.locator(".send")).to_be_visible()
    for reason in ("attitude", "waiting_time"):
        label = choice(page, "reasons", reason)
        label.tap()
        expect(label.locator("input")).to_be_checked()
    shot(page, "kiosk-2-reasons")

    actions.locator(".send").tap()

    comment = page.locator("[data-key='comment']")
    expect(comment).to_be_visible()
    skip = actions.locator(".skip-step")
    expect(skip).to_be_visible()
    shot(page, "kiosk-3-comment")

    skip.tap()

    expect(page.locator(".thanks-screen")).to_be_visible()
    # An unhappy rating's thank-you offers a call-back (tests/browser/test_kiosk_callback.py)
    # for two and a half thank-yous, holding the rating meanwhile; unanswered, it starts over.
    expect(page.locator(".thanks-screen .callback-yes")).to_be_visible()
    shot(page, "kiosk-4-callback-offer")
    page.clock.run_for(THANKS_SECONDS * 1000)
    expect(page.locator(".thanks-screen .callback-yes")).to_be_visible()
    page.clock.run_for(THANKS_SECONDS * 1500)
    expect_reset(page)
    found = stored_responses(db)
    assert len(found) == 1
    response = found[0]
    assert response.channel == "kiosk" and response.headline_polarity == -1
    assert answer_keys(db, response) == {
        "overall": ["not_satisfied"],
        "reasons": ["attitude", "waiting_time"],
    }
    comments = db.scalars(
        select(Answer).where(Answer.response_id == response.id, Answer.text.is_not(None))
    ).all()
    assert comments == []
    outbox_is_empty(page)


def test_unpaired_tablet_shows_not_connected(live_server, new_page, city, shot):
    page = new_page()
    errors: list[str] = []
    failed: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))

    response = page.goto(f"{live_server}/kiosk", wait_until="networkidle")

    assert response is not None and response.status == 200
    expect(page.locator(".unpaired")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Kết nối máy tính bảng với quầy")
    expect(page.locator("#kiosk")).to_have_count(0)
    shot(page, "kiosk-6-unpaired")
    # Nothing the tablet's console would report as an error: no 403, no missing favicon.
    assert errors == [] and failed == []
    fetched = page.evaluate(
        "fetch('/favicon.ico').then(async (r) => [r.status, (await r.arrayBuffer()).byteLength])"
    )
    assert fetched[0] == 200 and fetched[1] > 1000


def test_skip_is_offered_only_on_the_comment_step(live_server, page, db, city):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    pair_kiosk(page, live_server, db)

    choice(page, "overall", "not_satisfied").tap()

    expect(page.locator("fieldset[data-key='reasons']")).to_be_visible()
    expect(page.locator(".kiosk .actions .skip-step")).to_be_hidden(timeout=1000)
    assert errors == []


def test_comment_step_shows_only_the_comment(live_server, page, db, city):
    pair_kiosk(page, live_server, db)
    choice(page, "overall", "not_satisfied").tap()
    choice(page, "reasons", "attitude").tap()

    page.locator(".kiosk .actions .send").tap()

    expect(page.locator("[data-key='comment']")).to_be_visible()
    expect(page.locator("fieldset[data-key='reasons']")).to_be_hidden(timeout=1000)


def test_kiosk_screens_have_no_wcag_violations(live_server, page, db, city):
    from tests.browser.conftest import axe_violations

    pair_kiosk(page, live_server, db)
    assert axe_violations(page) == []
    choice(page, "overall", "not_satisfied").tap()
    expect(page.locator("fieldset[data-key='reasons']")).to_be_visible()
    assert axe_violations(page) == []


def text_answers(db, response: Response) -> list[str]:
    return db.scalars(
        select(Answer.text).where(Answer.response_id == response.id, Answer.text.is_not(None))
    ).all()


def test_praise_can_carry_a_comment(live_server, page, db, city, shot):
    """After a positive answer the thank-you comes at once and offers the comment; the rating
    was stored on the tablet at that first tap, and the comment is added to the same rating."""
    pair_kiosk(page, live_server, db)

    choice(page, "overall", "very_satisfied").tap()

    thanks = page.locator(".thanks-screen")
    expect(thanks).to_be_visible()
    assert wait_for_queue(page, 1)["outbox"] == 1  # stored at the first tap
    thanks.locator(".add-comment").tap()

    comment = page.locator("[data-key='comment']")
    expect(comment).to_be_visible()
    expect(thanks).to_be_hidden()
    actions = page.locator(".kiosk .actions")
    expect(actions.locator(".skip-step")).to_be_visible()
    expect(actions.locator(".send")).to_be_visible()
    expect(actions.locator(".back")).to_be_hidden()
    shot(page, "kiosk-4b-comment-after-praise")
    comment.locator("textarea").fill("Cán bộ hướng dẫn rất tận tình, cảm ơn!")
    actions.locator(".send").tap()

    expect(thanks).to_be_visible()
    expect(thanks.locator(".add-comment")).to_be_hidden()
    found = stored_responses(db)
    assert len(found) == 1 and found[0].headline_polarity == 1
    assert answer_keys(db, found[0])["overall"] == ["very_satisfied"]
    assert text_answers(db, found[0]) == ["Cán bộ hướng dẫn rất tận tình, cảm ơn!"]
    outbox_is_empty(page)
    next_citizen(page)
    expect(thanks.locator(".add-comment")).to_be_hidden()


def test_the_comment_is_skipped_in_one_tap(live_server, page, db, city):
    pair_kiosk(page, live_server, db)
    choice(page, "overall", "satisfied").tap()
    page.locator(".thanks-screen .add-comment").tap()
    page.locator("[data-key='comment'] textarea").fill("không gửi")

    page.locator(".kiosk .actions .skip-step").tap()

    expect(page.locator(".thanks-screen")).to_be_visible()
    found = stored_responses(db)
    assert len(found) == 1 and text_answers(db, found[0]) == []
    next_citizen(page)


def test_a_rating_held_for_its_comment_survives_a_reload(live_server, page, db, city):
    """The tab dies while the citizen writes: the rating of the first tap is sent on reload."""
    pair_kiosk(page, live_server, db)
    choice(page, "overall", "very_satisfied").tap()
    page.locator(".thanks-screen .add-comment").tap()
    page.locator("[data-key='comment'] textarea").fill("unfinished")

    page.reload()

    expect(page.locator("#kiosk.js")).to_be_attached()
    found = stored_responses(db)
    assert len(found) == 1 and found[0].headline_polarity == 1
    assert text_answers(db, found[0]) == []
    outbox_is_empty(page)
