"""The organisation through the API (/api/v1/units, /offices, /counters, /officers) and the
audit log (/api/v1/audit), with each role's token: scope rules, bad bodies, unknown parents,
duplicates and cycles."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from surveys import audit
from surveys.models import AuditEntry, Counter, Office, Officer, Target, Unit
from tests.admin_support import EVERYONE, ROLES, api_token, bearer

# admin, unit_admin (D1), unit_manager (D1), office_manager (O1), viewer (O1), anonymous


@pytest.fixture()
def call(client, db, city):
    """call(role, method, path, json=...) → response, with that role's API token."""
    tokens: dict[str, str] = {}

    def do(role: str, method: str, path: str, **kwargs):
        headers = {}
        if role != "anonymous":
            if role not in tokens:
                tokens[role] = api_token(db, role)
            headers = bearer(tokens[role])
        return client.open(path, method=method, headers=headers, **kwargs)

    return do


def count(db, model) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def target_of(db, **where) -> Target:
    db.expire_all()
    query = select(Target)
    for column, value in where.items():
        query = query.where(getattr(Target, column) == value)
    return db.scalar(query)


class TestReading:
    @pytest.mark.parametrize(
        "role, units",
        [
            ("admin", ["ROOT", "D1", "D2"]),
            ("unit_admin", ["D1"]),
            ("unit_manager", ["D1"]),
            ("office_manager", ["D1"]),
            ("viewer", ["D1"]),
        ],
    )
    def test_units_in_scope(self, call, role, units):
        response = call(role, "GET", "/api/v1/units")
        assert response.status_code == 200
        assert sorted(u["code"] for u in response.json) == sorted(units)
        assert all(set(u) == {"code", "name", "parent", "active"} for u in response.json)

    def test_anonymous_gets_401(self, call):
        for path in ("/api/v1/units", "/api/v1/offices/O1", "/api/v1/audit"):
            response = call("anonymous", "GET", path)
            assert response.status_code == 401 and response.json["error"]["code"], path

    @pytest.mark.parametrize("role", EVERYONE[:-1])
    def test_an_office_in_scope_with_its_codes(self, call, role):
        response = call(role, "GET", "/api/v1/offices/O1")
        assert response.status_code == 200
        body = response.json
        assert (body["code"], body["parent"], body["target"], body["active"]) == (
            "O1",
            "D1",
            "OFFICE1",
            True,
        )
        assert body["counters"] == [
            {"code": "O1-Q1", "name": "Quầy 1", "parent": "O1", "target": "COUNTR1", "active": True}
        ]
        assert body["officers"][0]["code"] == "CB1" and body["officers"][0]["target"] == "OFFICR1"
        assert body["hours"][0] == ["07:30", "17:00"] and body["hours"][6] is None

    @pytest.mark.parametrize(
        "role, status",
        [("admin", 200), ("unit_admin", 403), ("unit_manager", 403), ("viewer", 403)],
    )
    def test_an_office_out_of_scope(self, call, role, status):
        assert call(role, "GET", "/api/v1/offices/O2").status_code == status
        assert call(role, "GET", "/api/v1/offices/NOPE").status_code == 404


