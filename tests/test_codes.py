"""Survey codes through HTTP: typing them, QR images decoded by an independent reader (zxing-cpp),
posters, tents and badge cards, and their administration (rotate, pause) with scoped access."""

from __future__ import annotations

import io
import re
import uuid

import pytest
import zxingcpp
from PIL import Image, ImageDraw
from sqlalchemy import func, select

from surveys.models import Response, Target
from surveys.tokens import CODE_ALPHABET, new_code, normalise_code
from tests.conftest import csrf_token

BASE = "http://kiosk.test"


def decode(image: Image.Image) -> zxingcpp.Barcode:
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1, "expected exactly one QR code"
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    return found[0]


def rasterise_svg(svg: str, scale: int = 8) -> Image.Image:
    """Draw our QR SVG (a viewBox in modules, one path of h/v rectangles) into a bitmap."""
    size = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).group(1))
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    path = re.search(r'<path fill="#000" d="([^"]+)"', svg).group(1)
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", path):
        x, y, width = int(x), int(y), int(width)
        draw.rectangle([x * scale, y * scale, (x + width) * scale - 1, (y + 1) * scale - 1], fill=0)
    return image


def svgs_in(html: str) -> list[str]:
    return re.findall(r"<svg .*?</svg>", html, flags=re.S)


def post_form(client, url: str, data: dict | None = None, page_url: str | None = None):
    page = client.get(page_url or "/admin/codes/offices/O1").get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token(page), **(data or {})})


@pytest.fixture()
def admin(make_user, login):
    make_user("admin@example.vn", role="admin", scope=None)
    login("admin@example.vn")


class TestTypedCodes:
    def test_normalise_folds_case_width_and_separators(self):
        assert normalise_code(" abc-dEf g ") == "ABCDEFG"
        assert normalise_code("ＡＢＣ２") == "ABC2"  # full-width, from some phone keyboards
        assert normalise_code("ab_c.d") == "ABCD"

    def test_normalise_no_longer_maps_into_letters_outside_the_alphabet(self):
        # The alphabet has no 0/O/1/I/L, so nothing is "corrected" into them (nor out of them).
        assert normalise_code("o0il1") == "O0IL1"
        for confusable in "0O1IL":
            assert confusable not in CODE_ALPHABET

    def test_new_codes_are_already_canonical(self):
        for _ in range(200):
            code = new_code()
            assert normalise_code(code) == code and len(code) == 7
            assert set(code) <= set(CODE_ALPHABET)

    def test_lower_case_address_redirects_to_the_canonical_one(self, client, city):
        response = client.get("/s/countr1?lang=en")
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/s/COUNTR1?lang=en")

    def test_type_a_code_form(self, client, city):
        page = client.get("/s")
        assert page.status_code == 200 and 'name="code"' in page.get_data(as_text=True)
        assert "<script" not in page.get_data(as_text=True)
        response = client.get("/s?code=countr-1")
        assert response.status_code == 302 and response.headers["Location"].endswith("/s/COUNTR1")

    @pytest.mark.parametrize(
        "typed, status", [("", 400), ("ab/cd", 400), ("NOPE999", 404), ("x" * 30, 400)]
    )
    def test_type_a_code_form_errors_are_clear(self, client, city, typed, status):
        response = client.get("/s", query_string={"code": typed})
        html = response.get_data(as_text=True)
        assert response.status_code == status
        assert 'aria-invalid="true"' in html and 'class="error"' in html


