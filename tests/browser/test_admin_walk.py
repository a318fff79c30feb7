"""A city's IT officer, on a freshly deployed Hài Lòng with one administrator account, sets up
a district of 5 offices, 20 counters and 40 officers from a spreadsheet, prints a poster and
pairs the first tablet: in the browser only, without the README's command line, in well
under 10 minutes. Every page of the walk is checked with axe-core.
"""

from __future__ import annotations

import io
import re
import time

from openpyxl import Workbook
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from surveys.models import Counter, Office, Officer, Response, Target, Unit
from tests.browser.conftest import axe_violations
from tests.browser.test_kiosk_flow import choice, stored_responses
from tests.conftest import PASSWORD

LAPTOP = {"viewport": {"width": 1280, "height": 900}, "has_touch": False, "is_mobile": False}
IT_OFFICER = "cntt@quanhadong.gov.vn"
WALK_BUDGET_SECONDS = 600


def district_workbook() -> bytes:
    """The district as a city would type it: one unit, 5 offices, 20 counters, 40 officers."""
    book = Workbook()
    sheet = book.active
    sheet.append(["type", "code", "name", "parent", "timezone", "address"])
    sheet.append(["unit", "HD", "UBND quận Hà Đông", "", "", ""])
    wards = ["1C", "VQ", "MH", "YN", "PL"]
    names = {
        "1C": "Bộ phận một cửa quận Hà Đông",
        "VQ": "UBND phường Văn Quán",
        "MH": "UBND phường Mộ Lao",
        "YN": "UBND phường Yên Nghĩa",
        "PL": "UBND phường Phú La",
    }
    people = iter(
        f"{family} {middle} {given}"
        for family in ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng")
        for middle, given in (
            ("Thị", "Lan"), ("Văn", "Hùng"), ("Thu", "Hà"), ("Minh", "Tuấn"),
            ("Ngọc", "Linh"), ("Đức", "Nam"), ("Thị", "Mai"), ("Quang", "Dũng"),
        )
    )  # fmt: skip
    for ward in wards:
        office = f"HD-{ward}"
        sheet.append(
            ["office", office, names[ward], "HD", "Asia/Ho_Chi_Minh", f"{ward} Quang Trung"]
        )
        for counter in range(1, 5):
            sheet.append(["counter", f"{office}-Q{counter}", f"Quầy số {counter}", office, "", ""])
        for officer in range(1, 9):
            sheet.append(["officer", f"{office}-CB{officer}", next(people), office, "", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def no_violations(page: Page) -> None:
    found = axe_violations(page)
    assert found == [], found


def test_an_it_officer_sets_up_a_district_prints_a_poster_and_pairs_a_tablet(
    live_server, new_page, db, make_user, tmp_path
):
    make_user(IT_OFFICER, role="admin", scope=None)  # README: create-user --role admin
    spreadsheet = tmp_path / "quan-ha-dong.xlsx"
    spreadsheet.write_bytes(district_workbook())
    started = time.monotonic()

    page = new_page(**LAPTOP)
    page.goto(f"{live_server}/login")
    page.locator("#email").fill(IT_OFFICER)
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    # From the dashboard, Administration, then the organisation (Vietnamese by default).
    page.locator("header a[href='/admin']").click()
    page.locator("main a[href='/admin/org']").click()
    expect(page.locator("h1")).to_have_text(re.compile("Cơ cấu tổ chức|Organisation"))
    no_violations(page)
    page.locator("main a[href='/admin/import']").click()
    no_violations(page)
    page.locator("input[type=file]").set_input_files(str(spreadsheet))
    page.locator("form[action$='/admin/import/upload'] button[type=submit]").click()
    # The preview: what applying will do, counted by kind.
    table = page.locator("main table")
    expect(table).to_contain_text("5")
    expect(table).to_contain_text("20")
    expect(table).to_contain_text("40")
    no_violations(page)
    page.locator("form[action*='/apply'] button[type=submit]").click()
    expect(page.locator(".flash")).to_be_visible()
    assert db.scalar(select(func.count()).select_from(Unit)) == 1
    assert db.scalar(select(func.count()).select_from(Office)) == 5
    assert db.scalar(select(func.count()).select_from(Counter)) == 20
    assert db.scalar(select(func.count()).select_from(Officer)) == 40
    # Every new place has its survey code at once.
    assert db.scalar(select(func.count()).select_from(Target).where(Target.is_active)) == 65

    # The first office, its codes, and the poster of counter 1.
    page.locator("a[href='/admin/org/offices/HD-1C']").click()
    no_violations(page)
    page.locator("a[href='/admin/codes/offices/HD-1C']").click()
    counter_code = db.scalar(
        select(Target.code)
        .join(Counter, Counter.id == Target.counter_id)
        .where(Counter.code == "HD-1C-Q1", Target.kind == "counter")
    )
    page.locator(f"a[href='/s/{counter_code}/poster']").click()
    expect(page.locator("svg").first).to_be_visible()
    poster_pdf = page.pdf(format="A4")
    assert poster_pdf.startswith(b"%PDF") and poster_pdf.count(b"/Type /Page\n") <= 1

    # Pair the first tablet: a code on the kiosks page, typed on the tablet's keypad.
    page.goto(f"{live_server}/admin/kiosks?office=HD-1C")
    page.locator("#counter").select_option("HD-1C-Q1")
    page.locator("form[action='/admin/kiosks/pair'] button[type=submit]").click()
    code = re.sub(r"\D", "", page.locator(".pairing-code").inner_text())
    assert len(code) == 8
    no_violations(page)

    tablet = new_page()
    tablet.goto(f"{live_server}/kiosk/pair")
    tablet.locator("#code").fill(code)
    tablet.locator("form.keypad-form button[type=submit]").tap()
    tablet.wait_for_url(f"{live_server}/kiosk")
    expect(tablet.locator(".kiosk-top .brand")).to_contain_text("Quầy số 1")
    choice(tablet, "overall", "very_satisfied").tap()
    expect(tablet.locator(".thanks-screen")).to_be_visible()
    [rating] = stored_responses(db)
    assert isinstance(rating, Response) and rating.channel == "kiosk"
    assert time.monotonic() - started < WALK_BUDGET_SECONDS
