"""Every signed-in page fits a 390 px phone: wide tables scroll inside their own box, and the
header's account links wrap instead of pushing the page sideways."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.conftest import PHONE
from tests.conftest import PASSWORD

PAGES = (
    "/dashboard",
    "/admin",
    "/admin/users",
    "/admin/org",
    "/admin/org/offices/O1",
    "/admin/kiosks",
    "/admin/codes",
    "/admin/alerts",
    "/admin/audit",
    "/admin/surveys",
    "/account",
    "/alerts",
    "/cases",
    "/actions",
)
#: What sticks out of the page, outside the boxes that scroll on purpose.
STICKING_OUT = """(width) => [...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > width + 1 && !e.closest('.table-wrap'))
  .slice(0, 5).map((e) => `${e.tagName}.${e.className}`)"""


def sign_in(page: Page, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"{live_server}/dashboard")


def test_every_staff_page_fits_a_phone(new_page, live_server, db, city, make_user):
    make_user(email="admin@example.vn", role="admin", scope=None)
    db.commit()
    page = new_page(**PHONE)
    sign_in(page, live_server, "admin@example.vn")
    width = PHONE["viewport"]["width"]
    for path in PAGES:
        response = page.goto(live_server + path, wait_until="networkidle")
        assert response is not None and response.status == 200, path
        assert page.evaluate(STICKING_OUT, width) == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