class TestQrImages:
    @pytest.mark.parametrize("code", ["OFFICE1", "COUNTR1", "OFFICR1"])
    def test_png_decodes_to_the_public_url(self, client, city, code):
        response = client.get(f"/s/{code}/qr.png")
        assert response.status_code == 200 and response.mimetype == "image/png"
        image = Image.open(io.BytesIO(response.data))
        result = decode(image)
        assert result.text == f"{BASE}/s/{code}"
        assert result.ec_level in ("M", "Q", "H")
        # Print resolution: at least 600 px across, and 300 dpi recorded in the file.
        assert image.width >= 600 and round(image.info["dpi"][0]) == 300

    def test_png_has_a_quiet_zone_of_four_modules(self, client, city):
        image = Image.open(io.BytesIO(client.get("/s/COUNTR1/qr.png").data)).convert("L")
        dark = [
            [image.getpixel((x, y)) < 128 for x in range(image.width)] for y in range(image.height)
        ]
        top = next(y for y, row in enumerate(dark) if any(row))
        left = dark[top].index(True)
        # The top edge of the finder pattern is 7 modules of dark: that gives the module size.
        run = dark[top][left:].index(False)
        module = run / 7
        assert top == left == 4 * module

    @pytest.mark.parametrize("code", ["OFFICE1", "COUNTR1", "OFFICR1"])
    def test_svg_decodes_to_the_public_url(self, client, city, code):
        response = client.get(f"/s/{code.lower()}/qr.svg")
        assert response.status_code == 200 and response.mimetype == "image/svg+xml"
        svg = response.get_data(as_text=True)
        assert "style=" not in svg and 'width="' in svg and "mm" in svg
        assert decode(rasterise_svg(svg)).text == f"{BASE}/s/{code}"

    @pytest.mark.parametrize("suffix", ["qr.png", "qr.svg", "poster", "poster?size=a5"])
    def test_unknown_codes_have_no_images_or_posters(self, client, city, suffix):
        assert client.get(f"/s/NOPE999/{suffix}").status_code == 404


class TestPosters:
    def test_a4_poster_has_name_qr_url_and_both_languages(self, client, city):
        response = client.get("/s/COUNTR1/poster?lang=en")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "Quầy 1" in html and "Bộ phận một cửa Quận Một" in html
        assert "kiosk.test/s/COUNTR1" in html and "css/print.css" in html
        assert '<section lang="vi">' in html and '<section lang="en">' in html
        assert "Scan the QR code with your phone" in html
        assert "style=" not in html and "<script" not in html
        (qr,) = svgs_in(html)
        assert decode(rasterise_svg(qr)).text == f"{BASE}/s/COUNTR1"

    def test_officer_poster_and_a5_tent(self, client, city):
        html = client.get("/s/OFFICR1/poster").get_data(as_text=True)
        assert "Nguyễn Thị Lan" in html and "Rate this officer" in html
        tent = client.get("/s/OFFICR1/poster?size=a5&lang=en").get_data(as_text=True)
        assert 'class="sheet tent"' in tent and "fold along the dashed line" in tent
        faces = svgs_in(tent)
        assert len(faces) == 2  # one per side of the fold
        assert {decode(rasterise_svg(svg)).text for svg in faces} == {f"{BASE}/s/OFFICR1"}

    def test_print_css_sets_the_paper(self, client):
        with client.get("/static/css/print.css") as response:
            css = response.get_data(as_text=True)
        assert "@page { size: A4 portrait; margin: 0; }" in css
        assert "width: 210mm; height: 297mm" in css  # every sheet at its real size
        assert "repeat(2, 85.6mm)" in css and "grid-auto-rows: 54mm" in css  # ID-1 badge cards
        assert ".tent .back { transform: rotate(180deg)" in css  # the folded A5 tent


