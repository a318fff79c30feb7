"""The audit log (who, when, from which role, what, before and after; append-only; never a
secret) and officers choosing their own PIN, through the pages, the kiosk API and the CSV."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from surveys import audit, kiosks
from surveys.db import utcnow
from surveys.models import AuditEntry, Officer, User
from tests.admin_support import (
    EVERYONE,
    ROLES,
    assert_csp_clean,
    audit_count,
    audit_entries,
    page_text,
    post,
    sign_in,
)
from tests.conftest import PASSWORD, csrf_token
from tests.test_admin_org import office_form


def everything_logged(db) -> str:
    """The whole audit log as text: every column of every entry."""
    db.expire_all()
    return "\n".join(
        json.dumps(
            [e.actor_email, e.actor_role, e.action, e.subject_type, e.subject, e.before, e.after],
            ensure_ascii=False,
        )
        for e in db.scalars(select(AuditEntry).order_by(AuditEntry.id))
    )


def last(db, action: str) -> AuditEntry:
    entries = audit_entries(db, action)
    assert entries, f"no {action} entry"
    return entries[-1]


class TestEachChangeIsRecorded:
    def test_organisation_changes(self, client, db, city):
        sign_in(client, db, "unit_manager")
        email = ROLES["unit_manager"][0]
        post(client, "/admin/org/offices/new", office_form("O3", "Một cửa Phường Ba", "D1"))
        entry = last(db, "office.create")
        assert (entry.actor_email, entry.actor_role, entry.subject_type, entry.subject) == (
            email,
            "manager",
            "office",
            "O3",
        )
        assert entry.before is None
        assert entry.after["name"] == "Một cửa Phường Ba" and entry.after["parent"] == "D1"
        assert entry.after["hours"][0] == ["07:30", "17:00"] and entry.at <= utcnow()

        post(client, "/admin/org/offices/O3", office_form("O3", "Một cửa P3", "D1"))
        entry = last(db, "office.update")
        assert entry.before == {"name": "Một cửa Phường Ba"}
        assert entry.after == {"name": "Một cửa P3"}

        post(client, "/admin/org/offices/O3/counters", {"code": "O3-Q1", "name": "Quầy 1"})
        assert last(db, "counter.create").after == {
            "code": "O3-Q1",
            "name": "Quầy 1",
            "parent": "O3",
            "active": True,
        }
        post(
            client, "/admin/org/counters/O1-Q1", {"code": "O1-Q1", "name": "Quầy 1", "parent": "O3"}
        )
        entry = last(db, "counter.update")
        assert (entry.subject, entry.before, entry.after) == (
            "O1-Q1",
            {"parent": "O1"},
            {"parent": "O3"},
        )
        post(client, "/admin/org/officers/CB1/active", {"active": "0"})
        entry = last(db, "officer.update")
        assert (entry.before, entry.after) == ({"active": True}, {"active": False})
        post(client, "/admin/org/offices/O3/surveys", {"survey-kiosk": "sipas"})
        entry = last(db, "survey.assign")
        assert (entry.subject_type, entry.subject) == ("office", "O3")
        assert (entry.before, entry.after) == ({"kiosk": None}, {"kiosk": "sipas"})

    def test_saving_unchanged_records_nothing_and_refusals_record_nothing(self, client, db, city):
        sign_in(client, db, "admin")
        before = audit_count(db)
        post(client, "/admin/org/offices/O1", office_form("O1", city.office.name, "D1", address=""))
        post(client, "/admin/org/offices/O1/surveys", {})
        post(client, "/admin/org/offices/O1/counters", {"code": "O1-Q1", "name": "Trùng"})
        post(client, "/admin/org/units/D1/active", {"active": "0"})
        assert audit_count(db) == before

    def test_unit_changes_from_the_api(self, client, db, city, make_token):
        token = make_token("root@example.vn", "admin", None)
        headers = {"Authorization": f"Bearer {token}"}
        client.post(
            "/api/v1/units",
            json={"code": "P1", "name": "Phường 1", "parent": "D1"},
            headers=headers,
        )
        client.patch("/api/v1/units/P1", json={"parent": "D2", "active": False}, headers=headers)
        created, updated = last(db, "unit.create"), last(db, "unit.update")
        assert created.after == {"code": "P1", "name": "Phường 1", "parent": "D1", "active": True}
        assert (updated.actor_email, updated.actor_role) == ("root@example.vn", "admin")
        assert updated.before == {"parent": "D1", "active": True}
        assert updated.after == {"parent": "D2", "active": False}

    def test_accounts_tokens_and_sign_ins(self, client, app, db, city):
        sign_in(client, db, "admin")
        admin_email = ROLES["admin"][0]
        assert last(db, "auth.sign_in").subject == admin_email

        response = post(
            client, "/admin/users", {"email": "Lan@Example.vn", "role": "viewer", "scope": "O1"}
        )
        link = re.search(
            r"http://kiosk\.test(/account/password/[\w-]+)<", page_text(response)
        ).group(1)
        entry = last(db, "user.create")
        assert (entry.actor_email, entry.subject) == (admin_email, "lan@example.vn")
        assert entry.after == {
            "email": "lan@example.vn",
            "name": "",
            "role": "viewer",
            "scope": "O1",
            "active": True,
            "language": "vi",
        }
        lan = "lan@example.vn"
        user_id = db.scalar(select(User.id).where(User.email == lan))
        post(
            client,
            f"/admin/users/{user_id}",
            {"email": lan, "name": "", "role": "manager", "scope": "O1"},
        )
        entry = last(db, "user.update")
        assert (entry.before, entry.after) == ({"role": "viewer"}, {"role": "manager"})
        post(client, f"/admin/users/{user_id}/active", {"active": "0"})
        assert (last(db, "user.update").before, last(db, "user.update").after) == (
            {"active": True},
            {"active": False},
        )

        person = app.test_client()
        page = page_text(person.get(link))
        person.post(
            link,
            data={
                "csrf_token": csrf_token(page),
                "password": "a long new secret",
                "again": "a long new secret",
            },
        )
        entry = last(db, "user.password_chosen")
        assert (entry.actor_email, entry.subject) == ("lan@example.vn", "lan@example.vn")
        post(client, f"/admin/users/{user_id}/password")
        assert last(db, "user.password_reset").actor_email == admin_email

        made = post(client, "/account/tokens", {"label": "Xếp hàng"})
        token_id = last(db, "token.create").subject
        created = last(db, "token.create").after
        assert {k: created[k] for k in ("owner", "label", "scope")} == {
            "owner": admin_email,
            "label": "Xếp hàng",
            "scope": "read",
        }
        post(client, f"/account/tokens/{token_id}/revoke")
        assert last(db, "token.revoke").before == {"owner": admin_email, "label": "Xếp hàng"}

        # Nothing secret anywhere: passwords, the token, the link.
        token = re.search(r'token-value">([^<]+)<', page_text(made)).group(1)
        logged = everything_logged(db)
        for secret in (PASSWORD, "a long new secret", token, link.rsplit("/", 1)[1]):
            assert secret not in logged

    def test_a_failed_sign_in_keeps_the_typed_email_and_never_the_password(self, client, db, city):
        sign_in(client.application.test_client(), db, "viewer")
        attempts = [
            (" Viewer@Example.vn ", "wrong password 1"),  # a real account, wrong password
            ("nobody@example.vn", "wrong password 2"),  # no such account
        ]
        for email, password in attempts:
            page = page_text(client.get("/login"))
            response = client.post(
                "/login",
                data={"csrf_token": csrf_token(page), "email": email, "password": password},
            )
            assert response.status_code in (200, 400) and "/login" not in response.headers.get(
                "Location", ""
            )
        failed = audit_entries(db, "auth.sign_in_failed")
        assert [(e.actor_email, e.subject, e.actor_id, e.actor_role) for e in failed] == [
            ("viewer@example.vn", "viewer@example.vn", None, ""),
            ("nobody@example.vn", "nobody@example.vn", None, ""),
        ]
        assert all(e.before is None and e.after is None for e in failed)
        logged = everything_logged(db)
        assert "wrong password" not in logged and PASSWORD not in logged

    def test_kiosks_codes_and_tickets(self, client, db, city):
        sign_in(client, db, "office_manager")
        response = post(client, "/admin/kiosks/pair", {"counter": "O1-Q1"})
        code = re.search(r'class="pairing-code">(\d{4}) (\d{4})<', page_text(response))
        assert last(db, "kiosk.pairing_issued").subject == "O1-Q1"
        post(client, "/admin/codes/targets/COUNTR1/disable")
        assert last(db, "code.pause").subject == "COUNTR1"
        post(client, "/admin/codes/targets/COUNTR1/rotate")
        assert last(db, "code.rotate").subject == "COUNTR1"
        post(client, "/admin/codes/offices/O1/tickets", {"count": "3"})
        assert last(db, "tickets.mint").after["count"] == 3
        logged = everything_logged(db)
        assert code.group(1) + code.group(2) not in logged


class TestOfficersChooseTheirPin:
    @pytest.fixture()
    def kiosk(self, app, device_token):
        tablet = app.test_client()

        def send(path: str, body: dict, token: str = device_token):
            return tablet.post(
                f"/api/v1/kiosk/{path}", json=body, headers={"Authorization": f"Bearer {token}"}
            )

        return send

    def reset(self, client, officer="CB1") -> str:
        response = post(client, f"/admin/kiosks/officers/{officer}/pin?lang=en", {"pin": "258013"})
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        assert_csp_clean(page_text(response))
        found = re.search(r'class="pairing-code"[^>]*>(\d{3}) (\d{3})<', page_text(response))
        return found.group(1) + found.group(2)

    @pytest.mark.parametrize("role", ["admin", "unit_admin", "unit_manager", "office_manager"])
    def test_a_manager_resets_and_the_officer_chooses(self, client, db, city, kiosk, role):
        sign_in(client, db, role)
        setup = self.reset(client)
        db.expire_all()
        officer = db.get(Officer, city.officer.id)
        assert officer.pin_hash is None  # the PIN typed in the request was not taken

        # Signing in with the setup code asks the officer to choose first.
        response = kiosk("officer/sign-in", {"officer": "CB1", "pin": setup})
        assert response.status_code == 409
        assert response.json["error"]["code"] == "pin_setup_required"
        body = {"officer": "CB1", "setup_code": setup, "pin": "123456", "pin_again": "123456"}
        guessable = kiosk("officer/pin", body)
        assert guessable.status_code == 400 and guessable.json["error"]["fields"] == {
            "pin": "guessable"
        }
        differ = kiosk("officer/pin", {**body, "pin": "583920", "pin_again": "583921"})
        assert differ.status_code == 400
        assert kiosk("officer/pin", {**body, "setup_code": "000000", "pin": "583920",
                                     "pin_again": "583920"}).status_code == 401  # fmt: skip
        chosen = kiosk("officer/pin", {**body, "pin": "583920", "pin_again": "583920"})
        assert chosen.status_code == 200 and chosen.json["officer"]["code"] == "CB1"
        # The setup code worked once; the PIN is the officer's now.
        assert (
            kiosk("officer/pin", {**body, "pin": "602817", "pin_again": "602817"}).status_code
            == 401
        )
        assert kiosk("officer/sign-in", {"officer": "CB1", "pin": "583920"}).status_code == 200

        reset, chosen_entry = last(db, "officer.pin_reset"), last(db, "officer.pin_chosen")
        assert (reset.actor_email, reset.subject, reset.before, reset.after) == (
            ROLES[role][0],
            "CB1",
            None,
            None,
        )
        assert chosen_entry.actor_id is None and chosen_entry.subject == "CB1"
        logged = everything_logged(db)
        for secret in (setup, "583920", "602817", "258013"):
            assert secret not in logged
        if role.endswith("admin"):
            csv_text = client.get("/admin/audit.csv").get_data(as_text=True)
            assert "officer.pin_chosen" in csv_text
            assert setup not in csv_text and "583920" not in csv_text

    def test_nobody_else_sets_the_pin(self, client, db, city, kiosk):
        db.add(Officer(code="CB2", name="Trần Văn Bình", office=city.other_office))
        db.commit()
        sign_in(client, db, "admin")
        setup_one, setup_two = self.reset(client, "CB1"), self.reset(client, "CB2")
        # CB2 works at O2: the O1 kiosk does not let anyone choose their PIN.
        body = {"officer": "CB2", "setup_code": setup_two, "pin": "583920", "pin_again": "583920"}
        assert kiosk("officer/pin", body).status_code == 401
        # Nor does CB1's setup code choose CB2's PIN, nor CB2's choose CB1's.
        assert kiosk("officer/pin", {**body, "setup_code": setup_one}).status_code == 401
        assert (
            kiosk("officer/pin", {**body, "officer": "CB1", "setup_code": setup_two}).status_code
            == 401
        )
        # On a kiosk of O2, CB2 chooses theirs.
        token = kiosks.enroll_device_token(db, "O2-Q1", now=utcnow())
        db.commit()
        assert kiosk("officer/pin", body, token=token).status_code == 200
        db.expire_all()
        assert db.get(Officer, city.officer.id).pin_hash is None

    @pytest.mark.parametrize("role, status", [("viewer", 403), ("anonymous", 302)])
    def test_who_may_not_reset(self, client, db, city, role, status):
        sign_in(client, db, role)
        assert post(client, "/admin/kiosks/officers/CB1/pin").status_code == status
        assert audit_entries(db, "officer.pin_reset") == []

    def test_the_setup_code_expires(self, client, db, city, kiosk, monkeypatch):
        sign_in(client, db, "office_manager")
        setup = self.reset(client)
        later = utcnow() + timedelta(hours=24, seconds=1)
        monkeypatch.setattr("kiosk.views.api.kiosk.utcnow", lambda: later)
        body = {"officer": "CB1", "setup_code": setup, "pin": "583920", "pin_again": "583920"}
        assert kiosk("officer/pin", body).status_code == 401


class TestTheAuditPage:
    @pytest.fixture()
    def entries(self, db, city):
        day = datetime(2026, 3, 2, 10, 0)
        rows = [
            (day - timedelta(days=2), "a@example.vn", "office.create", "O7"),
            (day - timedelta(days=1), "a@example.vn", "office.update", "O7"),
            (day, "b@example.vn", "unit.update", "D7"),
            (day, '=HYPERLINK("http://x")@example.vn', "auth.sign_in_failed", "-2+3"),
        ]
        for at, actor, action, subject in rows:
            audit.record(db, None, action, now=at, actor_email=actor, subject=subject,
                         after={"name": "Bộ phận một cửa"})  # fmt: skip
        db.commit()

    @pytest.mark.parametrize("role", EVERYONE)
    def test_who_reads_it(self, client, db, city, role):
        sign_in(client, db, role)
        expected = {"admin": 200, "unit_admin": 200, "anonymous": 302}.get(role, 403)
        assert client.get("/admin/audit").status_code == expected
        assert client.get("/admin/audit.csv").status_code == expected

    def test_filters(self, client, db, entries):
        sign_in(client, db, "admin")

        def subjects(query: str) -> list[str]:
            response = client.get(f"/admin/audit?{query}&lang=en")
            assert response.status_code == 200
            html = page_text(response)
            assert_csp_clean(html)
            return re.findall(r"<td> (O7|D7|-2\+3)</td>", html)

        assert subjects("actor=a@example.vn") == ["O7", "O7"]
        assert subjects("action=office.create") == ["O7"]
        assert subjects("from=2026-03-02&to=2026-03-02") == ["-2+3", "D7"]
        assert subjects("from=2026-02-28&to=2026-03-01&actor=A@EXAMPLE.VN") == ["O7", "O7"]
        html = page_text(client.get("/admin/audit?from=someday&lang=en"))
        assert "A date is not valid" in html

    @pytest.mark.parametrize(
        "before", ["99999999999999999999999", str(2**53 - 1), str(2**31), "-5", "0", "x"]
    )
    def test_odd_paging_values_never_fail(self, client, db, entries, before):
        sign_in(client, db, "admin")
        assert client.get(f"/admin/audit?before={before}").status_code in (200, 400)

    def test_paging(self, client, db, city):
        for i in range(130):
            audit.record(db, None, "code.pause", now=utcnow(), subject=f"C{i:03}")
        db.commit()
        sign_in(client, db, "admin")
        html = page_text(client.get("/admin/audit?action=code.pause"))
        older = re.search(r'href="(/admin/audit\?[^"]*before=\d+[^"]*)"', html).group(1)
        assert "C129" in html and "C000" not in html
        html = page_text(client.get(older.replace("&amp;", "&")))
        assert "C000" in html and "C129" not in html

    def test_csv_export(self, client, db, entries):
        sign_in(client, db, "admin")
        response = client.get("/admin/audit.csv?actor=a@example.vn")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert response.headers["Cache-Control"] == "no-store"
        assert "attachment" in response.headers["Content-Disposition"]
        text = response.get_data(as_text=True)
        assert text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        assert rows[0] == audit.CSV_COLUMNS
        assert [(r[3], r[5]) for r in rows[1:]] == [
            ("office.create", "O7"),
            ("office.update", "O7"),
        ]
        assert json.loads(rows[1][7]) == {"name": "Bộ phận một cửa"}
        everything = list(
            csv.reader(io.StringIO(client.get("/admin/audit.csv").get_data(as_text=True)))
        )
        injected = next(r for r in everything if r[3] == "auth.sign_in_failed")
        assert injected[1].startswith("'=") and injected[5] == "'-2+3"  # no formula in Excel

    @pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
    def test_no_way_to_change_an_entry(self, client, db, entries, method):
        sign_in(client, db, "admin")
        before = audit_count(db)
        token = csrf_token(page_text(client.get("/admin/audit")))
        for path in ("/admin/audit", "/admin/audit.csv"):
            response = getattr(client, method)(path, data={"csrf_token": token})
            assert response.status_code == 405, (method, path)
        assert audit_count(db) == before
