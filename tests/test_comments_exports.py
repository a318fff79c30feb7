"""Comments (inbox and API, masked for non-administrators), rankings, exports, monthly report."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime, time, timedelta

import pytest
from openpyxl import load_workbook

from surveys.comments import mask_personal_data
from surveys.responses import ResponseInput, submit_response
from tests.conftest import PASSWORD, csrf_token

PRIVATE = "Gọi tôi 0912 345 678 hoặc an.nguyen@example.vn, CCCD 001099012345, CMND 012345678."


def comment(db, target, text, *, overall="not_satisfied", reasons=None, day=date(2026, 3, 2)):
    answers = {"overall": overall}
    if reasons:
        answers["reasons"] = reasons
    payload = ResponseInput(id=uuid.uuid4(), target_code=target, answers=answers, comment=text)
    moment = datetime.combine(day, time(3, 0)) + timedelta(microseconds=uuid.uuid4().int % 10**6)
    submit_response(db, payload, now=moment)
    db.commit()
    return payload.id


@pytest.mark.parametrize(
    "text,masked",
    [
        ("Số của tôi 0912345678.", "Số của tôi ***."),
        ("Gọi +84 912 345 678 nhé", "Gọi *** nhé"),
        ("Email: a.b+c@so-tu-phap.hanoi.gov.vn", "Email: ***"),
        ("CCCD 001099012345 và CMND 012345678", "CCCD *** và CMND ***"),
        ("Quầy 3, chờ 45 phút, ngày 12/03/2026, mã hồ sơ 2026-0312", None),
    ],
)
def test_personal_data_is_masked_and_nothing_else(text, masked):
    assert mask_personal_data(text) == (masked if masked is not None else text)


class TestCommentsApi:
    def test_masked_for_managers_not_for_administrators(self, client, db, city, make_token):
        comment(db, "COUNTR1", PRIVATE, reasons=["attitude"])
        token = make_token(scope="O1")
        data = client.get(
            "/api/v1/comments?from=2026-03-01&to=2026-03-31",
            headers={"Authorization": f"Bearer {token}"},
        ).json
        (first,) = data["comments"]
        assert "0912" not in first["text"] and "example.vn" not in first["text"]
        assert "001099012345" not in first["text"] and "012345678" not in first["text"]
        assert first["text"].startswith("Gọi tôi ***")
        assert first["reasons"] == ["attitude"] and first["rating"] == "not_satisfied"
        assert first["handled"] is False and data["next_page"] is None
        admin = make_token("admin@example.vn", "admin", None)
        full = client.get(
            "/api/v1/comments?from=2026-03-01&to=2026-03-31",
            headers={"Authorization": f"Bearer {admin}"},
        ).json
        assert full["comments"][0]["text"] == PRIVATE

    def test_pages_and_scope(self, client, db, city, make_token):
        for i in range(53):
            comment(db, "COUNTR1", f"Góp ý số {i}")
        comment(db, "COUNTR2", "Ở quận Hai")
        headers = {"Authorization": f"Bearer {make_token(scope='O1')}"}
        first = client.get("/api/v1/comments?from=2026-03-01&to=2026-03-31", headers=headers)
        assert len(first.json["comments"]) == 50 and first.json["next_page"] == 2
        second = client.get(
            "/api/v1/comments?from=2026-03-01&to=2026-03-31&page=2", headers=headers
        ).json
        assert len(second["comments"]) == 3 and second["next_page"] is None
        texts = {c["text"] for c in first.json["comments"] + second["comments"]}
        assert len(texts) == 53 and "Ở quận Hai" not in texts
        assert client.get("/api/v1/comments?office=O2", headers=headers).status_code == 403
        assert client.get("/api/v1/comments?office=NOPE", headers=headers).status_code == 404
        for bad in ("0", "x", "10001", "-1"):
            answer = client.get(f"/api/v1/comments?page={bad}", headers=headers)
            assert answer.status_code == 400, bad


class TestInbox:
    def test_filter_search_and_mark_handled(self, client, db, city, make_user, login):
        make_user(scope="O1")
        angry = comment(db, "COUNTR1", "Chờ quá lâu, 0987654321", reasons=["waiting_time"])
        comment(db, "COUNTR1", "Cán bộ rất tận tình", overall="very_satisfied")
        login()
        page = client.get("/dashboard/comments?from=2026-03-01&to=2026-03-31")
        html = page.get_data(as_text=True)
        assert "Chờ quá lâu, ***" in html and "Cán bộ rất tận tình" in html
        assert "0987654321" not in html
        only_bad = client.get(
            "/dashboard/comments?from=2026-03-01&to=2026-03-31&rating=negative"
        ).get_data(as_text=True)
        assert "Chờ quá lâu" in only_bad and "tận tình" not in only_bad
        by_reason = client.get(
            "/dashboard/comments?from=2026-03-01&to=2026-03-31&reason=waiting_time"
        ).get_data(as_text=True)
        assert "Chờ quá lâu" in by_reason and "tận tình" not in by_reason
        searched = client.get(
            "/dashboard/comments?from=2026-03-01&to=2026-03-31&q=t%E1%BA%ADn+t%C3%ACnh"
        ).get_data(as_text=True)
        assert "tận tình" in searched and "Chờ quá lâu" not in searched

        back = "/dashboard/comments?from=2026-03-01&to=2026-03-31&handled=no"
        done = client.post(
            f"/dashboard/comments/{angry}/handled",
            data={
                "csrf_token": csrf_token(html),
                "note": "Đã bố trí thêm quầy buổi sáng",
                "decision": "handled",
                "back": back,
            },
        )
        assert done.status_code == 302 and done.headers["Location"] == back
        still = client.get(back).get_data(as_text=True)
        assert "Chờ quá lâu" not in still and "tận tình" in still
        handled = client.get(
            "/dashboard/comments?from=2026-03-01&to=2026-03-31&handled=yes"
        ).get_data(as_text=True)
        assert "Đã bố trí thêm quầy buổi sáng" in handled and "tận tình" not in handled

    def test_forms_need_csrf_and_a_manager_in_scope(self, client, db, city, make_user, login):
        theirs = comment(db, "COUNTR2", "Ở quận Hai")
        make_user(scope="O1")
        login()
        html = client.get("/dashboard/comments").get_data(as_text=True)
        token = csrf_token(html)
        assert client.post(f"/dashboard/comments/{theirs}/handled", data={}).status_code == 400
        outside = client.post(
            f"/dashboard/comments/{theirs}/handled", data={"csrf_token": token, "note": "x"}
        )
        assert outside.status_code == 403
        assert (
            client.post("/dashboard/comments/nope/handled", data={"csrf_token": token}).status_code
            == 404
        )
        # Off-site "back" addresses are ignored.
        mine = comment(db, "COUNTR1", "Của quận Một")
        answer = client.post(
            f"/dashboard/comments/{mine}/handled",
            data={"csrf_token": token, "note": "", "back": "https://evil.example/"},
        )
        assert answer.headers["Location"] == "/dashboard/comments"

    def test_viewers_read_but_do_not_mark(self, client, db, city, make_user, login):
        mine = comment(db, "COUNTR1", "Của quận Một")
        make_user("viewer@example.vn", "viewer", "O1")
        login("viewer@example.vn", PASSWORD)
        html = client.get("/dashboard/comments?from=2026-03-01&to=2026-03-31").get_data(
            as_text=True
        )
        assert "Của quận Một" in html and "Mark handled" not in html and "Đánh dấu" not in html
        answer = client.post(
            f"/dashboard/comments/{mine}/handled",
            data={"csrf_token": csrf_token(html), "note": "x"},
        )
        assert answer.status_code == 403


class TestRankings:
    def test_ordered_by_shrunken_rate_within_scope(self, client, db, city, make_token):
        for i in range(30):
            comment(db, "COUNTR1", f"a{i}", overall="very_satisfied" if i < 27 else "not_satisfied")
        for i in range(5):
            comment(db, "COUNTR2", f"b{i}", overall="very_satisfied")
        headers = {"Authorization": f"Bearer {make_token(scope='ROOT')}"}
        data = client.get("/api/v1/rankings?from=2026-03-01&to=2026-03-31", headers=headers).json
        assert [(r["office"], r["rank"]) for r in data] == [("O2", 1), ("O1", 2)]
        assert data[1]["shrunken_rate"] == 0.9 and data[0]["rate"] is None  # 5 < 10
        only_d1 = client.get("/api/v1/rankings?unit=D1&from=2026-03-01", headers=headers).json
        assert [r["office"] for r in only_d1] == ["O1"]
        narrow = {"Authorization": f"Bearer {make_token('o1@example.vn', 'manager', 'O1')}"}
        assert client.get("/api/v1/rankings?unit=D2", headers=narrow).status_code == 403
        assert client.get("/api/v1/rankings?unit=NOPE", headers=narrow).status_code == 404


class TestExports:
    def test_csv_speaks_vietnamese_unless_codes_are_asked(self, client, db, city, make_token):
        comment(db, "COUNTR1", PRIVATE, reasons=["attitude", "procedure"])
        headers = {"Authorization": f"Bearer {make_token(scope='O1')}"}
        url = "/api/v1/offices/O1/responses.csv?from=2026-03-01&to=2026-03-31"
        text = client.get(url, headers=headers).get_data(as_text=True).lstrip("\ufeff")
        rows = list(csv.DictReader(io.StringIO(text)))
        (row,) = rows
        assert row["Kênh"] == "QR" and row["Đã xác thực (phiếu hẹn)"] == "không"
        question = "Ông/Bà đánh giá thế nào về việc tiếp nhận và giải quyết hồ sơ hôm nay?"
        assert row[question] == "Không hài lòng"
        assert row["Điều gì khiến Ông/Bà chưa hài lòng?"] == (
            "Thái độ, cách giao tiếp của cán bộ;Thủ tục hành chính rườm rà"
        )
        assert "0912" not in text and "***" in text
        coded = client.get(url + "&codes=1", headers=headers).get_data(as_text=True)
        row = next(csv.DictReader(io.StringIO(coded.lstrip("\ufeff"))))
        assert row["overall"] == "not_satisfied" and row["channel"] == "qr"
        assert client.get(url + "&codes=yes", headers=headers).status_code == 400

    def test_xlsx_has_responses_and_summary(self, client, db, city, make_token):
        comment(db, "COUNTR1", "=1+1", reasons=["facilities"])
        headers = {"Authorization": f"Bearer {make_token(scope='O1')}"}
        answer = client.get(
            "/api/v1/offices/O1/responses.xlsx?from=2026-03-01&to=2026-03-31", headers=headers
        )
        assert answer.status_code == 200 and answer.mimetype.endswith("spreadsheetml.sheet")
        book = load_workbook(io.BytesIO(answer.data), read_only=True)
        assert book.sheetnames == ["Lượt đánh giá", "Tổng hợp"]
        rows = list(book["Lượt đánh giá"].values)
        assert rows[0][0] == "Mã lượt đánh giá" and len(rows) == 2
        assert "'=1+1" in rows[1]  # a comment never runs as a formula
        summary = [r for r in book["Tổng hợp"].values]
        assert any(r and r[0] == "Cơ sở vật chất" and r[1] == 1 for r in summary)

    def test_monthly_report_is_a_printable_page(self, client, db, city, make_user, login):
        comment(db, "COUNTR1", "x", overall="very_satisfied")
        make_user(scope="O1")
        login()
        html = client.get("/dashboard/offices/O1/report?month=2026-03").get_data(as_text=True)
        assert "tháng 03/2026" in html and "01/03/2026 – 31/03/2026" in html
        assert "Thủ trưởng đơn vị" in html and 'class="report"' in html
        assert "dashboard.css" in html and "style=" not in html
        # Any other month value shows the last full month, never an error.
        assert client.get("/dashboard/offices/O1/report?month=2026-13").status_code == 200
        assert client.get("/dashboard/offices/O2/report").status_code == 403


def test_a_control_character_in_a_name_does_not_break_the_workbook(client, db, city, make_token):
    city.counter.name = "Quầy\x01 1"
    db.commit()
    comment(db, "COUNTR1", "ok\x0b")
    headers = {"Authorization": f"Bearer {make_token(scope='O1')}"}
    answer = client.get(
        "/api/v1/offices/O1/responses.xlsx?from=2026-03-01&to=2026-03-31", headers=headers
    )
    assert answer.status_code == 200
    summary = list(load_workbook(io.BytesIO(answer.data))["Tổng hợp"].values)
    assert any(r and r[0] == "Quầy: Quầy 1" for r in summary)


def test_office_page_shows_its_latest_comments_masked(client, db, city, make_user, login):
    for i in range(7):
        comment(db, "COUNTR1", f"Góp ý {i}: gọi 0912345678", day=date(2026, 3, 1 + i))
    make_user(scope="O1")
    login()
    html = client.get("/dashboard/offices/O1?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    latest = html[html.index("Góp ý gần đây") :]
    assert "Góp ý 6: gọi ***" in latest and "Góp ý 2" in latest and "Góp ý 1" not in latest
    assert "0912345678" not in html


def test_unit_report_ranks_its_offices_for_the_month(client, db, city, make_user, login):
    for i in range(12):
        comment(db, "COUNTR1", f"a{i}", overall="very_satisfied" if i < 9 else "not_satisfied")
        comment(db, "COUNTR2", f"b{i}", overall="very_satisfied")
    make_user(scope="ROOT")
    login()
    html = client.get("/dashboard/units/ROOT/report?month=2026-03").get_data(as_text=True)
    table = html[html.index("<tbody>") : html.index("</tbody>")]
    assert table.index("Quận Hai") < table.index("Quận Một")
    assert "Toàn đơn vị" in table and ">24<" in table
    assert "Thủ trưởng đơn vị" in html
    assert client.get("/dashboard/units/NOPE/report").status_code == 404


def test_unit_report_is_scoped(client, db, city, make_user, login):
    make_user(scope="O1")
    login()
    assert client.get("/dashboard/units/D2/report").status_code == 403
    assert client.get("/dashboard/units/D1/report").status_code == 200