#: (method, path, body) of each write, with the status for each role (not anonymous: 401).
WRITES = [
    ("POST", "/api/v1/units", {"code": "P1", "name": "Phường 1", "parent": "D1"},
     (201, 201, 403, 403, 403)),
    ("POST", "/api/v1/units", {"code": "P2", "name": "Phường 2", "parent": "D2"},
     (201, 403, 403, 403, 403)),
    ("POST", "/api/v1/units", {"code": "TOP", "name": "Sở", "parent": None},
     (201, 403, 403, 403, 403)),
    ("PATCH", "/api/v1/units/D1", {"name": "Quận 1"}, (200, 200, 403, 403, 403)),
    ("PATCH", "/api/v1/units/D2", {"name": "Quận 2"}, (200, 403, 403, 403, 403)),
    ("POST", "/api/v1/offices", {"code": "O3", "name": "Một cửa 3", "parent": "D1"},
     (201, 201, 201, 403, 403)),
    ("POST", "/api/v1/offices", {"code": "O4", "name": "Một cửa 4", "parent": "D2"},
     (201, 403, 403, 403, 403)),
    ("PATCH", "/api/v1/offices/O1", {"address": "1 Phố Huế"}, (200, 200, 200, 200, 403)),
    ("PATCH", "/api/v1/offices/O2", {"address": "2 Phố Huế"}, (200, 403, 403, 403, 403)),
    ("POST", "/api/v1/offices/O1/counters", {"code": "O1-Q2", "name": "Quầy 2"},
     (201, 201, 201, 201, 403)),
    ("POST", "/api/v1/offices/O2/counters", {"code": "O2-Q2", "name": "Quầy 2"},
     (201, 403, 403, 403, 403)),
    ("POST", "/api/v1/offices/O1/officers", {"code": "CB5", "name": "Đỗ Minh Năm"},
     (201, 201, 201, 201, 403)),
    ("POST", "/api/v1/offices/O2/officers", {"code": "CB6", "name": "Đỗ Minh Sáu"},
     (201, 403, 403, 403, 403)),
    ("PATCH", "/api/v1/counters/O1-Q1", {"name": "Quầy một"}, (200, 200, 200, 200, 403)),
    ("PATCH", "/api/v1/counters/O2-Q1", {"name": "Quầy một"}, (200, 403, 403, 403, 403)),
    ("PATCH", "/api/v1/officers/CB1", {"title": "Chuyên viên"}, (200, 200, 200, 200, 403)),
]  # fmt: skip


class TestWhoMayWrite:
    @pytest.mark.parametrize("role", EVERYONE)
    def test_each_write(self, call, db, role):
        got, wanted = {}, {}
        for method, path, body, statuses in WRITES:
            key = f"{method} {path} {body.get('code', '')}"
            got[key] = call(role, method, path, json=body).status_code
            wanted[key] = 401 if role == "anonymous" else statuses[EVERYONE.index(role)]
        assert got == wanted

    def test_a_refused_write_stores_nothing(self, call, db):
        before = [count(db, m) for m in (Unit, Office, Counter, Officer, Target, AuditEntry)]
        names = sorted(db.scalars(select(Office.name)))
        for role in ("unit_manager", "viewer"):
            call(role, "POST", "/api/v1/units", json={"code": "X", "name": "X", "parent": "D1"})
            call(role, "POST", "/api/v1/offices", json={"code": "X", "name": "X", "parent": "D2"})
            call(role, "PATCH", "/api/v1/offices/O2", json={"name": "X", "active": False})
        assert [count(db, m) for m in (Unit, Office, Counter, Officer, Target)] == before[:5]
        # The only new entries are the two tokens' creation.
        assert count(db, AuditEntry) == before[5] + 2
        assert sorted(db.scalars(select(Office.name))) == names