class TestRotationAndPausing:
    def test_rotate_makes_a_new_code_and_the_old_one_points_nowhere(self, client, db, city, admin):
        page = client.get("/admin/codes/targets/COUNTR1/rotate")
        assert page.status_code == 200
        response = client.post(
            "/admin/codes/targets/COUNTR1/rotate",
            data={"csrf_token": csrf_token(page.get_data(as_text=True))},
        )
        assert response.status_code == 302
        db.expire_all()
        old = db.scalar(select(Target).where(Target.code == "COUNTR1"))
        new = db.scalar(
            select(Target).where(
                Target.counter_id == old.counter_id,
                Target.kind == "counter",
                Target.rotated_at.is_(None),
            )
        )
        assert old.rotated_at is not None and new.code != "COUNTR1"
        assert (new.survey_id, new.office_id) == (old.survey_id, old.office_id)
        citizen = client.application.test_client()
        replaced = citizen.get("/s/COUNTR1?lang=en")
        html = replaced.get_data(as_text=True)
        assert replaced.status_code == 410 and "This code has been replaced" in html
        assert new.code not in html  # the old poster must not lead to the new code
        for suffix in ("qr.png", "qr.svg", "poster"):
            assert client.get(f"/s/COUNTR1/{suffix}").status_code == 410
        assert client.get(f"/s/{new.code}").status_code == 200
        assert (
            decode(Image.open(io.BytesIO(client.get(f"/s/{new.code}/qr.png").data))).text
            == f"{BASE}/s/{new.code}"
        )
        # The office page lists the new code only.
        office = client.get("/admin/codes/offices/O1").get_data(as_text=True)
        assert new.code in office and ">COUNTR1<" not in office

    def test_a_replaced_code_cannot_be_replaced_or_resumed(self, client, city, admin):
        post_form(client, "/admin/codes/targets/COUNTR1/rotate")
        assert post_form(client, "/admin/codes/targets/COUNTR1/rotate").status_code == 409
        assert post_form(client, "/admin/codes/targets/COUNTR1/enable").status_code == 409

    def test_pause_and_resume(self, client, db, city, admin):
        assert post_form(client, "/admin/codes/targets/OFFICE1/disable").status_code == 302
        paused = client.get("/s/OFFICE1?lang=en")
        assert paused.status_code == 404 and "This survey is paused" in paused.get_data(
            as_text=True
        )
        assert client.get("/s/OFFICE1/poster").status_code == 404
        assert client.get("/s/OFFICE1/qr.png").status_code == 404
        api = client.post(
            "/api/v1/responses",
            json={
                "id": str(uuid.uuid4()),
                "target": "OFFICE1",
                "answers": {"overall": "satisfied"},
            },
        )
        assert api.status_code == 404
        # Re-enabling a paused code is "Bật lại" (switching it on again), not "Dùng lại".
        office = client.get("/admin/codes/offices/O1?lang=vi").get_data(as_text=True)
        assert ">Bật lại</button>" in office and "Dùng lại" not in office
        assert post_form(client, "/admin/codes/targets/OFFICE1/enable").status_code == 302
        flashed = client.get("/admin/codes/offices/O1").get_data(as_text=True)
        assert "Mã OFFICE1 đã được kích hoạt lại." in flashed
        assert client.get("/s/OFFICE1").status_code == 200
        assert db.scalar(select(func.count()).select_from(Response)) == 0

    def test_rotate_and_pause_need_the_csrf_token(self, client, city, admin):
        for action in ("rotate", "disable"):
            assert client.post(f"/admin/codes/targets/COUNTR1/{action}").status_code == 400
        assert client.get("/s/COUNTR1").status_code == 200


class TestAdminPages:
    def test_codes_page_lists_every_code_of_the_office_with_its_print_links(
        self, client, city, admin
    ):
        index = client.get("/admin/codes").get_data(as_text=True)
        assert "Bộ phận một cửa Quận Một" in index and "Bộ phận một cửa Quận Hai" in index
        html = client.get("/admin/codes/offices/O1").get_data(as_text=True)
        for code in ("OFFICE1", "COUNTR1", "OFFICR1"):
            assert f"/s/{code}/poster" in html and f"/s/{code}/poster?size=a5" in html
            assert f"/s/{code}/qr.svg" in html and f"/s/{code}/qr.png" in html
            assert f"/admin/codes/targets/{code}/rotate" in html
        assert (
            "/admin/codes/offices/O1/badges" in html and "/admin/codes/offices/O1/tickets" in html
        )
        assert "<script" not in html and "style=" not in html
        assert "/admin/codes" in client.get("/admin").get_data(as_text=True)

    def test_badge_sheet_has_a_card_per_officer(self, client, city, admin):
        response = client.get("/admin/codes/offices/O1/badges")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert html.count('class="card"') == 1 and "Nguyễn Thị Lan" in html
        assert "OFFICR1" in html and "css/print.css" in html and "style=" not in html
        (qr,) = svgs_in(html)
        assert decode(rasterise_svg(qr)).text == f"{BASE}/s/OFFICR1"

    def test_office_without_officers_has_an_empty_sheet(self, client, city, admin):
        html = client.get("/admin/codes/offices/O2/badges").get_data(as_text=True)
        assert 'class="card"' not in html


