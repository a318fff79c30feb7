"""Never lose a rating: the kiosk's durable outbox, its sender and its service worker, in real
Chromium. Ratings made offline, across an offline reload, through a failing server, on a
revoked tablet, or left by the previous version's localStorage outbox all reach the server
exactly once, or stay on the tablet."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, Request, Route, expect
from sqlalchemy import select

import kiosk.views.kiosk_shell
import surveys.db
from surveys.models import KioskDevice
from tests.browser.test_kiosk_flow import (
    advance_until,
    answer_keys,
    choice,
    next_citizen,
    outbox_is_empty,
    pair_kiosk,
    queue_counts,
    stored_responses,
    wait_for_queue,
)

RESPONSES = "**/api/v1/responses"
HEARTBEAT = "**/api/v1/kiosk/heartbeat"
#: The heartbeat interval of the tests about the heartbeat (a minute in production).
HEARTBEAT_SECONDS = 1
#: The longest the sender waits before it tries again (link.js MAX_DELAY_MS).
MAX_RETRY_DELAY_MS = 60_000


@pytest.fixture()
def live_server_config() -> dict:
    return {"KIOSK_MIN_INTERVAL_SECONDS": 0}


def rate(page: Page, value: str = "very_satisfied") -> None:
    """One citizen's positive rating, through to the reset for the next one."""
    choice(page, "overall", value).tap()
    next_citizen(page)


def rate_negative(page: Page, comment: str) -> None:
    choice(page, "overall", "not_satisfied").tap()
    choice(page, "reasons", "waiting_time").tap()
    page.locator(".kiosk .actions .send").tap()
    page.locator("[data-key='comment'] textarea").fill(comment)
    page.locator(".kiosk .actions .send").tap()
    next_citizen(page, unhappy=True)


def wait_for_service_worker(page: Page) -> None:
    """Wait until the service worker controls the page (it has cached the shell by then)."""
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=10_000)


