import pytest
from playwright.sync_api import expect
from tests.browser.test_kiosk_budget import open_kiosk
from tests.browser.test_kiosk_flow import choice

@pytest.fixture()
def live_server_config():
    return {"KIOSK_MIN_INTERVAL_SECONDS": 0}

def test_scratch(live_server, new_page, db, city, device_token):
    page = open_kiosk(new_page, live_server, device_token)
    page.on("console", lambda m: print("CONSOLE", m.type, m.text))
    page.on("pageerror", lambda e: print("PAGEERROR", e))
    page.goto(f"{live_server}/kiosk")
    expect(page.locator("#kiosk.js")).to_be_attached()
    page.context.set_offline(True)
    choice(page, "overall", "satisfied").tap()
    page.wait_for_timeout(1000)
    print(page.locator(".thanks-screen").is_visible())
