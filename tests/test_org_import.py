"""Importing the organisation from a spreadsheet: upload, preview, apply in the web UI, and
`flask import-org FILE [--dry-run]`; CSV (with or without BOM, comma or semicolon) and XLSX;
idempotence, updates, every bad row reported with nothing applied, and the manager's scope."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from surveys.models import AuditEntry, Counter, Office, Officer, OrgImport, Target, Unit
from tests.admin_support import assert_csp_clean, audit_entries, page_text, post, sign_in
from tests.test_admin_org import snapshot

HEADER = ["type", "code", "name", "parent", "timezone", "address"]
#: A ward under D1 with an office, a counter and an officer, in an order that needs sorting.
DISTRICT = [
    ["officer", "CB3", "Vũ Thị Ba", "O3", "", ""],
    ["counter", "O3-Q1", "Quầy số 1", "O3", "", ""],
    [
        "office",
        "O3",
        "Bộ phận một cửa phường Tràng Tiền",
        "P1",
        "Asia/Bangkok",
        "3 Hàng Bài, Hà Nội",
    ],
    ["unit", "P1", "UBND phường Tràng Tiền", "D1", "", ""],
]


def to_csv(rows, *, delimiter=",", bom=False, header=HEADER) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows([header, *rows])
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows, header=HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in [header, *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client, content: bytes, filename: str = "to-chuc.csv"):
    return post(
        client,
        "/admin/import/upload",
        {"file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def preview_of(client, content: bytes, filename: str = "to-chuc.csv", lang: str = "en"):
    """Upload a file; return (the preview's path, its page)."""
    response = upload(client, content, filename)
    assert response.status_code == 302, page_text(response)
    path = response.headers["Location"]
    assert re.fullmatch(r"/admin/import/\d+", path)
    preview = client.get(f"{path}?lang={lang}")
    assert preview.status_code == 200
    return path, page_text(preview)


def apply(client, path: str):
    return post(client, f"{path}/apply")


def imported(client, content: bytes, filename: str = "to-chuc.csv"):
    path, _page = preview_of(client, content, filename)
    response = apply(client, path)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/org"
    return response


def counts_row(html: str, kind: str) -> tuple[int, int, int]:
    row = re.search(rf'<th scope="row">{kind}</th>(.*?)</tr>', html, re.S).group(1)
    return tuple(int(n) for n in re.findall(r'<td class="num">(\d+)</td>', row))


def problems(html: str) -> list[tuple[int, str, str]]:
    """The problems table of a preview: (row, column, problem)."""
    return [
        (int(row), column, problem)
        for row, column, problem in re.findall(
            r'<tr><th scope="row">(\d+)</th><td>([^<]*)</td><td>([^<]*)</td>', html
        )
    ]


@pytest.fixture()
def admin(client, db, city):
    return sign_in(client, db, "admin")


class TestFormats:
    @pytest.mark.parametrize(
        "content, filename",
        [
            (to_csv(DISTRICT), "to-chuc.csv"),
            (to_csv(DISTRICT, bom=True), "to-chuc.csv"),
            (to_csv(DISTRICT, delimiter=";"), "to-chuc.csv"),
            (to_csv(DISTRICT, delimiter=";", bom=True), "TO-CHUC.CSV"),
            (to_xlsx(DISTRICT), "to-chuc.xlsx"),
            (to_xlsx(DISTRICT), "no-extension"),
        ],
        ids=["comma", "comma-bom", "semicolon", "semicolon-bom", "xlsx", "xlsx-unnamed"],
    )
    def test_preview_then_apply(self, client, db, admin, content, filename):
        before = snapshot(db)
        path, html = preview_of(client, content, filename)
        assert "4 rows read" in html
        for kind in ("Units", "Offices", "Counters", "Officers"):
            assert counts_row(html, kind) == (1, 0, 0), kind
        assert snapshot(db) == before  # a preview applies nothing
        assert_csp_clean(html)

        imported_response = apply(client, path)
        assert imported_response.status_code == 302
        db.expire_all()
        office = db.scalar(select(Office).where(Office.code == "O3"))
        assert (office.name, office.unit.code, office.timezone, office.address) == (
            "Bộ phận một cửa phường Tràng Tiền",
            "P1",
            "Asia/Bangkok",
            "3 Hàng Bài, Hà Nội",
        )
        unit = office.unit
        assert unit.parent.code == "D1" and unit.path == f"{unit.parent.path}{unit.id}/"
        assert [c.code for c in office.counters] == ["O3-Q1"]
        assert [o.name for o in office.officers] == ["Vũ Thị Ba"]
        # Each new place has its survey code at once: its poster prints.
        targets = db.scalars(select(Target).where(Target.office_id == office.id)).all()
        assert sorted(t.kind for t in targets) == ["counter", "office", "officer"]
        for target in targets:
            assert client.get(f"/s/{target.code}/poster").status_code == 200
        officer_code = next(t.code for t in targets if t.kind == "officer")
        assert client.get(f"/api/v1/surveys/{officer_code}").json["survey"]["key"] == (
            "office_culture"
        )

    def test_quoted_cells_keep_their_commas_and_semicolons(self, client, db, admin):
        rows = [["office", "O3", "Một cửa; phường", "D1", "", "1, Hàng Bài; Hà Nội"]]
        for delimiter in (",", ";"):
            imported(client, to_csv(rows, delimiter=delimiter))
            db.expire_all()
            office = db.scalar(select(Office).where(Office.code == "O3"))
            assert (office.name, office.address) == ("Một cửa; phường", "1, Hàng Bài; Hà Nội")
            assert office.timezone == "Asia/Ho_Chi_Minh"

    def test_columns_in_another_order_and_blank_lines(self, client, db, admin):
        header = ["Name", "Type", "Code", "Parent"]
        rows = [
            ["Phường Một", "unit", "p1", "d1"],
            ["", "", "", ""],
            ["Quầy 9", "COUNTER", "o1-q9", "o1"],
        ]
        _path, html = preview_of(client, to_csv(rows, header=header))
        assert counts_row(html, "Units") == (1, 0, 0) and counts_row(html, "Counters") == (1, 0, 0)

    @pytest.mark.parametrize(
        "content, filename, message",
        [
            (b"", "empty.csv", "missing"),
            (b"type;code;name\nunit;P1;x\n", "short.csv", "parent: missing"),
            (
                b"type,code,name,parent\nunit,P1,Ph\xfd\xf5ng,D1\n",
                "x.csv",
                "not valid",
            ),  # Windows-1258
            (b"\x00\x01\x02binary", "x.csv", "cannot be stored"),
            (b"PK\x03\x04 not really a workbook", "x.xlsx", "not valid"),
        ],
        ids=["empty", "header", "not-utf8", "binary", "fake-xlsx"],
    )
    def test_a_file_that_cannot_be_read_says_why(
        self, client, db, admin, content, filename, message
    ):
        response = post(
            client,
            "/admin/import/upload?lang=en",
            {"file": (io.BytesIO(content), filename)},
            content_type="multipart/form-data",
        )
        html = page_text(response)
        assert response.status_code == 400
        assert 'class="error"' in html and 'aria-invalid="true"' in html
        assert message in re.search(r'<p class="error" id="e-file">(.*?)</p>', html).group(1)
        assert db.scalar(select(func.count()).select_from(OrgImport)) == 0

    def test_a_workbook_carrying_an_xml_entity_bomb_is_refused_not_expanded(
        self, client, db, admin
    ):
        """Billion laughs: nine levels of ten, 10⁹ "lol"s if expanded (openpyxl through
        defusedxml refuses any entity declaration)."""
        import zipfile

        import openpyxl.xml

        assert openpyxl.xml.DEFUSEDXML
        levels = ['<!ENTITY lol0 "lol">'] + [
            f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
        ]
        bomb = io.BytesIO()
        with (
            zipfile.ZipFile(io.BytesIO(to_xlsx(DISTRICT))) as good,
            zipfile.ZipFile(bomb, "w") as bad,
        ):
            for item in good.infolist():
                data = good.read(item.filename)
                if item.filename == "xl/worksheets/sheet1.xml":
                    text = data.decode()
                    head, _, rest = text.partition("?>")
                    doctype = "<!DOCTYPE worksheet [" + "".join(levels) + "]>"
                    text = head + "?>" + doctype + rest.replace(">unit<", ">&lol9;<", 1)
                    data = text.encode()
                bad.writestr(item, data)
        response = post(
            client,
            "/admin/import/upload?lang=en",
            {"file": (io.BytesIO(bomb.getvalue()), "bomb.xlsx")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 400
        assert "not valid" in re.search(
            r'<p class="error" id="e-file">(.*?)</p>', page_text(response)
        ).group(1)
        assert db.scalar(select(func.count()).select_from(OrgImport)) == 0

    def test_no_file_is_a_form_error(self, client, db, admin):
        response = post(client, "/admin/import/upload", {})
        assert response.status_code == 400 and 'class="error"' in page_text(response)


class TestApplying:
    def test_importing_again_changes_nothing(self, client, db, admin):
        imported(client, to_csv(DISTRICT))
        before = snapshot(db)
        entries = db.scalar(select(func.max(AuditEntry.id)))
        path, html = preview_of(client, to_csv(list(reversed(DISTRICT)), delimiter=";"))
        assert "The city already matches this file" in html and "/apply" not in html
        for kind in ("Units", "Offices", "Counters", "Officers"):
            assert counts_row(html, kind) == (0, 0, 1)
        apply(client, path)
        assert snapshot(db) == before
        # At most the import itself is recorded, no change of anything.
        new = db.scalars(select(AuditEntry.action).where(AuditEntry.id > entries)).all()
        assert set(new) <= {"org.import"}

    def test_a_changed_name_updates_it(self, client, db, admin):
        imported(client, to_csv(DISTRICT))
        changed = [row[:] for row in DISTRICT]
        changed[2][2] = "Bộ phận một cửa phường Tràng Tiền (mới)"
        path, html = preview_of(client, to_csv(changed))
        assert counts_row(html, "Offices") == (0, 1, 0) and counts_row(html, "Units") == (0, 0, 1)
        apply(client, path)
        db.expire_all()
        assert db.scalar(select(Office.name).where(Office.code == "O3")).endswith("(mới)")
        (entry,) = audit_entries(db, "office.update")
        assert entry.subject == "O3" and entry.actor_email == "admin@example.vn"
        assert entry.before == {"name": "Bộ phận một cửa phường Tràng Tiền"}
        assert entry.after == {"name": "Bộ phận một cửa phường Tràng Tiền (mới)"}

    def test_an_existing_place_can_be_moved_and_its_codes_follow(self, client, db, admin, city):
        from surveys.assignments import assign
        from surveys.db import utcnow
        from surveys.models import User

        actor = db.scalar(select(User))
        assign(
            db, actor, channel="counter", survey_key="sipas", now=utcnow(), office=city.other_office
        )
        db.commit()
        assert client.get("/api/v1/surveys/COUNTR1").json["survey"]["key"] == "quick"
        rows = [
            ["counter", "O1-Q1", "Quầy 1", "O2", "", ""],
            ["officer", "CB1", "Nguyễn Thị Lan", "O2", "", ""],
        ]
        imported(client, to_csv(rows))
        db.expire_all()
        assert db.get(Counter, city.counter.id).office_id == city.other_office.id
        for code in ("COUNTR1", "OFFICR1"):
            target = db.scalar(select(Target).where(Target.code == code))
            assert target.office_id == city.other_office.id, code
        assert client.get("/api/v1/surveys/COUNTR1").json["survey"]["key"] == "sipas"
        assert client.get("/api/v1/surveys/COUNTR1").json["label"].endswith("Quận Hai")

    def test_an_applied_file_is_not_applied_twice(self, client, db, admin):
        path, _html = preview_of(client, to_csv(DISTRICT))
        assert apply(client, path).status_code == 302
        before = snapshot(db)
        response = apply(client, path)
        assert response.status_code == 302
        assert snapshot(db) == before

    def test_apply_needs_the_csrf_token(self, client, db, admin):
        path, _html = preview_of(client, to_csv(DISTRICT))
        assert client.post(f"{path}/apply").status_code == 400
        assert db.scalar(select(func.count()).select_from(Office)) == 2


BAD = [
    ["unit", "P1", "Phường 1", "NOPE", "", ""],  # row 2: unknown parent
    ["office", "O3", "Một cửa", "D1", "", ""],  # row 3
    ["office", "o3", "Một cửa (lại)", "D1", "", ""],  # row 4: duplicate code
    ["unit", "CA", "Vòng A", "CB", "", ""],  # row 5: cycle
    ["unit", "CB", "Vòng B", "CA", "", ""],  # row 6: cycle
    ["counter", "O3-Q1", "", "O3", "", ""],  # row 7: missing name
    ["desk", "O3-Q2", "Quầy 2", "O3", "", ""],  # row 8: wrong type
    ["counter", "O3-Q3", "Quầy 3", "O3", "Asia/Bangkok", ""],  # row 9: time zone on a counter
    ["office", "O4", "Một cửa 4", "D1", "Mars/Olympus", ""],  # row 10: unknown time zone
    ["officer", "CB4", "Lê Bốn", "", "", ""],  # row 11: no parent
    ["counter", "A B", "Quầy", "O3", "", ""],  # row 12: a code that is not one
    ["office", "D2", "Một cửa D2", "D1", "", ""],  # row 13: a unit's code
    ["unit", "O1", "Đơn vị O1", "D1", "", ""],  # row 14: an office's code
]
BAD_PROBLEMS = [
    (2, "parent", "no such parent in the file or the city"),
    (4, "code", "the same code twice in the file"),
    (5, "parent", "a unit placed under itself"),
    (6, "parent", "a unit placed under itself"),
    (7, "name", "missing"),
    (8, "type", "not valid"),
    (9, "timezone", "only for offices; leave it empty"),
    (10, "timezone", "not valid"),
    (11, "parent", "missing"),
    (12, "code", "not valid"),
    (13, "code", "a unit and an office cannot share a code"),
    (14, "code", "a unit and an office cannot share a code"),
]


class TestBadRows:
    @pytest.mark.parametrize("make", [to_csv, to_xlsx], ids=["csv", "xlsx"])
    def test_every_problem_by_row_and_column_and_nothing_applied(self, client, db, admin, make):
        before = snapshot(db)
        filename = "bad.csv" if make is to_csv else "bad.xlsx"
        path, html = preview_of(client, make(BAD), filename)
        assert problems(html) == BAD_PROBLEMS
        assert "nothing will be applied" in html and "/apply" not in html
        response = apply(client, path)
        assert response.status_code == 302 and response.headers["Location"] == path
        assert snapshot(db) == before
        assert audit_entries(db, "org.import") == []

    def test_the_preview_is_in_vietnamese_by_default(self, client, db, admin):
        _path, html = preview_of(client, to_csv(BAD), lang="vi")
        assert '<html lang="vi">' in html
        # The same rows and columns, each column named in Vietnamese with the file's own
        # heading in brackets ("cấp trên (parent)").
        found = [(row, column) for row, column, _p in problems(html)]
        expected = [(row, column) for row, column, _p in BAD_PROBLEMS]
        assert [row for row, _c in found] == [row for row, _c in expected]
        for (_row, shown), (_r, heading) in zip(found, expected, strict=True):
            assert shown.endswith(f"({heading})") and shown != f"({heading})", shown

    def test_problems_against_the_city(self, client, db, admin):
        rows = [
            ["unit", "D1", "Quận Một", "D1", "", ""],
            ["unit", "ROOT", "Thành phố", "D2", "", ""],
        ]
        _path, html = preview_of(client, to_csv(rows))
        assert problems(html) == [
            (2, "parent", "a unit placed under itself"),
            (3, "parent", "a unit placed under itself"),
        ]


class TestScope:
    def test_a_unit_manager_imports_within_their_unit(self, client, db, city):
        sign_in(client, db, "unit_manager")
        rows = [
            ["unit", "P1", "Phường", "D1", "", ""],  # managers do not edit the unit tree
            ["office", "O3", "Một cửa", "D1", "", ""],
            ["office", "O4", "Một cửa", "D2", "", ""],
            ["office", "O2", "Đổi tên", "D1", "", ""],  # someone else's office, moved in
            ["counter", "O1-Q2", "Quầy 2", "O1", "", ""],
            ["counter", "O2-Q2", "Quầy 2", "O2", "", ""],
            ["officer", "CB3", "Vũ Ba", "O3", "", ""],
        ]
        before = snapshot(db)
        path, html = preview_of(client, to_csv(rows))
        assert problems(html) == [
            (2, "parent", "outside your scope"),
            (4, "parent", "outside your scope"),
            (5, "parent", "outside your scope"),
            (7, "parent", "outside your scope"),
        ]
        apply(client, path)
        assert snapshot(db) == before
        path, html = preview_of(client, to_csv([rows[1], rows[4], rows[6]]))
        assert problems(html) == []
        apply(client, path)
        db.expire_all()
        assert db.scalar(select(func.count()).select_from(Office)) == 3

    def test_an_office_manager_imports_counters_and_officers_of_their_office(
        self, client, db, city
    ):
        sign_in(client, db, "office_manager")
        rows = [
            ["counter", "O1-Q2", "Quầy 2", "O1", "", ""],
            ["officer", "CB3", "Vũ Ba", "O1", "", ""],
            ["office", "O3", "Một cửa", "D1", "", ""],
            ["counter", "O2-Q2", "Quầy 2", "O2", "", ""],
            ["counter", "O1-Q1", "Quầy 1", "O2", "", ""],
        ]
        _path, html = preview_of(client, to_csv(rows))
        assert [row for row, _c, _p in problems(html)] == [4, 5, 6]
        path, html = preview_of(client, to_csv(rows[:2]))
        assert problems(html) == []
        apply(client, path)
        db.expire_all()
        assert db.scalar(select(Counter.name).where(Counter.code == "O1-Q2")) == "Quầy 2"

    def test_a_viewer_cannot_import(self, client, db, city):
        sign_in(client, db, "viewer")
        assert client.get("/admin/import").status_code == 403
        assert upload(client, to_csv(DISTRICT)).status_code == 403
        assert client.get("/admin/import/template.csv").status_code == 403

    def test_someone_else_s_upload_is_not_found(self, client, db, city):
        sign_in(client, db, "unit_manager")
        path, _html = preview_of(client, to_csv(DISTRICT[1:2]))
        other = client.application.test_client()
        sign_in(other, db, "office_manager")
        assert other.get(path).status_code == 404
        assert post(other, f"{path}/apply").status_code == 404
        assert other.get("/admin/import/999999").status_code == 404
        administrator = client.application.test_client()
        sign_in(administrator, db, "admin")
        assert administrator.get(path).status_code == 200


class TestTemplates:
    @pytest.mark.parametrize("kind", ["csv", "xlsx"])
    def test_the_template_imports_cleanly_into_an_empty_city(self, client, db, kind):
        sign_in(client, db, "admin")  # a fresh installation: no unit at all
        response = client.get(f"/admin/import/template.{kind}")
        assert response.status_code == 200
        assert "attachment" in response.headers["Content-Disposition"]
        content = response.data
        if kind == "xlsx":
            sheet = load_workbook(io.BytesIO(content)).worksheets[0]
            rows = [[c or "" for c in row] for row in sheet.iter_rows(values_only=True)]
        else:
            assert content.startswith(b"\xef\xbb\xbf")  # Excel opens it as UTF-8
            rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        assert rows[0] == HEADER and len(rows) > 20
        path, html = preview_of(client, content, f"template.{kind}")
        assert problems(html) == []
        apply(client, path)
        db.expire_all()
        wanted = {kind: sum(1 for r in rows[1:] if r[0] == kind) for kind in ("unit", "office")}
        assert db.scalar(select(func.count()).select_from(Unit)) == wanted["unit"]
        assert db.scalar(select(func.count()).select_from(Office)) == wanted["office"]
        places = (
            db.scalar(select(func.count()).select_from(Office))
            + db.scalar(select(func.count()).select_from(Counter))
            + db.scalar(select(func.count()).select_from(Officer))
        )
        assert db.scalar(select(func.count()).select_from(Target)) == places
        # And again: nothing changes.
        _path, html = preview_of(client, content, f"template.{kind}")
        assert "The city already matches this file" in html

    @pytest.mark.parametrize("kind", ["csv", "xlsx"])
    def test_the_export_reimports_without_changes(self, client, db, admin, kind):
        response = client.get(f"/admin/import/export.{kind}")
        assert response.status_code == 200
        _path, html = preview_of(client, response.data, f"export.{kind}")
        assert problems(html) == [] and "The city already matches this file" in html

    def test_unknown_kinds_are_404(self, client, db, admin):
        assert client.get("/admin/import/template.pdf").status_code == 404
        assert client.get("/admin/import/export.ods").status_code == 404


class TestCommandLine:
    def test_dry_run_then_apply(self, runner, db, city, tmp_path):
        path = tmp_path / "to-chuc.csv"
        path.write_bytes(to_csv(DISTRICT, delimiter=";", bom=True))
        before = snapshot(db)
        result = runner.invoke(args=["import-org", str(path), "--dry-run"])
        assert result.exit_code == 0, result.output
        assert re.search(r"offices\s+1 new\s+0 changed\s+0 unchanged", result.output)
        assert "Dry run: nothing was applied." in result.output
        assert snapshot(db) == before

        result = runner.invoke(args=["import-org", str(path)])
        assert result.exit_code == 0, result.output
        assert "Applied 4 change(s) from 4 rows." in result.output
        db.expire_all()
        assert db.scalar(select(Office.name).where(Office.code == "O3"))
        (entry,) = audit_entries(db, "org.import")
        assert entry.subject == "to-chuc.csv" and entry.after == {"rows": 4, "changes": 4}

        again = runner.invoke(args=["import-org", str(path)])
        assert again.exit_code == 0 and "Applied 0 change(s)" in again.output

    def test_an_xlsx_file(self, runner, db, city, tmp_path):
        path = tmp_path / "to-chuc.xlsx"
        path.write_bytes(to_xlsx(DISTRICT))
        result = runner.invoke(args=["import-org", str(path)])
        assert result.exit_code == 0, result.output
        db.expire_all()
        assert db.scalar(select(func.count()).select_from(Office)) == 3

    def test_problems_are_listed_and_nothing_applied(self, runner, db, city, tmp_path):
        path = tmp_path / "bad.csv"
        path.write_bytes(to_csv(BAD))
        before = snapshot(db)
        result = runner.invoke(args=["import-org", str(path)])
        assert result.exit_code != 0
        for row, column, _problem in BAD_PROBLEMS:
            assert f"row {row}, {column}:" in result.output, (row, column)
        assert "nothing was applied" in result.output
        assert snapshot(db) == before

    def test_an_unreadable_file(self, runner, db, city, tmp_path):
        path = tmp_path / "bad.xlsx"
        path.write_bytes(b"PK\x03\x04 nope")
        result = runner.invoke(args=["import-org", str(path)])
        assert result.exit_code != 0 and "not a readable XLSX" in result.output
        missing = runner.invoke(args=["import-org", str(tmp_path / "none.csv")])
        assert missing.exit_code != 0