class TestUnits:
    def test_create_and_read_back(self, call, db):
        response = call(
            "admin",
            "POST",
            "/api/v1/units",
            json={"code": "p-1", "name": "Phường 1", "parent": "d1"},
        )
        assert response.status_code == 201
        assert response.json == {"code": "P-1", "name": "Phường 1", "parent": "D1", "active": True}
        codes = [u["code"] for u in call("admin", "GET", "/api/v1/units").json]
        assert codes.index("P-1") > codes.index("D1")  # tree order

    @pytest.mark.parametrize(
        "body, fields",
        [
            ({}, {"code": "required", "name": "required"}),
            ({"code": "a b", "name": "x"}, {"code": "invalid"}),
            ({"code": "P1", "name": "   "}, {"name": "invalid"}),
            ({"code": "P1", "name": "x" * 201}, {"name": "too_long"}),
            ({"code": "P1", "name": "x", "colour": "red"}, {"colour": "unknown_field"}),
            ({"code": 7, "name": "x"}, {"code": "not_text"}),
            ([], {}),
        ],
    )
    def test_bad_bodies_name_each_field(self, call, db, body, fields):
        before = count(db, Unit)
        response = call("admin", "POST", "/api/v1/units", json=body)
        assert response.status_code == 400
        error = response.json["error"]
        assert error["code"] in ("validation_error", "malformed_json") and error["message"]
        for field, reason in fields.items():
            assert field in error["fields"], error
            assert reason in (error["fields"][field], "invalid"), error
        assert count(db, Unit) == before

    def test_not_json_is_400(self, client, call, db):
        response = call("admin", "POST", "/api/v1/units", data="code=P1", content_type="text/plain")
        assert response.status_code == 400

    def test_unknown_parent_duplicate_and_cycles(self, call, db):
        response = call(
            "admin", "POST", "/api/v1/units", json={"code": "P1", "name": "x", "parent": "NOPE"}
        )
        assert response.status_code == 404
        assert response.json["error"]["fields"] == {"parent": "unknown_code"}
        for taken in ("D1", "O1"):  # a unit's code, an office's
            response = call("admin", "POST", "/api/v1/units", json={"code": taken, "name": "x"})
            assert response.status_code == 409
            assert response.json["error"]["fields"] == {"code": "already_used"}
        call("admin", "POST", "/api/v1/units", json={"code": "P1", "name": "x", "parent": "D1"})
        for code, parent in (("D1", "D1"), ("D1", "P1"), ("ROOT", "P1")):
            response = call("admin", "PATCH", f"/api/v1/units/{code}", json={"parent": parent})
            assert response.status_code == 409, (code, parent)
            assert response.json["error"]["fields"] == {"parent": "cycle"}
        assert call("admin", "PATCH", "/api/v1/units/NOPE", json={"name": "x"}).status_code == 404
        response = call("admin", "PATCH", "/api/v1/units/P1", json={"parent": "NOPE"})
        assert response.status_code == 404

    def test_move_rename_retire_and_reactivate(self, call, db):
        call("admin", "POST", "/api/v1/units", json={"code": "P1", "name": "x", "parent": "D1"})
        response = call(
            "admin", "PATCH", "/api/v1/units/P1", json={"parent": "D2", "name": "Phường"}
        )
        assert response.status_code == 200
        assert response.json == {"code": "P1", "name": "Phường", "parent": "D2", "active": True}
        response = call("admin", "PATCH", "/api/v1/units/P1", json={"parent": None})
        assert response.status_code == 200 and response.json["parent"] is None
        response = call("admin", "PATCH", "/api/v1/units/P1", json={"active": False})
        assert response.status_code == 200 and response.json["active"] is False
        response = call("admin", "PATCH", "/api/v1/units/P1", json={"active": True})
        assert response.status_code == 200 and response.json["active"] is True
        # A field left out stays; null is a value only where it means something.
        assert call("admin", "PATCH", "/api/v1/units/P1", json={}).json["name"] == "Phường"
        assert call("admin", "PATCH", "/api/v1/units/P1", json={"name": None}).status_code == 400
        assert call("admin", "PATCH", "/api/v1/units/P1", json={"active": "no"}).status_code == 400

    def test_a_unit_in_use_is_not_retired(self, call, db):
        response = call("admin", "PATCH", "/api/v1/units/D1", json={"active": False})
        assert response.status_code == 409
        assert response.json["error"]["fields"] == {"active": "in_use"}
        assert db.scalar(select(Unit.is_active).where(Unit.code == "D1")) is True
        assert (
            call("admin", "PATCH", "/api/v1/offices/O1", json={"active": False}).status_code == 200
        )
        assert call("admin", "PATCH", "/api/v1/units/D1", json={"active": False}).status_code == 200
        # ROOT still has D2 in use.
        assert (
            call("admin", "PATCH", "/api/v1/units/ROOT", json={"active": False}).status_code == 409
        )

    def test_a_scoped_administrator_stays_in_scope(self, call, db):
        call(
            "unit_admin", "POST", "/api/v1/units", json={"code": "P1", "name": "x", "parent": "D1"}
        )
        for body in ({"parent": "D2"}, {"parent": None}, {"parent": "ROOT"}):
            response = call("unit_admin", "PATCH", "/api/v1/units/P1", json=body)
            assert response.status_code == 403, body
        assert (
            call("unit_admin", "PATCH", "/api/v1/units/D1", json={"parent": None}).status_code
            == 403
        )
        # Renaming their own unit keeps it under its parent.
        response = call(
            "unit_admin", "PATCH", "/api/v1/units/D1", json={"name": "Quận 1", "parent": "ROOT"}
        )
        assert response.status_code == 200 and response.json["parent"] == "ROOT"


