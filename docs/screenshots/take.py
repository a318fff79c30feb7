"""Take the screenshots in the README and docs/ from the demo city, in Debian's Chromium.

    make screenshots

Serves a fresh demo (its own SQLite file in a temporary directory) on a free port, signs in as
the demo administrator and saves each page below into docs/screenshots/ at the size a user sees
it: the counter tablet (800×1280), a phone (390×844), a manager's laptop (1280×900).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LAPTOP = {"viewport": {"width": 1280, "height": 900}}
TABLET = {"viewport": {"width": 800, "height": 1280}, "has_touch": True}
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
ADMIN = "admin@hailong.demo"
PASSWORD = "hailong-demo"
#: A new district typed by hand, with two mistakes for the check to point at.
IMPORT = """type,code,name,parent,timezone,address
unit,TH,UBND quận Tây Hồ,HN,,
office,TH-1C,Bộ phận một cửa quận Tây Hồ,TH,Asia/Ho_Chi_Minh,657 Lạc Long Quân
counter,TH-1C-Q1,Quầy số 1,TH-1C,,
counter,TH-1C-Q2,Quầy số 2,TH-1C,,
officer,TH-1C-CB1,Đỗ Thị Hạnh,TH-1C,,
officer,TH-1C-CB2,Vũ Minh Khôi,TH-1X,,
office,TH-QA,UBND phường Quảng An,TH,Asia/Hanoi,
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(env: dict[str, str], port: int) -> subprocess.Popen:
    subprocess.run([*FLASK, "db", "upgrade"], env=env, cwd=ROOT, check=True)
    subprocess.run(
        [*FLASK, "seed-demo", "--responses", "3000", "--days", "60"], env=env, cwd=ROOT, check=True
    )
    server = subprocess.Popen(
        [*FLASK, "run", "--port", str(port)], env=env, cwd=ROOT, stderr=subprocess.DEVNULL
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the demo server did not start")


def pairing_link(env: dict[str, str], counter: str) -> str:
    """Return a one-time pairing link for a counter, as an administrator would print it."""
    enrolled = subprocess.run(
        [*FLASK, "enroll-kiosk", counter], env=env, cwd=ROOT, check=True, capture_output=True
    )
    return enrolled.stdout.decode().strip().splitlines()[-1]


def officer_code(database: str, office: str) -> str:
    """Return the survey code of the first officer of an office in the demo city."""
    with sqlite3.connect(database) as db:
        (code,) = db.execute(
            "SELECT target.code FROM target JOIN office ON office.id = target.office_id"
            " WHERE target.kind = 'officer' AND office.code = ? ORDER BY target.id LIMIT 1",
            (office,),
        ).fetchone()
    return code


def sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login")
    page.locator("#email").fill(ADMIN)
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()


def shoot(page: Page, base: str, path: str, name: str) -> None:
    page.goto(base + path)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(HERE / f"{name}.png"), full_page=True)
    print(f"  docs/screenshots/{name}.png  ← {path}")


def shoot_insights(browser, base: str) -> None:
    """The managers' pages: overview on a phone, an office on the tablet, the printed report."""
    tablet = browser.new_page(**TABLET, locale="vi-VN")
    sign_in(tablet, base)
    shoot(tablet, base, "/dashboard/offices/HK-1C", "dashboard-office-tablet")
    shoot(tablet, base, "/dashboard/comments", "dashboard-comments-tablet")
    phone = browser.new_page(**PHONE, locale="vi-VN")
    sign_in(phone, base)
    shoot(phone, base, "/dashboard", "dashboard-phone")
    shoot(phone, base, "/dashboard/offices/HK-1C", "dashboard-office-phone")
    # The monthly report as it prints: A4 width (210 mm at 96 px/in), print styles.
    paper = browser.new_page(viewport={"width": 794, "height": 1123}, locale="vi-VN")
    sign_in(paper, base)
    paper.emulate_media(media="print")
    shoot(paper, base, "/dashboard/offices/HK-1C/report", "dashboard-report-print")


def main() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as scratch:
        env = dict(
            os.environ,
            DATABASE_URL=f"sqlite:///{scratch}/demo.db",
            SECRET_KEY="screenshots-only",
            PUBLIC_BASE_URL=base,
            # The demo administrator signs in with a password alone (no authenticator app).
            FLASK_MFA_REQUIRED_ROLES="",
        )
        server = serve(env, port)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                laptop = browser.new_page(**LAPTOP, locale="vi-VN")
                sign_in(laptop, base)
                shoot(laptop, base, "/dashboard", "dashboard")
                shoot_insights(browser, base)
                shoot(laptop, base, "/admin/org", "admin-org")
                shoot(laptop, base, "/admin/org/offices/HK-1C", "admin-office")
                laptop.goto(f"{base}/admin/import")
                laptop.locator("input[type=file]").set_input_files(
                    {"name": "quan-tay-ho.csv", "mimeType": "text/csv", "buffer": IMPORT.encode()}
                )
                laptop.locator("form[action$='/admin/import/upload'] button[type=submit]").click()
                laptop.wait_for_load_state("networkidle")
                laptop.screenshot(path=str(HERE / "admin-import.png"), full_page=True)
                print("  docs/screenshots/admin-import.png  ← an import's check")
                shoot(laptop, base, "/admin/audit", "admin-audit")

                # The counter tablet: the rating screen, then the thank-you after a tap.
                tablet = browser.new_page(**TABLET, locale="vi-VN")
                tablet.goto(pairing_link(env, "HK-1C-Q1"))
                tablet.locator("form[method=post] button.button").click()
                tablet.wait_for_url(f"{base}/kiosk")
                tablet.locator("#kiosk.js").wait_for(state="attached")
                tablet.screenshot(path=str(HERE / "kiosk.png"))
                print("  docs/screenshots/kiosk.png  ← /kiosk, paired to HK-1C-Q1")
                tablet.locator("fieldset.headline label.choice").first.click()
                tablet.locator(".thanks-screen .add-comment").wait_for()
                tablet.screenshot(path=str(HERE / "kiosk-thanks.png"))
                print("  docs/screenshots/kiosk-thanks.png  ← a positive tap")

                # The officer survey on a phone without JavaScript: one tap, then the rest.
                phone = browser.new_page(**PHONE, locale="vi-VN", java_script_enabled=False)
                code = officer_code(f"{scratch}/demo.db", "HK-1C")
                shoot(phone, base, f"/s/{code}", "phone")
                phone.locator("button.choice[value='satisfied']").click()
                phone.wait_for_url(f"{base}/s/{code}/more")
                phone.wait_for_load_state("networkidle")
                phone.screenshot(path=str(HERE / "phone-more.png"), full_page=True)
                print(f"  docs/screenshots/phone-more.png  ← /s/{code}/more after one tap")

                # Another phone, unhappy: the thank-you offers a call-back.
                unhappy = browser.new_page(**PHONE, locale="vi-VN", java_script_enabled=False)
                unhappy.goto(f"{base}/s/{code}", wait_until="networkidle")
                unhappy.locator("button.choice[value='not_satisfied']").click()
                unhappy.wait_for_url(f"{base}/s/{code}/more")
                unhappy.locator("p.finish a").click()
                unhappy.wait_for_url(f"{base}/s/{code}/thanks")
                unhappy.wait_for_load_state("networkidle")
                unhappy.screenshot(path=str(HERE / "phone-callback.png"), full_page=True)
                print(f"  docs/screenshots/phone-callback.png  ← /s/{code}/thanks, unhappy")
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
