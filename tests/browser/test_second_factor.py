"""An administrator whose role requires a second factor signs in for the first time, is sent
to set it up, scans (here: reads) the key, types the code the authenticator app shows, keeps
the recovery codes, signs out, and signs in again with password and code — in Chromium, every
page checked with axe-core."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_violations
from tests.conftest import PASSWORD

LAPTOP = {"viewport": {"width": 1280, "height": 900}, "has_touch": False, "is_mobile": False}
ADMIN = "cntt@hanoi.gov.vn"


@pytest.fixture()
def live_server_config() -> dict:
    return {"MFA_REQUIRED_ROLES": ("admin",)}


def no_violations(page: Page) -> None:
    assert axe_violations(page) == []


def sign_in_with_password(page: Page, base: str) -> None:
    page.goto(f"{base}/login")
    page.locator("#email").fill(ADMIN)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").first.click()


def test_an_administrator_enrols_then_signs_in_with_the_second_factor(
    live_server, new_page, make_user, db
):
    make_user(ADMIN, role="admin", scope=None)
    page = new_page(**LAPTOP)
    sign_in_with_password(page, live_server)
    # Sent to set up the second factor before anything else.
    expect(page).to_have_url(re.compile(r"/account/second-factor$"))
    no_violations(page)
    page.goto(f"{live_server}/dashboard")
    expect(page).to_have_url(re.compile(r"/account/second-factor$"))
    page.locator("form[action$='/second-factor/start'] #password").fill(PASSWORD)
    page.locator("form[action$='/second-factor/start'] button").click()
    expect(page.locator(".mfa-qr svg")).to_be_visible()
    no_violations(page)
    key = page.locator(".totp-key").get_attribute("data-key")
    totp = pyotp.TOTP(key)
    page.locator("#code").fill(totp.now())
    page.locator("form[action$='/second-factor/confirm'] button").click()
    codes = page.locator(".recovery-codes code")
    expect(codes).to_have_count(10)
    no_violations(page)
    page.locator("#recovery-codes a.button").click()
    expect(page).to_have_url(re.compile(r"/dashboard"))

    page.locator("header form.account button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/login"))
    sign_in_with_password(page, live_server)
    expect(page).to_have_url(re.compile(r"/login/second-factor$"))
    no_violations(page)
    # The code of the next 30-second step: the one used to enrol never works again.
    page.locator("#code").fill(totp.at(time.time() + 30))
    page.locator("main form button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/dashboard"))
    expect(page.locator("header form.account")).to_contain_text(ADMIN)