class TestOffices:
    def test_create_has_a_code_at_once(self, call, client, db):
        response = call(
            "unit_manager",
            "POST",
            "/api/v1/offices",
            json={"code": "o3", "name": "Một cửa 3", "parent": "D1", "address": "3 Hàng Bài",
                  "timezone": "Asia/Bangkok"},
        )  # fmt: skip
        assert response.status_code == 201
        body = response.json
        assert (body["code"], body["unit"], body["timezone"], body["address"]) == (
            "O3",
            "D1",
            "Asia/Bangkok",
            "3 Hàng Bài",
        )
        assert body["target"] and client.get(f"/s/{body['target']}/poster").status_code == 200
        counter = call(
            "unit_manager",
            "POST",
            "/api/v1/offices/O3/counters",
            json={"code": "O3-Q1", "name": "Quầy 1"},
        )
        assert counter.status_code == 201 and counter.json["target"]
        assert client.get(f"/s/{counter.json['target']}").status_code == 200
        officer = call(
            "unit_manager",
            "POST",
            "/api/v1/offices/O3/officers",
            json={
                "code": "CB3",
                "name": "Vũ Thị Ba",
                "title": "Chuyên viên",
                "counters": ["o3-q1"],
            },
        )
        assert officer.status_code == 201
        assert officer.json["counters"] == ["O3-Q1"] and officer.json["target"]
        survey = client.get(f"/api/v1/surveys/{officer.json['target']}").json
        assert survey["survey"]["key"] == "office_culture"

    @pytest.mark.parametrize(
        "body, status, fields",
        [
            ({"code": "O3", "name": "x"}, 400, {"parent": "required"}),
            (
                {"code": "O3", "name": "x", "parent": "D1", "timezone": "Mars/Base"},
                400,
                {"timezone": "invalid"},
            ),
            (
                {"code": "O3", "name": "x", "parent": "D1", "address": "x" * 301},
                400,
                {"address": "too_long"},
            ),
            (
                {"code": "O3", "name": "x", "parent": "D1", "hours": []},
                400,
                {"hours": "unknown_field"},
            ),
            ({"code": "O3", "name": "x", "parent": "NOPE"}, 404, {"parent": "unknown_code"}),
            ({"code": "O1", "name": "x", "parent": "D1"}, 409, {"code": "already_used"}),
            # Units and offices share one space of codes (scopes, alert rules name either).
            ({"code": "D2", "name": "x", "parent": "D1"}, 409, {"code": "already_used"}),
        ],
    )
    def test_refused_bodies(self, call, db, body, status, fields):
        before = count(db, Office), count(db, Target)
        response = call("admin", "POST", "/api/v1/offices", json=body)
        assert response.status_code == status
        got = response.json["error"]["fields"]
        for field, reason in fields.items():
            assert field in got and reason in (got[field], "invalid"), got
        assert (count(db, Office), count(db, Target)) == before

    def test_patch_moves_renames_and_retires(self, call, client, db):
        response = call(
            "admin", "PATCH", "/api/v1/offices/O1", json={"parent": "D2", "name": "Một cửa"}
        )
        assert response.status_code == 200
        assert (response.json["parent"], response.json["name"]) == ("D2", "Một cửa")
        response = call("admin", "PATCH", "/api/v1/offices/O1", json={"active": False})
        assert response.status_code == 200 and response.json["active"] is False
        assert client.get("/api/v1/surveys/OFFICE1").status_code == 404
        assert client.get("/api/v1/surveys/COUNTR1").status_code == 404
        assert (
            call("admin", "PATCH", "/api/v1/offices/O1", json={"active": True}).status_code == 200
        )
        assert client.get("/api/v1/surveys/OFFICE1").status_code == 200
        assert (
            call("admin", "PATCH", "/api/v1/offices/O1", json={"parent": "NOPE"}).status_code == 404
        )
        assert (
            call("admin", "PATCH", "/api/v1/offices/O1", json={"timezone": "Nowhere"}).status_code
            == 400
        )
        assert call("admin", "PATCH", "/api/v1/offices/NOPE", json={"name": "x"}).status_code == 404

    def test_a_manager_cannot_move_an_office_out_of_scope(self, call, db, city):
        response = call("unit_manager", "PATCH", "/api/v1/offices/O1", json={"parent": "D2"})
        assert response.status_code == 403
        response = call("office_manager", "PATCH", "/api/v1/offices/O1", json={"parent": "ROOT"})
        assert response.status_code == 403
        db.expire_all()
        assert db.get(Office, city.office.id).unit.code == "D1"