ADMIN_GETS = [
    "/admin/codes",
    "/admin/codes/offices/{office}",
    "/admin/codes/offices/{office}/badges",
    "/admin/codes/offices/{office}/tickets",
    "/admin/codes/targets/{target}/rotate",
]
ADMIN_POSTS = [
    "/admin/codes/targets/{target}/rotate",
    "/admin/codes/targets/{target}/disable",
    "/admin/codes/targets/{target}/enable",
    "/admin/codes/offices/{office}/tickets",
]


class TestAccess:
    @pytest.mark.parametrize("url", ADMIN_GETS + ADMIN_POSTS)
    def test_anonymous_is_sent_to_sign_in(self, client, city, url):
        send = client.get if url in ADMIN_GETS else client.post
        response = send(url.format(office="O1", target="COUNTR1"))
        assert response.status_code in (302, 400)
        if response.status_code == 302:
            assert "/login" in response.headers["Location"]

    @pytest.mark.parametrize("url", ADMIN_GETS)
    def test_a_viewer_gets_403_on_every_page(self, client, city, make_user, login, url):
        make_user(role="viewer", scope="O1")
        login()
        assert client.get(url.format(office="O1", target="COUNTR1")).status_code == 403

    @pytest.mark.parametrize("url", ADMIN_GETS)
    def test_a_manager_runs_the_codes_of_their_own_offices(
        self, client, city, make_user, login, url
    ):
        make_user(scope="O1")
        login()
        assert client.get(url.format(office="O1", target="COUNTR1")).status_code == 200
        if "{office}" in url:
            assert client.get(url.format(office="O2", target="COUNTR2")).status_code == 403

    @pytest.mark.parametrize("url", ADMIN_POSTS)
    def test_a_manager_cannot_act_on_another_office(self, client, db, city, make_user, login, url):
        make_user(scope="O2")
        login()
        page = client.get("/dashboard").get_data(as_text=True)
        response = client.post(
            url.format(office="O1", target="COUNTR1"),
            data={"csrf_token": csrf_token(page), "count": "1"},
        )
        assert response.status_code == 403
        db.expire_all()
        assert db.scalar(select(Target).where(Target.code == "COUNTR1")).is_active

    @pytest.mark.parametrize("url", ADMIN_POSTS)
    def test_a_viewer_gets_403_on_every_action(self, client, db, city, make_user, login, url):
        make_user(role="viewer", scope="O1")
        login()
        page = client.get("/dashboard").get_data(as_text=True)
        response = client.post(
            url.format(office="O1", target="COUNTR1"),
            data={"csrf_token": csrf_token(page), "count": "1"},
        )
        assert response.status_code == 403
        db.expire_all()
        assert db.scalar(select(Target).where(Target.code == "COUNTR1")).is_active

    @pytest.mark.parametrize("url", ADMIN_GETS[1:])
    def test_admin_scoped_to_d1_cannot_see_office_o2(self, client, city, make_user, login, url):
        make_user("d1admin@example.vn", role="admin", scope="D1")
        login("d1admin@example.vn")
        assert client.get(url.format(office="O1", target="COUNTR1")).status_code == 200
        assert client.get(url.format(office="O2", target="COUNTR2")).status_code == 403

    @pytest.mark.parametrize("action", ["rotate", "disable"])
    def test_admin_scoped_to_d1_cannot_change_a_code_of_o2(
        self, client, db, city, make_user, login, action
    ):
        make_user("d1admin@example.vn", role="admin", scope="D1")
        login("d1admin@example.vn")
        response = post_form(client, f"/admin/codes/targets/COUNTR2/{action}")
        assert response.status_code == 403
        db.expire_all()
        assert db.scalar(select(Target).where(Target.code == "COUNTR2")).is_active
        assert post_form(client, f"/admin/codes/targets/COUNTR1/{action}").status_code == 302

    def test_scoped_admin_lists_only_their_offices(self, client, city, make_user, login):
        make_user("d1admin@example.vn", role="admin", scope="D1")
        login("d1admin@example.vn")
        html = client.get("/admin/codes").get_data(as_text=True)
        assert "Quận Một" in html and "Quận Hai" not in html

    def test_unknown_code_or_office_is_404(self, client, city, admin):
        assert client.get("/admin/codes/offices/NOPE").status_code == 404
        assert client.get("/admin/codes/targets/NOPE999/rotate").status_code == 404
        assert post_form(client, "/admin/codes/targets/NOPE999/rotate").status_code == 404
