"""The public office pages /p and /p/CODE and their open data: monthly figures with n and
interval, reasons, nothing under MIN_RESPONSES, no officer, no comment, cached."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from kiosk import public_cache
from surveys.db import utcnow
from surveys.models import Office
from surveys.responses import ResponseInput, submit_response
from tests.conftest import PASSWORD, csrf_token


@pytest.fixture(autouse=True)
def _fresh_cache():
    public_cache.clear()
    yield
    public_cache.clear()


def _ratings(db, count, positive, *, target="OFFICR1", start=None, comment=None):
    start = start or utcnow() - timedelta(minutes=count * 20)
    for i in range(count):
        if i < positive:
            answers = {"overall": "very_satisfied"}
        else:
            answers = {"overall": "not_satisfied", "reasons": ["waiting_time", "harassment"]}
        submit_response(
            db,
            ResponseInput(id=uuid.uuid4(), target_code=target, answers=answers, comment=comment),
            now=start + i * timedelta(minutes=20),
        )
    db.commit()


def test_the_office_page_shows_figures_reasons_and_nothing_private(client, db, city):
    _ratings(db, 14, 4, comment="Cán bộ Lan đòi tiền")
    page = client.get("/p/o1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Bộ phận một cửa Quận Một" in html
    assert "29" in html  # 4 of 14 satisfied
    assert "Thời gian chờ đợi lâu: 10" in html
    assert "Nguyễn Thị Lan" not in html and "đòi tiền" not in html
    assert "<script" not in html and " style=" not in html
    assert len(page.data) <= 50 * 1024
    assert page.headers["Cache-Control"] == "public, max-age=300"


def test_no_figure_below_the_minimum(client, db, city):
    _ratings(db, 9, 0)
    html = client.get("/p/O1").get_data(as_text=True)
    assert "chưa đủ dữ liệu" in html
    assert "0%" not in html and "Thời gian chờ đợi lâu" not in html


def test_figures_by_month_as_open_data(client, db, city):
    _ratings(db, 12, 9)
    _ratings(db, 8, 0, start=utcnow() - timedelta(days=45))
    data = client.get("/api/v1/public/offices/O1").json
    assert data["office"] == {
        "code": "O1",
        "name": "Bộ phận một cửa Quận Một",
        "unit": "Quận Một",
    }
    assert len(data["months"]) == 12
    current = data["months"][-1]
    assert (current["n"], current["rate"]) == (12, 0.75)
    assert current["ci_low"] < 0.75 < current["ci_high"]
    assert sum(m["n"] for m in data["months"]) == 20
    assert data["reasons_n"] == 11
    assert all(m["rate"] is None for m in data["months"] if m["n"] < 10)
    assert [r["key"] for r in data["reasons"]][:2] in (
        ["harassment", "waiting_time"],
        ["waiting_time", "harassment"],
    )
    assert "Nguyễn Thị Lan" not in str(data)


def test_the_city_listing(client, db, city):
    city.other_office.is_active = False
    db.merge(city.other_office)
    db.commit()
    html = client.get("/p").get_data(as_text=True)
    assert "/p/O1" in html and "/p/O2" not in html


def test_unknown_or_retired_offices_are_404(client, db, city):
    assert client.get("/p/NOPE").status_code == 404
    assert client.get("/api/v1/public/offices/NOPE").status_code == 404
    db.get(Office, city.office.id).is_active = False
    db.commit()
    assert client.get("/p/O1").status_code == 404


def test_figures_are_cached(client, db, city):
    _ratings(db, 12, 12)
    first = client.get("/api/v1/public/offices/O1").json["months"][-1]["n"]
    _ratings(db, 3, 3)
    assert client.get("/api/v1/public/offices/O1").json["months"][-1]["n"] == first == 12
    public_cache.clear()
    assert client.get("/api/v1/public/offices/O1").json["months"][-1]["n"] == 15


def test_english(client, db, city):
    _ratings(db, 12, 2)
    html = client.get("/p/O1?lang=en").get_data(as_text=True)
    assert "Long waiting time: 10" in html


# "You said, we did" ------------------------------------------------------------------------


def _publish(client, **fields):
    token = csrf_token(client.get("/actions").get_data(as_text=True))
    return client.post("/actions", data={"csrf_token": token, **fields})


def test_a_manager_publishes_what_was_done(client, db, city, make_user, login):
    make_user("quanly@example.vn", "manager", "D1")
    login("quanly@example.vn", PASSWORD)
    client.get("/p/O1")  # cached before publishing
    answer = _publish(
        client,
        office="O1",
        said="Phải chờ lâu, gọi 0912 345 678 không ai nghe",
        done="Mở thêm quầy tiếp nhận buổi sáng",
    )
    assert answer.status_code == 302
    html = client.get("/p/O1").get_data(as_text=True)
    assert "Ông/Bà góp ý: Phải chờ lâu, gọi ***78 không ai nghe" in html
    assert "Chúng tôi đã: Mở thêm quầy tiếp nhận buổi sáng" in html
    [action] = client.get("/api/v1/public/offices/O1").json["actions"]
    assert action["done"] == "Mở thêm quầy tiếp nhận buổi sáng"
    # Taken off again.
    page = client.get("/actions").get_data(as_text=True)
    action_id = int(re.search(r"/actions/(\d+)/withdraw", page).group(1))
    withdrawn = client.post(f"/actions/{action_id}/withdraw", data={"csrf_token": csrf_token(page)})
    assert withdrawn.status_code == 302
    assert "Mở thêm quầy" not in client.get("/p/O1").get_data(as_text=True)


def test_publishing_is_scoped_and_checked(client, db, city, make_user, login):
    make_user("quanly@example.vn", "manager", "O1")
    make_user("xem@example.vn", "viewer", "O1")
    login("quanly@example.vn", PASSWORD)
    assert _publish(client, office="O2", said="a", done="b").status_code == 403
    empty = _publish(client, office="O1", said="  ", done="b")
    assert empty.status_code == 400 and 'id="e-said"' in empty.get_data(as_text=True)
    assert _publish(client, office="O1", said="x" * 501, done="b").status_code == 400
    client.post(
        "/logout", data={"csrf_token": csrf_token(client.get("/alerts").get_data(as_text=True))}
    )
    login("xem@example.vn", PASSWORD)
    assert client.get("/actions").status_code == 403


def test_contacts_are_masked():
    from surveys.public import mask_contacts

    assert mask_contacts("gọi +84 912-345-678 hoặc a.b@example.vn") == "gọi ***78 hoặc ***@***"
    assert mask_contacts("năm 2026, quầy 12") == "năm 2026, quầy 12"