class TestCountersAndOfficers:
    def test_counter_errors(self, call, db):
        before = count(db, Counter)
        cases = [
            ("/api/v1/offices/O1/counters", {"code": "O1-Q1", "name": "x"}, 409),
            ("/api/v1/offices/NOPE/counters", {"code": "X1", "name": "x"}, 404),
            ("/api/v1/offices/O1/counters", {"code": "X1"}, 400),
            ("/api/v1/offices/O1/counters", {"code": "X1", "name": "x", "timezone": "UTC"}, 400),
        ]
        for path, body, status in cases:
            assert call("admin", "POST", path, json=body).status_code == status, (path, body)
        assert count(db, Counter) == before

    def test_move_a_counter_and_its_codes(self, call, db, city):
        response = call("admin", "PATCH", "/api/v1/counters/O1-Q1", json={"parent": "O2"})
        assert response.status_code == 200 and response.json["parent"] == "O2"
        assert target_of(db, code="COUNTR1").office_id == city.other_office.id
        assert (
            call("unit_manager", "PATCH", "/api/v1/counters/O1-Q1", json={"name": "x"}).status_code
            == 403
        )
        assert (
            call("admin", "PATCH", "/api/v1/counters/O1-Q1", json={"parent": "NOPE"}).status_code
            == 404
        )
        assert (
            call("admin", "PATCH", "/api/v1/counters/NOPE", json={"name": "x"}).status_code == 404
        )

    def test_a_moved_counter_asks_its_new_office_s_survey(self, call, client, db):
        call("admin", "POST", "/api/v1/offices", json={"code": "O3", "name": "x", "parent": "D2"})
        from surveys.assignments import assign
        from surveys.db import utcnow
        from surveys.models import User

        admin = db.scalar(select(User).where(User.email == ROLES["admin"][0]))
        assign(db, admin, channel="counter", survey_key="sipas", now=utcnow(),
               office=db.scalar(select(Office).where(Office.code == "O3")))  # fmt: skip
        db.commit()
        assert client.get("/api/v1/surveys/COUNTR1").json["survey"]["key"] == "quick"
        assert (
            call("admin", "PATCH", "/api/v1/counters/O1-Q1", json={"parent": "O3"}).status_code
            == 200
        )
        assert client.get("/api/v1/surveys/COUNTR1").json["survey"]["key"] == "sipas"

    def test_officer_changes(self, call, db, city):
        response = call("unit_manager", "PATCH", "/api/v1/officers/CB1",
                        json={"name": "Nguyễn Lan", "counters": ["O1-Q1"]})  # fmt: skip
        assert response.status_code == 200 and response.json["counters"] == ["O1-Q1"]
        response = call(
            "unit_manager", "PATCH", "/api/v1/officers/CB1", json={"counters": ["O2-Q1"]}
        )
        assert response.status_code == 404
        assert response.json["error"]["fields"] == {"counters": "not_in_office"}
        response = call("unit_manager", "PATCH", "/api/v1/officers/CB1", json={"parent": "O2"})
        assert response.status_code == 403
        response = call("admin", "PATCH", "/api/v1/officers/CB1", json={"parent": "O2"})
        assert response.status_code == 200
        assert (response.json["parent"], response.json["counters"]) == ("O2", [])
        assert target_of(db, code="OFFICR1").office_id == city.other_office.id
        response = call("admin", "PATCH", "/api/v1/officers/CB1", json={"active": False})
        assert response.status_code == 200 and response.json["active"] is False
        assert (
            call("admin", "PATCH", "/api/v1/officers/NOPE", json={"name": "x"}).status_code == 404
        )
        response = call(
            "admin", "POST", "/api/v1/offices/O1/officers", json={"code": "CB1", "name": "x"}
        )
        assert response.status_code == 409
        response = call("admin", "POST", "/api/v1/offices/O1/officers",
                        json={"code": "CB9", "name": "x", "counters": ["NOPE"]})  # fmt: skip
        assert response.status_code == 404


