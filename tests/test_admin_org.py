"""The organisation in the web UI (/admin/org), for every role, through the pages people use.

Who may see, create, rename, move, retire and reactivate units, offices, counters and officers;
form mistakes answered in the page (400, nothing stored); a retired place's codes answer like
paused ones while its figures stay; a new place has a code at once; opening hours and the
survey each channel asks are saved and used.
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import datetime

import pytest
from sqlalchemy import func, select

from surveys.models import Counter, Office, Officer, Response, Target, Unit
from tests.admin_support import (
    EVERYONE,
    assert_csp_clean,
    page_text,
    post,
    sign_in,
)

#: The status each role gets, in the order of EVERYONE:
#: admin, unit_admin (D1), unit_manager (D1), office_manager (O1), viewer (O1), anonymous.
ALL_STAFF = (200, 200, 200, 200, 403, 302)
ADMIN_ONLY = (200, 403, 403, 403, 403, 302)
UNIT_ADMINS = (200, 200, 403, 403, 403, 302)

HOURS_FIELDS = {
    "hours": "1",
    **{f"open-{d}": "1" for d in ("mon", "tue", "wed", "thu", "fri")},
    **{f"opens-{d}": "07:30" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    **{f"closes-{d}": "17:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
}


HOURS_MESSAGE = "Opening hours: write each time as HH:MM"


def office_form(code="O1", name="Bộ phận một cửa", parent="D1", **extra):
    return {
        "code": code,
        "name": name,
        "parent": parent,
        "address": "1 Phố Huế",
        "timezone": "Asia/Ho_Chi_Minh",
        **HOURS_FIELDS,
        **extra,
    }


def redirect_or(status: int, successful: int) -> int:
    """A successful write redirects; anyone else gets what a read gets."""
    return successful if status == 200 else status


READS = [
    ("/admin/org", ALL_STAFF),
    ("/admin/org/units/new", UNIT_ADMINS),
    ("/admin/org/units/D1", UNIT_ADMINS),
    ("/admin/org/units/D2", ADMIN_ONLY),
    ("/admin/org/units/NOPE", (404, 404, 403, 403, 403, 302)),
    ("/admin/org/offices/new", (200, 200, 200, 403, 403, 302)),
    ("/admin/org/offices/O1", ALL_STAFF),
    ("/admin/org/offices/O2", ADMIN_ONLY),
    ("/admin/org/offices/NOPE", (404, 404, 404, 404, 403, 302)),
    ("/admin/org/counters/O1-Q1", ALL_STAFF),
    ("/admin/org/counters/O2-Q1", ADMIN_ONLY),
    ("/admin/org/counters/NOPE", (404, 404, 404, 404, 403, 302)),
    ("/admin/org/officers/CB1", ALL_STAFF),
    ("/admin/org/officers/CB2", ADMIN_ONLY),
    ("/admin/org/officers/NOPE", (404, 404, 404, 404, 403, 302)),
]

WRITES = [
    ("/admin/org/units/new", {"code": "NEW-U", "name": "Phường Mới", "parent": "D1"}, UNIT_ADMINS),
    ("/admin/org/units/D1", {"code": "D1", "name": "Quận 1", "parent": "ROOT"}, UNIT_ADMINS),
    ("/admin/org/units/D2", {"code": "D2", "name": "Quận 2", "parent": "ROOT"}, ADMIN_ONLY),
    ("/admin/org/units/D2/surveys", {"survey-kiosk": "sipas"}, ADMIN_ONLY),
    ("/admin/org/units/NOPE/surveys", {}, (404, 404, 403, 403, 403, 302)),
    ("/admin/org/units/D2/active", {"active": "1"}, ADMIN_ONLY),
    ("/admin/org/units/NOPE/active", {"active": "1"}, (404, 404, 403, 403, 403, 302)),
    ("/admin/org/offices/new", office_form("NEW-O", parent="D1"), (200, 200, 200, 403, 403, 302)),
    ("/admin/org/offices/O1", office_form("O1", "Một cửa Quận 1"), ALL_STAFF),
    ("/admin/org/offices/O2", office_form("O2", "Một cửa Quận 2", "D2"), ADMIN_ONLY),
    ("/admin/org/offices/O1/surveys", {"survey-office": "sipas"}, ALL_STAFF),
    ("/admin/org/offices/O2/surveys", {"survey-office": "sipas"}, ADMIN_ONLY),
    ("/admin/org/offices/O1/counters", {"code": "O1-Q9", "name": "Quầy 9"}, ALL_STAFF),
    ("/admin/org/offices/O2/counters", {"code": "O2-Q9", "name": "Quầy 9"}, ADMIN_ONLY),
    ("/admin/org/offices/NOPE/counters", {"code": "X-Q9", "name": "Quầy 9"},
     (404, 404, 404, 404, 403, 302)),
    ("/admin/org/offices/O1/officers", {"code": "CB9", "name": "Lê Văn Chín"}, ALL_STAFF),
    ("/admin/org/offices/O2/officers", {"code": "CB8", "name": "Lê Văn Tám"}, ADMIN_ONLY),
    ("/admin/org/counters/O1-Q1", {"code": "O1-Q1", "name": "Quầy một", "parent": "O1"},
     ALL_STAFF),
    ("/admin/org/counters/O2-Q1", {"code": "O2-Q1", "name": "Quầy một", "parent": "O2"},
     ADMIN_ONLY),
    ("/admin/org/officers/CB1", {"code": "CB1", "name": "Nguyễn Thị Lan", "title": "Chuyên viên"},
     ALL_STAFF),
    ("/admin/org/officers/CB2", {"code": "CB2", "name": "Trần Văn Bình", "title": "Chuyên viên"},
     ADMIN_ONLY),
    ("/admin/org/counters/O1-Q1/active", {"active": "1"}, ALL_STAFF),
    ("/admin/org/counters/O2-Q1/active", {"active": "1"}, ADMIN_ONLY),
    ("/admin/org/officers/CB1/active", {"active": "1"}, ALL_STAFF),
    ("/admin/org/officers/CB2/active", {"active": "1"}, ADMIN_ONLY),
    ("/admin/org/offices/O1/active", {"active": "1"}, ALL_STAFF),
    ("/admin/org/offices/O2/active", {"active": "1"}, ADMIN_ONLY),
    ("/admin/org/offices/NOPE/active", {"active": "1"}, (404, 404, 404, 404, 403, 302)),
]  # fmt: skip


@pytest.fixture()
def second_officer(db, city):
    """CB2 works at O2, outside the scope of everyone scoped to D1 or O1."""
    db.add(Officer(code="CB2", name="Trần Văn Bình", office=city.other_office))
    db.commit()


def snapshot(db) -> dict:
    """What the city is now: every name, parent and state, for 'nothing changed' checks."""
    db.expire_all()
    return {
        "units": sorted(
            (u.code, u.name, u.parent_id, u.path, u.is_active) for u in db.scalars(select(Unit))
        ),
        "offices": sorted(
            (o.code, o.name, o.unit_id, o.address, o.timezone, str(o.opening_hours), o.is_active)
            for o in db.scalars(select(Office))
        ),
        "counters": sorted(
            (c.code, c.name, c.office_id, c.is_active) for c in db.scalars(select(Counter))
        ),
        "officers": sorted(
            (o.code, o.name, o.title, o.office_id, o.is_active) for o in db.scalars(select(Officer))
        ),
        "targets": sorted((t.code, t.survey_id, t.office_id) for t in db.scalars(select(Target))),
    }


class TestWhoMayDoWhat:
    @pytest.mark.parametrize("role", EVERYONE)
    def test_pages(self, client, db, city, second_officer, role):
        sign_in(client, db, role)
        expected = EVERYONE.index(role)
        got = {path: client.get(path).status_code for path, _statuses in READS}
        assert got == {path: statuses[expected] for path, statuses in READS}

    @pytest.mark.parametrize("role", EVERYONE)
    def test_changes(self, client, db, city, second_officer, role):
        sign_in(client, db, role)
        expected = EVERYONE.index(role)
        got, wanted = {}, {}
        for path, data, statuses in WRITES:
            response = post(client, path, data)
            got[path] = response.status_code
            wanted[path] = redirect_or(statuses[expected], 302)
            if response.status_code == 302 and role == "anonymous":
                assert "/login" in response.headers["Location"]
        assert got == wanted

    @pytest.mark.parametrize("role", ["unit_admin", "unit_manager", "office_manager", "viewer"])
    def test_refused_changes_store_nothing(self, client, db, city, second_officer, role):
        sign_in(client, db, role)
        before = snapshot(db)
        for path, data in [
            ("/admin/org/units/D2", {"code": "D2", "name": "Đổi tên", "parent": "ROOT"}),
            ("/admin/org/units/D2/active", {"active": "0"}),
            ("/admin/org/offices/O2", office_form("O2", "Đổi tên", "D2")),
            ("/admin/org/offices/O2/active", {"active": "0"}),
            ("/admin/org/offices/O2/surveys", {"survey-office": "sipas"}),
            ("/admin/org/offices/O2/counters", {"code": "O2-Q9", "name": "Quầy 9"}),
            ("/admin/org/counters/O2-Q1", {"code": "O2-Q1", "name": "Đổi tên", "parent": "O2"}),
            ("/admin/org/counters/O2-Q1/active", {"active": "0"}),
            ("/admin/org/officers/CB2", {"code": "CB2", "name": "Đổi tên"}),
            ("/admin/org/officers/CB2/active", {"active": "0"}),
        ]:
            assert post(client, path, data).status_code == 403, path
        assert snapshot(db) == before

    def test_a_malformed_retire_form_retires_nothing(self, client, db, city):
        sign_in(client, db, "admin")
        before = snapshot(db)
        for data in ({"active": "yes"}, {"active": ""}, {}):
            for path in ("/admin/org/offices/O1/active", "/admin/org/counters/O1-Q1/active"):
                assert post(client, path, data).status_code == 400, (path, data)
        assert snapshot(db) == before

    def test_the_tree_shows_only_the_scope(self, client, db, city):
        sign_in(client, db, "unit_manager")
        html = page_text(client.get("/admin/org?lang=en"))
        assert "Bộ phận một cửa Quận Một" in html and "Bộ phận một cửa Quận Hai" not in html
        assert "/admin/org/units/D1" not in html  # managers do not edit the unit tree
        assert "/admin/org/offices/new?unit=D1" in html

    def test_a_scoped_administrator_edits_their_own_unit(self, client, db, city):
        sign_in(client, db, "unit_admin")
        page = page_text(client.get("/admin/org/units/D1"))
        assert "Quận Hai" not in page  # no unit outside the scope is offered as a parent
        response = post(
            client, "/admin/org/units/D1", {"code": "D1", "name": "Quận 1", "parent": ""}
        )
        assert response.status_code == 403  # moving it to the top level leaves their scope
        response = post(
            client, "/admin/org/units/D1", {"code": "D1", "name": "Quận 1", "parent": "ROOT"}
        )
        assert response.status_code == 302
        db.expire_all()
        assert db.scalar(select(Unit.name).where(Unit.code == "D1")) == "Quận 1"


class TestUnits:
    @pytest.fixture(autouse=True)
    def _admin(self, client, db, city):
        sign_in(client, db, "admin")

    def test_create_rename_and_move(self, client, db):
        response = post(
            client,
            "/admin/org/units/new",
            {"code": "p-01", "name": " Phường  Một ", "parent": "D1"},
        )
        assert response.status_code == 302
        db.expire_all()
        ward = db.scalar(select(Unit).where(Unit.code == "P-01"))
        d1 = db.scalar(select(Unit).where(Unit.code == "D1"))
        assert ward.name == "Phường Một" and ward.parent_id == d1.id
        assert ward.path == f"{d1.path}{ward.id}/"

        response = post(
            client, "/admin/org/units/P-01", {"code": "P-01", "name": "Phường 1", "parent": "D2"}
        )
        assert response.status_code == 302
        db.expire_all()
        d2 = db.scalar(select(Unit).where(Unit.code == "D2"))
        ward = db.scalar(select(Unit).where(Unit.code == "P-01"))
        assert ward.name == "Phường 1" and ward.parent_id == d2.id
        assert ward.path == f"{d2.path}{ward.id}/"

    def test_moving_a_unit_moves_its_subtree(self, client, db, city):
        post(client, "/admin/org/units/new", {"code": "P1", "name": "Phường 1", "parent": "D1"})
        post(client, "/admin/org/units/new", {"code": "T1", "name": "Tổ 1", "parent": "P1"})
        response = post(
            client, "/admin/org/units/P1", {"code": "P1", "name": "Phường 1", "parent": "D2"}
        )
        assert response.status_code == 302
        db.expire_all()
        p1, t1 = (db.scalar(select(Unit).where(Unit.code == c)) for c in ("P1", "T1"))
        assert t1.path == f"{p1.path}{t1.id}/" and p1.path.startswith(
            db.scalar(select(Unit.path).where(Unit.code == "D2"))
        )

    @pytest.mark.parametrize(
        "data, message",
        [
            ({"code": "", "name": "Phường", "parent": "D1"}, "This field is required"),
            ({"code": "P1", "name": "  ", "parent": "D1"}, "This field is required"),
            ({"code": "a b", "name": "Phường", "parent": "D1"}, "This value is not valid"),
            ({"code": "D1", "name": "Phường", "parent": "D1"}, "This is already in use"),
            ({"code": "P1", "name": "x" * 201, "parent": "D1"}, "200"),
            ({"code": "P1", "name": "Phường", "parent": "NOPE"}, "Not a valid choice"),
        ],
    )
    def test_form_mistakes_are_shown_and_nothing_is_stored(self, client, db, data, message):
        before = snapshot(db)
        response = post(client, "/admin/org/units/new?lang=en", data)
        html = page_text(response)
        assert response.status_code == 400
        assert message in html and 'class="error"' in html
        assert snapshot(db) == before

    @pytest.mark.parametrize("parent", ["D1", "P1"])
    def test_a_unit_under_itself_is_refused_clearly(self, client, db, parent):
        post(client, "/admin/org/units/new", {"code": "P1", "name": "Phường 1", "parent": "D1"})
        before = snapshot(db)
        response = post(
            client,
            "/admin/org/units/D1?lang=en",
            {"code": "D1", "name": "Quận 1", "parent": parent},
        )
        assert response.status_code == 400
        assert "under itself" in page_text(response)
        assert snapshot(db) == before

    def test_retiring_a_unit_with_active_offices_is_refused_clearly(self, client, db):
        response = post(client, "/admin/org/units/D1/active?lang=en", {"active": "0"})
        assert response.status_code in (302, 409)
        html = page_text(client.get("/admin/org/units/D1?lang=en"))
        assert "Retire or move its offices and sub-units first" in html
        db.expire_all()
        assert db.scalar(select(Unit.is_active).where(Unit.code == "D1")) is True

        assert post(client, "/admin/org/offices/O1/active", {"active": "0"}).status_code == 302
        assert post(client, "/admin/org/units/D1/active", {"active": "0"}).status_code == 302
        db.expire_all()
        assert db.scalar(select(Unit.is_active).where(Unit.code == "D1")) is False
        # Its parent has a sub-unit in use no more, but D2 still is: ROOT stays refused.
        post(client, "/admin/org/units/ROOT/active", {"active": "0"})
        db.expire_all()
        assert db.scalar(select(Unit.is_active).where(Unit.code == "ROOT")) is True
        # Reactivated, it is in use again.
        assert post(client, "/admin/org/units/D1/active", {"active": "1"}).status_code == 302
        db.expire_all()
        assert db.scalar(select(Unit.is_active).where(Unit.code == "D1")) is True


class TestOffices:
    @pytest.fixture(autouse=True)
    def _admin(self, client, db, city):
        sign_in(client, db, "admin")

    def test_a_new_office_has_a_survey_code_and_a_poster_at_once(self, client, db):
        response = post(
            client, "/admin/org/offices/new", office_form("O3", "Một cửa Phường Ba", "D2")
        )
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/admin/org/offices/O3")
        db.expire_all()
        office = db.scalar(select(Office).where(Office.code == "O3"))
        (target,) = db.scalars(select(Target).where(Target.office_id == office.id))
        assert target.kind == "office" and target.is_active
        assert target.code in page_text(client.get("/admin/codes/offices/O3"))
        citizen = client.application.test_client()
        assert citizen.get(f"/s/{target.code}").status_code == 200
        assert citizen.get(f"/s/{target.code}/poster").status_code == 200
        survey = citizen.get(f"/api/v1/surveys/{target.code}")
        assert survey.status_code == 200 and survey.json["survey"]["key"] == "quick"

    def test_form_mistakes_are_shown_and_nothing_is_stored(self, client, db):
        before = snapshot(db)
        for data, message in [
            (office_form("", "Tên"), "This field is required"),
            (office_form("O3", ""), "This field is required"),
            (office_form("O1", "Trùng mã"), "This is already in use"),
            (office_form("O3", "Tên", "NOPE"), "Not a valid choice"),
            (office_form("O3", "Tên", timezone="Mars/Olympus"), "Not a valid choice"),
            (office_form("O3", "Tên", **{"opens-mon": "18:00"}), HOURS_MESSAGE),
            (office_form("O3", "Tên", **{"opens-mon": "7h30"}), HOURS_MESSAGE),
            (office_form("O3", "Tên", **{"closes-fri": ""}), HOURS_MESSAGE),
            (office_form("O3", "Tên", address="x" * 301), "300"),
        ]:
            response = post(client, "/admin/org/offices/new?lang=en", data)
            html = page_text(response)
            assert response.status_code == 400, data
            assert message in html and 'class="error"' in html, (message, data)
        assert snapshot(db) == before

    def test_saving_with_a_mistake_keeps_what_was_stored(self, client, db):
        before = snapshot(db)
        response = post(
            client,
            "/admin/org/offices/O1?lang=en",
            office_form("O1", "Tên mới", **{"closes-tue": "06:00"}),
        )
        assert response.status_code == 400 and HOURS_MESSAGE in page_text(response)
        response = post(client, "/admin/org/offices/O1?lang=en", office_form("O1", ""))
        assert response.status_code == 400 and "This field is required" in page_text(response)
        assert snapshot(db) == before

    def test_rename_move_and_change_details(self, client, db, city):
        data = office_form("O1", "Một cửa Quận Một (mới)", "D2", address="5 Tràng Tiền")
        data["timezone"] = "Asia/Bangkok"
        assert post(client, "/admin/org/offices/O1", data).status_code == 302
        db.expire_all()
        office = db.get(Office, city.office.id)
        assert (office.name, office.unit.code, office.address, office.timezone) == (
            "Một cửa Quận Một (mới)",
            "D2",
            "5 Tràng Tiền",
            "Asia/Bangkok",
        )

    def test_opening_hours_are_saved_and_used_by_the_kiosk(
        self, client, db, city, device_token, monkeypatch
    ):
        data = office_form("O1", city.office.name)
        data.update({"opens-mon": "08:00", "closes-mon": "11:30"})
        data.update({"open-sat": "1", "opens-sat": "08:00", "closes-sat": "12:00"})
        del data["open-fri"]
        assert post(client, "/admin/org/offices/O1", data).status_code == 302
        db.expire_all()
        assert db.get(Office, city.office.id).opening_hours == [
            ["08:00", "11:30"],
            ["07:30", "17:00"],
            ["07:30", "17:00"],
            ["07:30", "17:00"],
            None,
            ["08:00", "12:00"],
            None,
        ]
        page = page_text(client.get("/admin/org/offices/O1"))
        assert 'name="closes-mon" value="11:30"' in page
        assert re.search(r'name="open-fri" value="1"(?! checked)>', page)

        def state_at(moment: datetime) -> dict:
            monkeypatch.setattr("kiosk.views.api.kiosk.utcnow", lambda: moment)
            response = client.application.test_client().get(
                "/api/v1/kiosk/state", headers={"Authorization": f"Bearer {device_token}"}
            )
            assert response.status_code == 200
            return response.json["office"]

        # Monday 2 March 2026, 09:00 in Hanoi (02:00 UTC): it closes at 11:30 today.
        assert state_at(datetime(2026, 3, 2, 2, 0))["closes_at"] == "11:30"
        # Thursday 5 March, 18:00: closed; the next closing time is Saturday's (Friday is shut).
        assert state_at(datetime(2026, 3, 5, 11, 0))["closes_at"] == "12:00"

    def test_details_sent_without_the_hours_grid_keep_the_hours(self, client, db, city):
        data = {k: v for k, v in office_form("O1", "Tên mới").items() if "-" not in k}
        del data["hours"]
        assert post(client, "/admin/org/offices/O1", data).status_code == 302
        db.expire_all()
        office = db.get(Office, city.office.id)
        assert office.name == "Tên mới" and office.opening_hours[0] == ["07:30", "17:00"]

    def test_survey_choice_changes_what_the_codes_ask(self, client, db, city):
        citizen = client.application.test_client()

        def key(code: str) -> str:
            return citizen.get(f"/api/v1/surveys/{code}").json["survey"]["key"]

        assert (key("OFFICE1"), key("COUNTR1"), key("OFFICR1")) == (
            "quick",
            "quick",
            "office_culture",
        )
        response = post(
            client,
            "/admin/org/offices/O1/surveys",
            {"survey-office": "sipas", "survey-counter": "office_culture", "survey-officer": ""},
        )
        assert response.status_code == 302
        assert (key("OFFICE1"), key("COUNTR1"), key("OFFICR1")) == (
            "sipas",
            "office_culture",
            "office_culture",
        )
        # A unit's choice reaches its offices, unless an office chose for itself.
        response = post(client, "/admin/org/units/D1/surveys", {"survey-officer": "quick"})
        assert response.status_code == 302
        assert key("OFFICR1") == "quick" and key("OFFICE1") == "sipas"
        # Back to the unit's choice and the defaults.
        assert post(client, "/admin/org/offices/O1/surveys", {}).status_code == 302
        assert (key("OFFICE1"), key("COUNTR1"), key("OFFICR1")) == ("quick", "quick", "quick")
        assert key("OFFICE2") == "quick"  # another unit is untouched

    def test_survey_choice_reaches_the_kiosk(self, client, db, city, device_token):
        tablet = client.application.test_client()
        tablet.set_cookie("hailong_device", device_token)
        sipas_question = "đánh giá thế nào về:"
        assert sipas_question not in page_text(tablet.get("/kiosk"))
        post(client, "/admin/org/offices/O1/surveys", {"survey-kiosk": "sipas"})
        assert sipas_question in page_text(tablet.get("/kiosk"))
        # The office's own QR code still asks its own choice.
        assert sipas_question not in page_text(tablet.get("/s/OFFICE1"))

    def test_an_unknown_survey_is_refused(self, client, db):
        before = snapshot(db)
        response = post(client, "/admin/org/offices/O1/surveys", {"survey-office": "nope"})
        assert 400 <= response.status_code < 500
        assert snapshot(db) == before


def give_responses(client, code: str, count: int) -> None:
    for _ in range(count):
        response = client.application.test_client().post(
            "/api/v1/responses",
            json={
                "id": str(uuid.uuid4()),
                "target": code,
                "answers": {"overall": "very_satisfied"},
            },
        )
        assert response.status_code == 201, response.json


def assert_paused(client, code: str) -> None:
    citizen = client.application.test_client()
    page = citizen.get(f"/s/{code}?lang=en")
    assert page.status_code == 404 and "This survey is paused" in page_text(page), code
    api = citizen.get(f"/api/v1/surveys/{code}")
    assert api.status_code == 404 and api.json["error"]["fields"] == {"target": "inactive_code"}
    assert citizen.get(f"/s/{code}/poster").status_code == 404
    answer = citizen.post(
        "/api/v1/responses",
        json={"id": str(uuid.uuid4()), "target": code, "answers": {"overall": "satisfied"}},
    )
    assert answer.status_code == 404


def assert_answering(client, code: str) -> None:
    assert client.application.test_client().get(f"/s/{code}").status_code == 200, code


class TestRetiring:
    @pytest.fixture(autouse=True)
    def _manager(self, client, db, city):
        sign_in(client, db, "office_manager")

    def summary(self, client) -> dict:
        return client.get("/api/v1/offices/O1/summary?from=2000-01-01").json

    def test_a_retired_counter_answers_like_a_paused_code_and_keeps_its_figures(
        self, client, db, city
    ):
        give_responses(client, "COUNTR1", 12)
        before = self.summary(client)
        assert before["responses"] == 12
        response = post(client, "/admin/org/counters/O1-Q1/active?lang=en", {"active": "0"})
        assert response.status_code == 302
        assert "its history and figures are kept" in page_text(
            client.get(response.headers["Location"])
        )
        assert_paused(client, "COUNTR1")
        assert_answering(client, "OFFICE1")
        assert self.summary(client) == before
        assert db.scalar(select(func.count()).select_from(Response)) == 12
        assert "Retired" in page_text(client.get("/admin/org/offices/O1?lang=en"))

        assert post(client, "/admin/org/counters/O1-Q1/active", {"active": "1"}).status_code == 302
        assert_answering(client, "COUNTR1")

    def test_a_retired_officer_answers_like_a_paused_code(self, client, db, city):
        give_responses(client, "OFFICE1", 3)
        assert post(client, "/admin/org/officers/CB1/active", {"active": "0"}).status_code == 302
        db.expire_all()
        assert db.get(Officer, city.officer.id).is_active is False
        assert_paused(client, "OFFICR1")
        assert_answering(client, "COUNTR1")
        assert post(client, "/admin/org/officers/CB1/active", {"active": "1"}).status_code == 302
        assert_answering(client, "OFFICR1")

    def test_a_retired_office_pauses_every_code_of_it(self, client, db, city):
        give_responses(client, "OFFICE1", 11)
        before = self.summary(client)
        assert post(client, "/admin/org/offices/O1/active", {"active": "0"}).status_code == 302
        for code in ("OFFICE1", "COUNTR1", "OFFICR1"):
            assert_paused(client, code)
        assert self.summary(client) == before
        assert client.get("/admin/org/offices/O1").status_code == 200
        assert post(client, "/admin/org/offices/O1/active", {"active": "1"}).status_code == 302
        for code in ("OFFICE1", "COUNTR1", "OFFICR1"):
            assert_answering(client, code)

    def test_no_tickets_for_a_retired_place(self, client, db, city):
        from surveys.models import Ticket

        post(client, "/admin/org/counters/O1-Q1/active", {"active": "0"})
        post(client, "/admin/org/officers/CB1/active", {"active": "0"})
        response = post(
            client,
            "/admin/codes/offices/O1/tickets?lang=en",
            {"count": "2", "counter": "O1-Q1", "officer": "CB1"},
        )
        html = page_text(response)
        assert response.status_code == 400
        assert '<p class="error" id="e-counter">This is retired: reactivate it first.</p>' in html
        assert '<p class="error" id="e-officer">This is retired: reactivate it first.</p>' in html
        post(client, "/admin/org/offices/O1/active", {"active": "0"})
        response = post(client, "/admin/codes/offices/O1/tickets", {"count": "2"})
        assert response.status_code == 400
        from surveys import accounts
        from surveys.db import utcnow

        token = accounts.create_api_token(
            db, "office.manager@example.vn", now=utcnow(), scope="admin"
        )
        db.commit()
        api = client.post(
            "/api/v1/tickets",
            json={"office": "O1", "count": 2},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert api.status_code == 409 and api.json["error"]["fields"] == {"office": "retired"}
        assert db.scalar(select(func.count()).select_from(Ticket)) == 0
        # Reactivated, it mints again.
        post(client, "/admin/org/offices/O1/active", {"active": "1"})
        assert post(client, "/admin/codes/offices/O1/tickets", {"count": "2"}).status_code == 302

    def test_a_code_looked_up_before_retiring_is_not_served_from_the_cache(self, client, city):
        assert_answering(client, "COUNTR1")
        post(client, "/admin/org/counters/O1-Q1/active", {"active": "0"})
        assert_paused(client, "COUNTR1")


class TestCountersAndOfficers:
    @pytest.fixture(autouse=True)
    def _manager(self, client, db, city):
        sign_in(client, db, "unit_manager")

    def test_a_new_counter_has_a_code_at_once(self, client, db, city):
        response = post(
            client, "/admin/org/offices/O1/counters", {"code": "o1-q2", "name": "Quầy 2"}
        )
        assert response.status_code == 302
        db.expire_all()
        counter = db.scalar(select(Counter).where(Counter.code == "O1-Q2"))
        (target,) = db.scalars(select(Target).where(Target.counter_id == counter.id))
        assert target.kind == "counter" and target.office_id == city.office.id
        assert client.get(f"/s/{target.code}/poster").status_code == 200
        assert target.code in page_text(client.get("/admin/org/offices/O1"))

    def test_a_new_officer_has_a_code_at_once(self, client, db, city):
        response = post(
            client,
            "/admin/org/offices/O1/officers",
            {"code": "cb7", "name": "Phạm Thu Hà", "title": "Chuyên viên", "counters": "O1-Q1"},
        )
        assert response.status_code == 302
        db.expire_all()
        officer = db.scalar(select(Officer).where(Officer.code == "CB7"))
        assert officer.title == "Chuyên viên" and [c.code for c in officer.counters] == ["O1-Q1"]
        (target,) = db.scalars(select(Target).where(Target.officer_id == officer.id))
        assert target.kind == "officer"
        assert client.get(f"/s/{target.code}/poster").status_code == 200
        survey = client.get(f"/api/v1/surveys/{target.code}").json
        assert survey["survey"]["key"] == "office_culture"

    @pytest.mark.parametrize(
        "path, data, message",
        [
            ("counters", {"code": "O1-Q1", "name": "Trùng"}, "This is already in use"),
            ("counters", {"code": "O1-Q2", "name": ""}, "This field is required"),
            ("counters", {"code": "Q/2", "name": "Quầy"}, "This value is not valid"),
            ("officers", {"code": "CB1", "name": "Trùng"}, "This is already in use"),
            ("officers", {"code": "CB7", "name": ""}, "This field is required"),
            ("officers", {"code": "CB7", "name": "Hà", "counters": "O2-Q1"}, "not a valid choice"),
        ],
    )
    def test_form_mistakes_are_shown_in_the_office_page(self, client, db, path, data, message):
        before = snapshot(db)
        response = post(client, f"/admin/org/offices/O1/{path}?lang=en", data)
        html = page_text(response)
        assert response.status_code == 400
        assert message.lower() in html.lower() and 'class="error"' in html
        assert snapshot(db) == before

    def test_rename_and_move_a_counter_within_scope(self, client, db, city):
        post(client, "/admin/org/offices/new", office_form("O3", "Một cửa Phường", "D1"))
        response = post(
            client, "/admin/org/counters/O1-Q1", {"code": "O1-Q1", "name": "Quầy A", "parent": "O3"}
        )
        assert response.status_code == 302
        db.expire_all()
        counter = db.get(Counter, city.counter.id)
        assert counter.name == "Quầy A" and counter.office.code == "O3"
        target = db.scalar(select(Target).where(Target.code == "COUNTR1"))
        assert target.office.code == "O3"
        # Out of scope: O2 is not offered.
        response = post(
            client, "/admin/org/counters/O1-Q1", {"code": "O1-Q1", "name": "Quầy A", "parent": "O2"}
        )
        assert response.status_code in (400, 403)
        db.expire_all()
        assert db.get(Counter, city.counter.id).office.code == "O3"

    def test_edit_and_move_an_officer(self, client, db, city):
        post(client, "/admin/org/offices/new", office_form("O3", "Một cửa Phường", "D1"))
        response = post(
            client,
            "/admin/org/officers/CB1",
            {"code": "CB1", "name": "Nguyễn Thị Lan Anh", "title": "Phó trưởng", "parent": "O3"},
        )
        assert response.status_code == 302
        db.expire_all()
        officer = db.get(Officer, city.officer.id)
        assert (officer.name, officer.title, officer.office.code) == (
            "Nguyễn Thị Lan Anh",
            "Phó trưởng",
            "O3",
        )
        assert (
            db.scalar(select(Target.office_id).where(Target.code == "OFFICR1")) == officer.office_id
        )
        response = post(
            client, "/admin/org/officers/CB1", {"code": "CB1", "name": "Lan", "parent": "O2"}
        )
        assert response.status_code == 403
        db.expire_all()
        assert db.get(Officer, city.officer.id).office.code == "O3"

    def test_an_officer_photo(self, client, db, city):
        png = (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
            b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
            b"\x00\x00\x00\x00IEND\xaeB`\x82"
        )
        response = post(
            client,
            "/admin/org/officers/CB1",
            {"code": "CB1", "name": "Nguyễn Thị Lan", "photo": (io.BytesIO(png), "lan.png")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 302
        photo = client.get("/admin/org/officers/CB1/photo")
        assert photo.status_code == 200 and photo.data == png and photo.mimetype == "image/png"
        assert "no-store" in photo.headers["Cache-Control"]

    @pytest.mark.parametrize(
        "content, name, message",
        [
            (b"\xff\xd8\xff" + b"x" * 2048, "big.jpg", "The photo is larger than 512 KB."),
            (b"not an image", "notes.txt", "Use a JPEG, PNG or WebP photo."),
            (b"<html>not an image</html>", "fake.png", "Use a JPEG, PNG or WebP photo."),
        ],
    )
    def test_a_photo_that_cannot_be_used_is_a_form_error(
        self, client, db, city, monkeypatch, content, name, message
    ):
        # A small limit keeps the upload in memory (the test client leaks larger bodies).
        monkeypatch.setattr("kiosk.views.admin.org.PHOTO_MAX_BYTES", 1024)
        before = snapshot(db)
        response = post(
            client,
            "/admin/org/offices/O1/officers?lang=en",
            {"code": "CB7", "name": "Phạm Thu Hà", "photo": (io.BytesIO(content), name)},
            content_type="multipart/form-data",
        )
        assert response.status_code == 400
        assert f'<p class="error" id="e-photo">{message}</p>' in page_text(response)
        assert snapshot(db) == before


class TestPages:
    @pytest.mark.parametrize("role", ["admin", "unit_admin", "unit_manager", "office_manager"])
    def test_every_page_is_csp_clean(self, client, db, city, role):
        sign_in(client, db, role)
        for path in [
            "/admin/org",
            "/admin/org/offices/O1",
            "/admin/org/offices/new",
            "/admin/org/counters/O1-Q1",
            "/admin/org/officers/CB1",
            "/admin/org/units/D1",
            "/admin/org/units/new",
        ]:
            response = client.get(path)
            if response.status_code == 200:
                assert_csp_clean(page_text(response), path)
            else:
                assert response.status_code == 403, path

    def test_a_form_error_page_is_csp_clean_and_marks_the_field(self, client, db, city):
        sign_in(client, db, "admin")
        response = post(client, "/admin/org/offices/O1/counters", {"code": "", "name": ""})
        html = page_text(response)
        assert response.status_code == 400 and 'aria-invalid="true"' in html
        assert_csp_clean(html)