@pytest.fixture()
def posted(page) -> list[Request]:
    """Every rating the tablet posts, whatever becomes of it."""
    requests: list[Request] = []

    def on_request(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/api/v1/responses"):
            requests.append(request)

    page.on("request", on_request)
    return requests


def count_once_answered(db, posted: list[Request]) -> list:
    """The stored responses once every rating the tablet posted has had its answer (or failed):
    with the outbox empty nothing is sent any more, so no late duplicate is still on its way."""
    for request in posted:
        request.response()  # waits for it
    return stored_responses(db, at_least=0)


def beat(page: Page, beats: int = 1) -> None:
    """Let the heartbeat fire (every HEARTBEAT_SECONDS) and wait for each answer."""
    for _ in range(beats):
        with page.expect_response(HEARTBEAT):
            page.clock.run_for(HEARTBEAT_SECONDS * 1000)


def device_record(db) -> KioskDevice | None:
    db.commit()  # end any read transaction, so the next query sees the server's commits
    db.expire_all()
    return db.scalar(select(KioskDevice))


def test_ratings_made_offline_arrive_exactly_once(live_server, page, db, city, posted):
    pair_kiosk(page, live_server, db)
    page.context.set_offline(True)

    rate(page, "very_satisfied")
    rate(page, "satisfied")
    rate_negative(page, "Phải chờ 2 tiếng")

    assert wait_for_queue(page, 3)["outbox"] == 3
    expect(page.locator(".kiosk-foot .status")).to_have_attribute("data-state", "waiting")
    expect(page.locator(".kiosk-foot .when-waiting")).to_contain_text("3")
    assert stored_responses(db, at_least=0) == []

    page.context.set_offline(False)

    found = stored_responses(db, at_least=3)
    outbox_is_empty(page)
    expect(page.locator(".kiosk-foot .status")).to_have_attribute("data-state", "online")
    found = count_once_answered(db, posted)
    assert len(found) == 3, "each rating arrives once"
    assert sorted(answer_keys(db, r)["overall"][0] for r in found) == [
        "not_satisfied",
        "satisfied",
        "very_satisfied",
    ]
    negative = next(r for r in found if r.headline_polarity == -1)
    assert answer_keys(db, negative) == {
        "overall": ["not_satisfied"],
        "reasons": ["waiting_time"],
        "comment": ["text:Phải chờ 2 tiếng"],
    }
    # submitted_at is when the citizen tapped, not when the tablet came back online.
    assert all(r.submitted_at <= r.received_at for r in found)


def test_a_reload_while_offline_keeps_and_later_delivers_the_queue(
    live_server, page, db, city, posted
):
    pair_kiosk(page, live_server, db)
    wait_for_service_worker(page)
    page.context.set_offline(True)
    rate(page)

    page.reload()  # served by the service worker from its cache

    expect(page.locator("#kiosk.js")).to_be_attached()
    expect(page.locator("fieldset.question.headline")).to_be_visible()
    assert wait_for_queue(page, 1)["outbox"] == 1
    rate(page, "satisfied")  # the reloaded kiosk still takes ratings offline
    assert wait_for_queue(page, 2)["outbox"] == 2
    assert stored_responses(db, at_least=0) == []

    page.context.set_offline(False)

    assert len(stored_responses(db, at_least=2)) == 2
    outbox_is_empty(page)
    assert len(count_once_answered(db, posted)) == 2


def test_a_failing_server_then_recovering_gets_everything_once(live_server, page, db, city, posted):
    pair_kiosk(page, live_server, db)
    failures: list[str] = []

    def fail(route: Route) -> None:
        # Alternately an error page and a request that never gets an answer.
        if len(failures) % 2 == 0:
            failures.append("500")
            route.fulfill(status=500, content_type="text/html", body="<h1>Internal error</h1>")
        else:
            failures.append("timeout")
            route.abort("timedout")

    page.route(RESPONSES, fail)
    rate(page, "very_satisfied")
    rate(page, "satisfied")
    # Retries with backoff (1 s, 2 s, 4 s... on the tablet's clock): at least three attempts
    # fail while the server is down, well before the heartbeat (a minute) would try again.
    advance_until(page, lambda: len(failures) >= 3, within_ms=30_000)
    assert len(failures) >= 3, failures
    assert wait_for_queue(page, 2)["outbox"] == 2
    expect(page.locator(".kiosk-foot .status")).to_have_attribute("data-state", "waiting")

    page.unroute(RESPONSES)

    # The next attempt, however long the backoff has grown, delivers both.
    attempts = len(posted)
    advance_until(page, lambda: len(posted) > attempts, within_ms=MAX_RETRY_DELAY_MS * 5 // 4)
    assert len(stored_responses(db, at_least=2)) == 2
    outbox_is_empty(page)
    assert len(count_once_answered(db, posted)) == 2


def test_a_lost_acknowledgement_is_replayed_safely(live_server, page, db, city, posted):
    """The server stores the rating but its answer never reaches the tablet: the replay of
    the same id is acknowledged without storing it twice."""
    pair_kiosk(page, live_server, db)
    lost: list[int] = []

    def store_then_drop(route: Route) -> None:
        response = route.fetch()
        lost.append(response.status)
        route.abort("connectionreset")

    page.route(RESPONSES, store_then_drop, times=1)
    with page.expect_event("requestfailed", lambda request: request.url.endswith("/responses")):
        rate(page)
    assert lost == [201]
    assert len(stored_responses(db)) == 1

    # The retry after the backoff (a second or so on the tablet's clock) is acknowledged.
    advance_until(page, lambda: len(posted) == 2, within_ms=10_000)
    outbox_is_empty(page)
    assert len(count_once_answered(db, posted)) == 1


class TestRevokedTablet:
    @pytest.fixture()
    def live_server_config(self) -> dict:
        return {"KIOSK_MIN_INTERVAL_SECONDS": 0, "KIOSK_HEARTBEAT_SECONDS": HEARTBEAT_SECONDS}

    def revoke(self, db) -> None:
        device = db.scalar(select(KioskDevice))
        assert device is not None
        device.revoke(surveys.db.utcnow())
        db.commit()

    def test_a_rating_posted_after_revocation_stays_queued(self, live_server, page, db, city):
        pair_kiosk(page, live_server, db)
        page.context.set_offline(True)
        rate(page)
        self.revoke(db)

        page.context.set_offline(False)  # the post gets a 401

        not_connected = page.locator(".not-connected")
        expect(not_connected).to_be_visible()
        expect(page.locator("fieldset.question.headline")).to_be_hidden()
        expect(not_connected.locator(".queue-count")).to_have_text("1")
        beat(page, 3)  # heartbeats (answered 401) and any retry meanwhile drop nothing
        assert queue_counts(page) == {"outbox": 1, "rejected": 0, "local": 0}
        assert stored_responses(db, at_least=0) == []

    def test_the_heartbeat_finds_out_with_an_empty_queue(self, live_server, page, db, city):
        with page.expect_response(HEARTBEAT):  # the first heartbeat, before the revocation
            pair_kiosk(page, live_server, db)
        self.revoke(db)
        expect(page.locator(".not-connected")).to_be_hidden()

        beat(page)

        expect(page.locator(".not-connected")).to_be_visible()
        with page.expect_response(HEARTBEAT) as answer:
            page.locator(".not-connected .retry").tap()
        assert answer.value.status == 401
        expect(page.locator(".not-connected")).to_be_visible()

    def test_re_pairing_the_browser_delivers_what_was_kept(self, live_server, page, db, city):
        pair_kiosk(page, live_server, db)
        page.context.set_offline(True)
        rate(page)
        self.revoke(db)
        page.context.set_offline(False)
        expect(page.locator(".not-connected")).to_be_visible()

        pair_kiosk(page, live_server, db)  # staff open a new pairing link

        found = stored_responses(db)
        assert len(found) == 1
        outbox_is_empty(page)


def test_the_old_local_storage_outbox_moves_into_indexeddb_and_is_sent(live_server, page, db, city):
    """Ratings queued by version 0.1 (localStorage "hailong.outbox") are not lost."""
    pair_kiosk(page, live_server, db)
    wait_for_service_worker(page)
    page.context.set_offline(True)
    old = {
        "payload": {
            "id": str(uuid.uuid4()),
            "target": city.counter_code,
            "answers": {"overall": "satisfied"},
            "locale": "vi",
            "submitted_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        },
        "attempts": 3,
        "nextAt": 0,
    }
    page.evaluate("item => localStorage.setItem('hailong.outbox', JSON.stringify([item]))", old)
    page.reload()
    expect(page.locator("#kiosk.js")).to_be_attached()

    assert wait_for_queue(page, 1) == {"outbox": 1, "rejected": 0, "local": 0}

    page.context.set_offline(False)
    found = stored_responses(db)
    assert [str(r.id) for r in found] == [old["payload"]["id"]]
    outbox_is_empty(page)


def test_a_new_app_version_is_picked_up_without_losing_the_queue(
    live_server, page, db, city, monkeypatch
):
    pair_kiosk(page, live_server, db)
    wait_for_service_worker(page)
    old_version = page.locator("#kiosk").get_attribute("data-version")
    # The server is out of reach for ratings during the whole update.
    page.route(RESPONSES, lambda route: route.fulfill(status=503, body="maintenance"))
    rate(page)
    assert wait_for_queue(page, 1)["outbox"] == 1

    # A deployment: the server now says another version, so /kiosk/sw.js has other bytes.
    monkeypatch.setattr(kiosk.views.kiosk_shell, "app_version", lambda: "9.9.9+new")
    page.evaluate("() => navigator.serviceWorker.getRegistration().then((r) => r.update())")

    # The new worker takes over; the idle kiosk reloads itself into the new version.
    expect(page.locator("#kiosk")).to_have_attribute("data-version", "9.9.9+new", timeout=10_000)
    assert old_version != "9.9.9+new"
    assert page.evaluate("() => caches.keys()") == ["hailong-kiosk-9.9.9+new"]
    assert wait_for_queue(page, 1)["outbox"] == 1
    assert stored_responses(db, at_least=0) == []

    page.unroute(RESPONSES)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    assert len(stored_responses(db)) == 1
    outbox_is_empty(page)


class TestHeartbeat:
    @pytest.fixture()
    def live_server_config(self) -> dict:
        return {"KIOSK_MIN_INTERVAL_SECONDS": 0, "KIOSK_HEARTBEAT_SECONDS": HEARTBEAT_SECONDS}

    def test_the_heartbeat_reports_queue_version_and_last_error(self, live_server, page, db, city):
        pair_kiosk(page, live_server, db)
        version = page.locator("#kiosk").get_attribute("data-version")
        page.route(RESPONSES, lambda route: route.fulfill(status=503, body="busy"))
        rate(page)
        rate(page, "satisfied")
        first_queued = min(
            page.evaluate(
                """() => new Promise((ok) => {
                  indexedDB.open('hailong').onsuccess = (e) => {
                    const tx = e.target.result.transaction('outbox');
                    const all = tx.objectStore('outbox').getAll();
                    all.onsuccess = () => ok(all.result.map((i) => i.payload.submitted_at));
                  };
                })"""
            )
        )

        device = None
        for _ in range(10):
            beat(page)
            device = device_record(db)
            if device is not None and device.queue_depth == 2 and device.last_error:
                break
        assert device is not None
        assert device.queue_depth == 2
        assert device.app_version == version
        assert device.oldest_queued_at is not None
        reported = device.oldest_queued_at.replace(tzinfo=UTC).isoformat(timespec="seconds")
        assert reported[:19] == first_queued[:19]
        assert "503" in device.last_error

        page.unroute(RESPONSES)
        # A heartbeat finds the queue and has it sent; a later one reports it empty.
        for _ in range(10):
            beat(page)
            device = device_record(db)
            if device is not None and device.queue_depth == 0:
                break
        outbox_is_empty(page)
        assert device is not None and device.queue_depth == 0 and device.oldest_queued_at is None


def test_a_rating_refused_for_good_is_kept_aside_not_retried(live_server, page, db, city, posted):
    """A permanent 4xx (here a 422) is moved out of the outbox into a kept "rejected" store."""
    pair_kiosk(page, live_server, db)
    refusals: list[int] = []

    def refuse(route: Route) -> None:
        refusals.append(1)
        route.fulfill(
            status=422,
            content_type="application/json",
            body='{"error": {"code": "conflict", "message": "A different response was stored."}}',
        )

    page.route(RESPONSES, refuse)
    rate(page)

    assert wait_for_queue(page, 0) == {"outbox": 0, "rejected": 1, "local": 0}
    # A minute on the tablet's clock: past the longest retry delay, up to the heartbeat, which
    # the tablet sends after anything its earlier timers sent. (Counted as they leave: a post
    # still on its way when the minute is up has been aborted by its own 15 s timeout.)
    with page.expect_response(HEARTBEAT):
        page.clock.run_for(MAX_RETRY_DELAY_MS)
    assert len(posted) == 1, "a refused rating is not sent again"
    assert len(refusals) == 1
    expect(page.locator(".kiosk-foot .status")).to_have_attribute("data-state", "online")