class TestAuditApi:
    @pytest.mark.parametrize(
        "role, status",
        [("admin", 200), ("unit_admin", 200), ("unit_manager", 403), ("office_manager", 403),
         ("viewer", 403), ("anonymous", 401)],
    )  # fmt: skip
    def test_only_administrators_read_it(self, call, role, status):
        assert call(role, "GET", "/api/v1/audit").status_code == status

    @pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
    def test_no_way_to_change_it(self, call, db, method):
        call("admin", "PATCH", "/api/v1/units/D1", json={"name": "Quận 1"})
        before = count(db, AuditEntry)
        response = call("admin", method, "/api/v1/audit", json={"id": 1})
        assert response.status_code == 405
        for path in ("/api/v1/audit/1", "/admin/audit/1"):
            assert call("admin", method, path).status_code in (404, 405)
        assert count(db, AuditEntry) == before

    def test_entries_say_who_what_before_and_after(self, call, db):
        call("admin", "PATCH", "/api/v1/units/D1", json={"name": "Quận 1"})
        call(
            "admin", "POST", "/api/v1/offices/O1/counters", json={"code": "O1-Q2", "name": "Quầy 2"}
        )
        entries = call("admin", "GET", "/api/v1/audit").json["entries"]
        update, create = entries[1], entries[0]
        assert update["actor"] == ROLES["admin"][0] and update["role"] == "admin"
        assert (update["action"], update["subject_type"], update["subject"]) == (
            "unit.update",
            "unit",
            "D1",
        )
        assert update["before"] == {"name": "Quận Một"} and update["after"] == {"name": "Quận 1"}
        assert create["action"] == "counter.create" and create["before"] is None
        assert create["after"] == {
            "code": "O1-Q2",
            "name": "Quầy 2",
            "parent": "O1",
            "active": True,
        }
        assert datetime.fromisoformat(create["at"].replace("Z", "+00:00"))

    def test_filters(self, client, db, city):
        now = datetime(2026, 3, 2, 10, 0)
        for day, actor, action in [
            (now - timedelta(days=3), "a@example.vn", "office.create"),
            (now - timedelta(days=2), "a@example.vn", "office.update"),
            (now - timedelta(days=1), "b@example.vn", "unit.update"),
            (now, "b@example.vn", "auth.sign_in_failed"),
        ]:
            audit.record(db, None, action, now=day, actor_email=actor, subject="X")
        db.commit()
        token = api_token(db, "admin")

        def actions(query: str) -> list[str]:
            response = client.get(f"/api/v1/audit?{query}", headers=bearer(token))
            assert response.status_code == 200, response.json
            return [e["action"] for e in response.json["entries"] if e["subject"] == "X"]

        assert actions("from=2026-02-27&to=2026-02-28") == ["office.update", "office.create"]
        assert actions("from=2026-03-01") == ["auth.sign_in_failed", "unit.update"]
        assert actions("to=2026-02-27") == ["office.create"]
        assert actions("actor=A@example.vn") == ["office.update", "office.create"]
        assert actions("action=office.") == ["office.update", "office.create"]
        assert actions("action=office.update&actor=a@example.vn") == ["office.update"]
        assert actions("action=office") == []
        for query in ("from=yesterday", "to=2026-13-01", "before=x", "before=0"):
            response = client.get(f"/api/v1/audit?{query}", headers=bearer(token))
            assert response.status_code == 400, query
            assert response.json["error"]["fields"], query

    def test_paging_follows_next(self, call, db):
        now = datetime(2026, 3, 2, 10, 0)
        for i in range(450):
            audit.record(db, None, "code.pause", now=now, subject=f"C{i}")
        db.commit()
        seen: list[str] = []
        response = call("admin", "GET", "/api/v1/audit?action=code.pause")
        pages = 0
        while True:
            assert response.status_code == 200
            pages += 1
            seen += [e["subject"] for e in response.json["entries"]]
            if response.json["next"] is None:
                break
            assert "action=code.pause" in response.json["next"]
            response = call("admin", "GET", response.json["next"])
        assert pages == 3 and len(seen) == 450 and len(set(seen)) == 450
        assert seen[0] == "C449" and seen[-1] == "C0"
        # Any id the API documents as valid is accepted, even beyond what a column holds.
        for before in (2**31, 2**53 - 1):
            response = call("admin", "GET", f"/api/v1/audit?action=code.pause&before={before}")
            assert response.status_code == 200 and response.json["entries"][0]["subject"] == "C449"
