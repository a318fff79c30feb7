"""The overview, the office and officer pages and the summary API, read from the rollups."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timedelta

import pytest

from surveys.responses import ResponseInput, submit_response
from tests.conftest import PASSWORD

#: 10:00 in Hanoi.
MORNING = time(3, 0)


def rate(db, target: str, day: date, *, good: int = 0, bad: int = 0, **answers) -> None:
    """Store ``good`` satisfied and ``bad`` not satisfied ratings of a code on a local day."""
    moment = datetime.combine(day, MORNING)
    for i in range(good + bad):
        overall = "very_satisfied" if i < good else "not_satisfied"
        given = {"overall": overall, **(answers if i >= good else {})}
        payload = ResponseInput(id=uuid.uuid4(), target_code=target, answers=given)
        submit_response(db, payload, now=moment + timedelta(seconds=i))
    db.commit()


def bearer(make_token, scope="O1", role="manager") -> dict:
    return {"Authorization": f"Bearer {make_token(scope=scope, role=role)}"}


class TestSummaryApi:
    def test_trend_counters_officers_reasons_and_heatmap(self, client, db, city, make_token):
        rate(db, "COUNTR1", date(2026, 3, 2), good=8, bad=2, reasons=["procedure"])  # Monday
        rate(db, "OFFICR1", date(2026, 3, 4), good=5, bad=0)  # Wednesday
        rate(db, "COUNTR1", date(2026, 3, 10), good=3, bad=1, reasons=["attitude"])
        data = client.get(
            "/api/v1/offices/O1/summary?from=2026-03-01&to=2026-03-14&interval=week",
            headers=bearer(make_token),
        ).json
        assert data["interval"] == "week" and data["responses"] == 19
        assert data["channels"] == {"kiosk": 0, "qr": 19, "ticket": 0}
        # Weeks start on Monday; the first is clipped to the period (it starts on Sunday 1st).
        assert [(p["period"], p["n"]) for p in data["trend"]] == [
            ("2026-03-01", 0),
            ("2026-03-02", 15),
            ("2026-03-09", 4),
        ]
        assert data["trend"][1]["rate"] == round(13 / 15, 4)
        assert data["trend"][2]["rate"] is None  # 4 < MIN_RESPONSES
        assert data["counters"] == [
            {
                "code": "O1-Q1",
                "name": "Quầy 1",
                "n": 19,
                "rate": round(16 / 19, 4),
                "ci_low": data["counters"][0]["ci_low"],
                "ci_high": data["counters"][0]["ci_high"],
            }
        ]
        (officer,) = data["officers"]
        assert officer["code"] == "CB1" and officer["n"] == 5 and officer["rate"] is None
        assert data["reasons"] == {
            "procedure": {"n": 2, "charged_to_officer": False},
            "attitude": {"n": 1, "charged_to_officer": True},
        }
        heatmap = data["heatmap"]
        assert len(heatmap) == 7 and all(len(day) == 24 for day in heatmap)
        assert heatmap[0][10] == {"n": 10, "rate": 0.8}  # Monday 2 March, 10:00 in Hanoi
        assert heatmap[1][10] == {"n": 4, "rate": None}  # below the minimum
        assert heatmap[2][10] == {"n": 5, "rate": None}
        assert sum(cell["n"] for day in heatmap for cell in day) == 19

    def test_change_against_the_previous_period_is_tested(self, client, db, city, make_token):
        rate(db, "COUNTR1", date(2026, 3, 5), good=60, bad=40)
        rate(db, "COUNTR1", date(2026, 3, 15), good=90, bad=10)
        headers = bearer(make_token)
        data = client.get(
            "/api/v1/offices/O1/summary?from=2026-03-11&to=2026-03-20", headers=headers
        ).json
        assert data["previous"]["n"] == 100 and data["previous"]["rate"] == 0.6
        assert data["change"]["difference"] == pytest.approx(0.3)
        assert data["change"]["significant"] is True
        small = client.get(
            "/api/v1/offices/O1/summary?from=2026-03-11&to=2026-03-20&interval=day",
            headers=headers,
        ).json
        assert len(small["trend"]) == 10

    @pytest.mark.parametrize("interval", ["year", "DAY", "1", ""])
    def test_an_unknown_interval_is_400(self, client, city, make_token, interval):
        response = client.get(
            f"/api/v1/offices/O1/summary?interval={interval}", headers=bearer(make_token)
        )
        assert response.status_code == 400
        assert response.json["error"]["fields"] == {"interval": "invalid"}


class TestOverview:
    def test_sortable_with_change_rank_and_channels(self, client, db, city, make_user, login):
        make_user(scope="ROOT")
        rate(db, "COUNTR1", date(2026, 3, 5), good=60, bad=40)
        rate(db, "COUNTR1", date(2026, 3, 15), good=90, bad=10)
        rate(db, "COUNTR2", date(2026, 3, 15), good=12, bad=0)
        login()
        html = client.get("/dashboard?from=2026-03-11&to=2026-03-20").get_data(as_text=True)
        rows = re.findall(r"<tr>\s*<td class=\"num\">(.*?)</tr>", html, re.S)
        # Default order: the fair rank. O2's 12 of 12 is pulled towards its unit (itself here,
        # so it stays 100 %); O1's 90 of 100 ranks second.
        assert "Quận Hai" in rows[0] and "Quận Một" in rows[1]
        assert "+30,0" in rows[1] and "thay đổi thực sự" in rows[1]
        assert "QR 100" in rows[1]
        by_n = client.get("/dashboard?from=2026-03-11&to=2026-03-20&sort=n&dir=desc")
        rows = re.findall(r"<tr>\s*<td class=\"num\">(.*?)</tr>", by_n.get_data(as_text=True), re.S)
        assert "Quận Một" in rows[0]
        by_name = client.get("/dashboard?from=2026-03-11&to=2026-03-20&sort=office&dir=desc")
        rows = re.findall(
            r"<tr>\s*<td class=\"num\">(.*?)</tr>", by_name.get_data(as_text=True), re.S
        )
        assert "Quận Một" in rows[0]  # "Một" after "Hai", highest first
        # An unknown column falls back to the rank, never an error.
        assert client.get("/dashboard?sort=drop+table&dir=sideways").status_code == 200

    def test_trend_lines_are_svg_with_no_inline_style(self, client, db, city, make_user, login):
        make_user(scope="D1")
        for day in range(1, 20):
            rate(db, "COUNTR1", date(2026, 3, day), good=9, bad=3)
        login()
        html = client.get("/dashboard?from=2026-03-01&to=2026-03-19").get_data(as_text=True)
        assert '<polyline points="' in html and 'class="spark"' in html
        assert "style=" not in html and "<script" not in html


class TestOfficePage:
    def test_charts_tables_and_interval_choice(self, client, db, city, make_user, login):
        make_user(scope="O1")
        for day in range(1, 29):
            rate(db, "OFFICR1", date(2026, 2, day), good=9, bad=2, reasons=["waiting_time"])
        rate(db, "COUNTR1", date(2026, 2, 3), good=5, bad=5, reasons=["facilities"])
        login()
        html = client.get(
            "/dashboard/offices/O1?from=2026-02-01&to=2026-02-28&interval=week"
        ).get_data(as_text=True)
        # The trend as an SVG line with its band, and the same figures as a table.
        assert 'class="band"' in html and 'class="rate-line"' in html
        assert "Xem số liệu dạng bảng" in html
        assert "02/02/2026 – 08/02/2026" in html  # a week, dd/mm/yyyy
        assert '<span aria-current="true">Theo tuần</span>' in html
        # Heatmap, conduct values (none answered: the office-culture values are optional),
        # reasons split person / process.
        assert 'class="heatmap"' in html
        assert "liên quan đến cán bộ" in html and "quy trình hoặc cơ sở vật chất" in html
        # The officer links to their page.
        assert 'href="/dashboard/officers/CB1?from=2026-02-01&amp;to=2026-02-28"' in html
        # A bad interval is ignored on a page (the default shown), never an error.
        page = client.get("/dashboard/offices/O1?interval=fortnight")
        assert page.status_code == 200
        assert "style=" not in html and "<script" not in html

    def test_conduct_values_are_charted_each_on_its_own(self, client, db, city, make_user, login):
        make_user(scope="O1")
        moment = datetime.combine(date(2026, 2, 2), MORNING)
        for i in range(12):
            answers = {"overall": "very_satisfied", "friendliness": "satisfied"}
            if i < 3:
                answers["discipline"] = "not_satisfied"
            payload = ResponseInput(id=uuid.uuid4(), target_code="OFFICR1", answers=answers)
            submit_response(db, payload, now=moment + timedelta(seconds=i))
        db.commit()
        login()
        html = client.get("/dashboard/offices/O1?from=2026-02-01&to=2026-02-07").get_data(
            as_text=True
        )
        values = html[html.index("Các tiêu chí văn hóa công sở") :]
        friendliness = values[values.index("Cán bộ lịch sự, thân thiện") :]
        assert "100,0%" in friendliness[: friendliness.index("</figure>")]
        # Discipline, answered 3 times, has its own chart with "not enough data".
        discipline = values[values.index("Cán bộ làm việc đúng giờ") :]
        assert "chưa đủ dữ liệu" in discipline[: discipline.index("</figure>")]


class TestOfficerPage:
    def test_figures_beside_the_office_and_person_reasons_only(
        self, client, db, city, make_user, login
    ):
        make_user(scope="O1")
        rate(
            db,
            "OFFICR1",
            date(2026, 2, 2),
            good=25,
            bad=6,
            reasons=["attitude", "procedure", "facilities"],
        )
        rate(db, "COUNTR1", date(2026, 2, 2), good=10, bad=0)
        login()
        html = client.get("/dashboard/officers/CB1?from=2026-02-01&to=2026-02-07").get_data(
            as_text=True
        )
        assert "Nguyễn Thị Lan" in html
        assert "Thái độ, cách giao tiếp của cán bộ" in html
        assert "Thủ tục hành chính rườm rà" not in html and "Cơ sở vật chất" not in html
        # 31 ratings: shown; the office's 41 too.
        assert "80,6%" in html  # 25 / 31
        assert "85,4%" in html  # 35 / 41

    def test_below_thirty_ratings_nothing_is_shown(self, client, db, city, make_user, login):
        make_user(scope="O1")
        rate(db, "OFFICR1", date(2026, 2, 2), good=20, bad=9, reasons=["attitude"])
        login()
        html = client.get("/dashboard/officers/CB1?from=2026-02-01&to=2026-02-07").get_data(
            as_text=True
        )
        assert "chưa đủ dữ liệu" in html and "Thái độ" not in html

    def test_scoped(self, client, db, city, make_user, login):
        make_user(email="other@example.vn", scope="O2")
        login(email="other@example.vn", password=PASSWORD)
        assert client.get("/dashboard/officers/CB1").status_code == 403
        assert client.get("/dashboard/officers/NOPE").status_code == 404


def test_thin_days_are_shown_by_week_unless_days_are_asked(client, db, city, make_user, login):
    make_user(scope="O1")
    for day in (3, 10, 17):
        rate(db, "COUNTR1", date(2026, 2, day), good=10, bad=2)
    login()
    html = client.get("/dashboard/offices/O1?from=2026-02-01&to=2026-02-28").get_data(as_text=True)
    # 3 of 28 days have ten ratings, 3 of 5 weeks do: the trend is drawn by week.
    assert '<span aria-current="true">Theo tuần</span>' in html
    asked = client.get("/dashboard/offices/O1?from=2026-02-01&to=2026-02-28&interval=day").get_data(
        as_text=True
    )
    assert '<span aria-current="true">Theo ngày</span>' in asked
