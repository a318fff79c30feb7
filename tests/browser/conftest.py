"""Browser fixtures: the real app served over HTTP in a thread, and Debian's headless Chromium
driven by Playwright (never a downloaded browser: ``playwright install`` is not used).

Every test under tests/browser gets the ``browser`` marker, so ``pytest -m "not browser"``
runs the fast suite alone.
"""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from werkzeug.serving import make_server

from tests.conftest import make_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: The counter tablet: portrait, touch, Vietnamese.
TABLET = {
    "viewport": {"width": 800, "height": 1280},
    "has_touch": True,
    "is_mobile": False,
    "device_scale_factor": 1,
    "locale": "vi-VN",
}
#: A citizen's phone: small, touch, Vietnamese.
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 2,
    "locale": "vi-VN",
}
#: Seconds the kiosk keeps its thank-you screen in these tests (6 in production).
THANKS_SECONDS = 1
#: How far the tablet's clock starts behind the server's. The tests move it on faster than real
#: time (a thank-you screen takes no real second), and a rating must still never look as if it
#: had been made after the server received it; well within the two minutes in which the server
#: takes a tablet's rating as live.
TABLET_CLOCK_BEHIND = timedelta(seconds=30)
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
#: WCAG 2.0, 2.1 and 2.2 at levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]

HERE = Path(__file__).resolve().parent
#: Pages whose clock the ``page`` fixture stopped.
STOPPED_CLOCKS: weakref.WeakSet[Page] = weakref.WeakSet()


#: When Chromium drops a connection mid-download (a navigation away), werkzeug's development
#: server skips closing the response, and the static file it was sending is closed by the
#: garbage collector with a ResourceWarning. Production servers close it; only this exact
#: case is ignored, so a leak in the app's own code still fails the suite.
DROPPED_STATIC_FILE = (
    r"ignore:Exception ignored in. <_io\.(FileIO|BufferedReader) name='[^']*/static/"
    r":pytest.PytestUnraisableExceptionWarning"
)
DROPPED_STATIC_FILE_WARNING = (
    r"ignore:unclosed file <_io\.BufferedReader name='[^']*/static/:ResourceWarning"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.filterwarnings(DROPPED_STATIC_FILE))
            item.add_marker(pytest.mark.filterwarnings(DROPPED_STATIC_FILE_WARNING))


@pytest.fixture()
def live_server_config() -> dict:
    """Config overrides for the live app; a test module may override this fixture."""
    return {}


@pytest.fixture()
def live_server(database_url, live_server_config) -> Iterator[str]:
    """Serve a fresh app on a free local port; yield its base URL (no trailing slash)."""
    apps = []

    def wsgi(environ, start_response):
        # The app is built once the port is known, so PUBLIC_BASE_URL is the live URL.
        return apps[0](environ, start_response)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app = make_app(
        database_url,
        **{
            "PUBLIC_BASE_URL": base_url,
            "KIOSK_THANKS_SECONDS": THANKS_SECONDS,
            **live_server_config,
        },
    )
    apps.append(app)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["hailong.engine"].dispose()
        # Finalise any file a dropped connection left open now, inside this test's warning
        # filters, rather than during whichever test the garbage collector happens to run in.
        gc.collect()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    manager = sync_playwright()
    playwright = manager.start()
    try:
        yield playwright
    finally:
        manager.__exit__(None, None, None)


@pytest.fixture(scope="session")
def browser(playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture()
def new_page(browser, live_server) -> Iterator[Callable[..., Page]]:
    """Return a factory: each call opens a page in a fresh tablet context (no cookies, no storage).

    Keyword arguments override the tablet's context options. Depending on ``live_server``
    makes every context close before the server stops.
    """
    contexts: list[BrowserContext] = []

    def make(**options) -> Page:
        context = browser.new_context(**{**TABLET, **options})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


@pytest.fixture()
def page(new_page) -> Page:
    """One tablet page, on a stopped clock: the kiosk's timers (thank-you, idle warning and
    reset, minimum interval, heartbeat, retries) fire only when a test moves the clock on with
    ``page.clock.run_for`` or ``fast_forward``; the server's clock runs as usual.
    """
    page = new_page()
    start = datetime.now(UTC) - TABLET_CLOCK_BEHIND
    page.clock.install(time=start)
    # Stopped before the first page loads; the second taken is for the round trip between the
    # two calls (pause_at cannot go back in time).
    page.clock.pause_at(start + timedelta(seconds=1))
    STOPPED_CLOCKS.add(page)
    return page


def axe_violations(page: Page) -> list[dict]:
    """Run axe-core (npm package, injected from node_modules) on the page; return violations.

    Each violation is summarised as {"id", "impact", "help", "targets"} so a failing assertion
    says what to fix.
    """
    # Evaluated through DevTools: the app's CSP (rightly) refuses an injected <script>.
    page.evaluate(AXE.read_text() + "\n;0")
    page.evaluate(
        """tags => {
          window.axeResult = axe.run(document, {runOnly: {type: 'tag', values: tags}});
          window.axeDone = false;
          window.axeResult.finally(() => { window.axeDone = true; });
        }""",
        AXE_TAGS,
    )
    if page in STOPPED_CLOCKS:
        # axe hands its result over on a timer, which a stopped clock fires only when moved
        # on: a millisecond at a time, too little for a timer of the page's own to come due.
        while not page.evaluate("() => window.axeDone"):
            page.clock.run_for(1)
    result = page.evaluate("() => window.axeResult")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [node["target"] for node in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]


def page_weight(page: Page, url: str) -> tuple[int, set[str]]:
    """Load url in page; return (bytes of every response body, hosts that were contacted)."""
    sizes: list[int] = []
    hosts: set[str] = set()

    def on_response(response) -> None:
        from urllib.parse import urlsplit

        hosts.add(urlsplit(response.url).netloc)
        try:
            sizes.append(len(response.body()))
        except Exception:  # redirects have no body
            sizes.append(0)

    page.on("response", on_response)
    page.goto(url, wait_until="networkidle")
    page.remove_listener("response", on_response)
    return sum(sizes), hosts
