"""Tickets through HTTP: minting by API and admin page, single use (also under concurrent
redemption, on SQLite and PostgreSQL alike), expiry, verified counts in the summary."""

from __future__ import annotations

import io
import re
import threading
import uuid
from datetime import datetime, timedelta

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select, update

from surveys.db import utcnow
from surveys.models import Response, Target, Ticket
from tests.conftest import csrf_token
from tests.test_codes import rasterise_svg, svgs_in

BASE = "http://kiosk.test"


def count(db, model=Response) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


@pytest.fixture()
def token(make_token):
    return make_token(scope="O1")


def mint(client, token, **body):
    return client.post(
        "/api/v1/tickets",
        json={"office": "O1", **body},
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.fixture()
def ticket(client, city, token) -> str:
    response = mint(client, token, counter="O1-Q1", officer="CB1")
    assert response.status_code == 201
    return response.json["tickets"][0]["code"]


def answer(ticket_code: str, response_id: str | None = None, **extra) -> dict:
    return {
        "id": response_id or str(uuid.uuid4()),
        "ticket": ticket_code,
        "answers": {"overall": "satisfied"},
        **extra,
    }


def ticket_form(client, code: str) -> dict:
    page = client.get(f"/t/{code}").get_data(as_text=True)
    return {
        "csrf_token": csrf_token(page),
        "response_id": re.search(r'name="response_id" value="([^"]+)"', page).group(1),
    }


class TestMintingApi:
    def test_mints_codes_with_urls_and_expiry(self, client, db, city, token):
        before = utcnow()
        response = mint(client, token, count=3, counter="O1-Q1", service="Chứng thực bản sao")
        assert response.status_code == 201
        tickets = response.json["tickets"]
        assert len(tickets) == 3 and len({t["code"] for t in tickets}) == 3
        for item in tickets:
            assert re.fullmatch(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{10}", item["code"])
            assert item["url"] == f"{BASE}/t/{item['code']}"
            expires = datetime.fromisoformat(item["expires_at"].replace("Z", ""))
            assert timedelta(hours=71) < expires - before < timedelta(hours=73)
        stored = db.scalars(select(Ticket)).all()
        assert len(stored) == 3
        assert {t.target.code for t in stored} == {"COUNTR1"}
        assert {t.service for t in stored} == {"Chứng thực bản sao"}

    def test_without_a_counter_the_ticket_opens_the_office_survey(self, client, db, city, token):
        mint(client, token)
        assert db.scalar(select(Ticket)).target.code == "OFFICE1"

    @pytest.mark.parametrize(
        "body, field",
        [
            ({"count": 0}, "count"),
            ({"count": 501}, "count"),
            ({"count": "many"}, "count"),
            ({"count": True}, "count"),
            ({"count": 2.5}, "count"),
            ({"service": "x" * 201}, "service"),
            ({"colour": "red"}, "colour"),
            ({"office": None}, "office"),
        ],
    )
    def test_invalid_requests_name_the_field(self, client, db, city, token, body, field):
        response = mint(client, token, **body)
        assert response.status_code == 400
        assert field in response.json["error"]["fields"]
        assert count(db, Ticket) == 0

    @pytest.mark.parametrize(
        "body, field",
        [
            ({"counter": "O2-Q1"}, "counter"),  # a counter of another office
            ({"counter": "NOPE"}, "counter"),
            ({"officer": "NOPE"}, "officer"),
        ],
    )
    def test_a_counter_or_officer_not_of_the_office_is_404(
        self, client, db, city, token, body, field
    ):
        response = mint(client, token, **body)
        assert response.status_code == 404
        assert response.json["error"]["fields"] == {field: "not_in_office"}
        assert count(db, Ticket) == 0

    def test_a_whole_number_written_as_a_float_is_a_whole_number(self, client, db, city, token):
        assert mint(client, token, count=2.0).status_code == 201
        assert count(db, Ticket) == 2

    def test_malformed_json_is_400(self, client, city, token):
        response = client.post(
            "/api/v1/tickets",
            data="{nope",
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 400 and response.json["error"]["code"] == "malformed_json"

    def test_maximum_count_in_one_bulk_request(self, client, db, city, token):
        response = mint(client, token, count=500)
        assert response.status_code == 201 and len(response.json["tickets"]) == 500
        assert count(db, Ticket) == 500

    def test_needs_an_api_token(self, client, city, make_user, login):
        assert mint(client, "hl_wrong").status_code == 401
        assert client.post("/api/v1/tickets", json={"office": "O1"}).status_code == 401
        # A signed-in browser session is not enough: minting is for machines with a token.
        make_user("admin@example.vn", role="admin", scope=None)
        login("admin@example.vn")
        response = client.post("/api/v1/tickets", json={"office": "O1"})
        assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"

    def test_scope_is_enforced(self, client, db, city, make_token):
        manager = make_token(scope="O1")
        assert mint(client, manager, office="O2").status_code == 403
        assert mint(client, manager, office="NOPE").status_code == 404
        unit_admin = make_token("d1@example.vn", role="admin", scope="D1")
        assert mint(client, unit_admin, office="O2").status_code == 403
        assert mint(client, unit_admin, office="O1").status_code == 201
        viewer = make_token("viewer@example.vn", role="viewer", scope="O1")
        response = mint(client, viewer)
        assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"
        assert count(db, Ticket) == 1

    def test_a_device_token_cannot_mint(self, client, city, device_token):
        assert mint(client, device_token).status_code == 401


class TestRedeemingOnThePhone:
    def test_the_ticket_page_is_the_phone_survey_posting_to_the_ticket(self, client, city, ticket):
        response = client.get(f"/t/{ticket}")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f'action="/t/{ticket}"' in html and 'name="overall"' in html
        assert "Quầy 1" in html and "<script" not in html and "style=" not in html

    def test_typed_ticket_codes_are_forgiving(self, client, city, ticket):
        spaced = f"{ticket[:5].lower()} {ticket[5:].lower()}"
        response = client.get("/s", query_string={"code": spaced})
        assert response.headers["Location"].endswith(f"/t/{ticket}")
        response = client.get(f"/t/{ticket.lower()}")
        assert response.status_code == 302 and response.headers["Location"].endswith(f"/t/{ticket}")

    def test_submission_is_verified_and_credited_to_the_ticket_officer(
        self, client, db, city, ticket
    ):
        form = ticket_form(client, ticket)
        response = client.post(
            f"/t/{ticket}",
            data={**form, "overall": "not_satisfied", "reasons": ["attitude"]},
        )
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/t/{ticket}/thanks")
        stored = db.get(Response, uuid.UUID(form["response_id"]))
        stored_ticket = db.scalar(select(Ticket).where(Ticket.code == ticket))
        assert stored.channel == "ticket" and stored.is_verified
        assert stored.ticket_id == stored_ticket.id and stored_ticket.used_at is not None
        assert stored.officer_id == city.officer.id and stored.counter_id == city.counter.id
        assert client.get(f"/t/{ticket}/thanks").status_code == 200

    def test_a_used_ticket_shows_a_clear_page(self, client, db, city, ticket):
        form = ticket_form(client, ticket)
        client.post(f"/t/{ticket}", data={**form, "overall": "satisfied"})
        # The same form sent again (double tap) is the same response: thanks, stored once.
        again = client.post(f"/t/{ticket}", data={**form, "overall": "satisfied"})
        assert again.status_code == 302 and count(db) == 1
        page = client.get(f"/t/{ticket}?lang=en")
        assert page.status_code == 409
        assert "This ticket has already been used" in page.get_data(as_text=True)
        # Another response on a form opened before the ticket was used is refused clearly.
        other = client.post(
            f"/t/{ticket}?lang=en",
            data={**form, "response_id": str(uuid.uuid4()), "overall": "satisfied"},
        )
        assert other.status_code == 409 and "already been used" in other.get_data(as_text=True)
        assert count(db) == 1

    def test_an_expired_ticket_shows_a_clear_page(self, client, db, city, ticket):
        form = ticket_form(client, ticket)
        db.execute(update(Ticket).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.commit()
        page = client.get(f"/t/{ticket}?lang=en")
        assert page.status_code == 410 and "This ticket has expired" in page.get_data(as_text=True)
        late = client.post(f"/t/{ticket}?lang=en", data={**form, "overall": "satisfied"})
        assert late.status_code == 410 and "expired" in late.get_data(as_text=True)
        assert count(db) == 0

    def test_unknown_ticket_is_a_friendly_404(self, client, city):
        for code in ("ABCDEFGHJK", "not/a/code", "X"):
            response = client.get(f"/t/{code}?lang=en")
            assert response.status_code == 404
        assert "No ticket has this code" in client.get("/t/ABCDEFGHJK?lang=en").get_data(
            as_text=True
        )
        assert client.post("/t/ABCDEFGHJK", data={"overall": "satisfied"}).status_code in (
            400,
            404,
        )

    def test_invalid_answers_redisplay_the_form(self, client, db, city, ticket):
        form = ticket_form(client, ticket)
        response = client.post(f"/t/{ticket}", data={**form, "overall": "ecstatic"})
        assert response.status_code == 400 and 'aria-invalid="true"' in response.get_data(
            as_text=True
        )
        assert count(db) == 0
        assert db.scalar(select(Ticket.used_at)) is None  # the ticket is still good

    def test_a_ticket_still_works_after_its_code_is_replaced(
        self, client, db, city, ticket, make_user, login
    ):
        make_user("admin@example.vn", role="admin", scope=None)
        login("admin@example.vn")
        page = client.get("/admin/codes/targets/COUNTR1/rotate").get_data(as_text=True)
        client.post("/admin/codes/targets/COUNTR1/rotate", data={"csrf_token": csrf_token(page)})
        response = client.post("/api/v1/responses", json=answer(ticket))
        assert response.status_code == 201
        stored = db.get(Response, uuid.UUID(response.json["id"]))
        assert db.get(Target, stored.target_id).code != "COUNTR1"
        assert db.get(Target, stored.target_id).counter_id == city.counter.id


class TestRedeemingThroughTheApi:
    def test_ticket_response_is_verified(self, client, db, city, ticket):
        response = client.post("/api/v1/responses", json=answer(ticket))
        assert response.status_code == 201
        stored = db.get(Response, uuid.UUID(response.json["id"]))
        assert stored.is_verified and stored.channel == "ticket"
        assert stored.officer_id == city.officer.id

    def test_second_response_is_409_and_a_replay_is_201(self, client, db, city, ticket):
        first = answer(ticket)
        assert client.post("/api/v1/responses", json=first).status_code == 201
        replay = client.post("/api/v1/responses", json=first)
        assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
        second = client.post("/api/v1/responses", json=answer(ticket))
        assert second.status_code == 409
        assert second.json["error"]["code"] == "ticket_used"
        changed = client.post(
            "/api/v1/responses", json={**first, "answers": {"overall": "not_satisfied"}}
        )
        assert changed.status_code == 422
        assert count(db) == 1

    def test_expired_is_409_ticket_expired(self, client, db, city, ticket):
        db.execute(update(Ticket).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
        response = client.post("/api/v1/responses", json=answer(ticket))
        assert response.status_code == 409
        assert response.json["error"]["code"] == "ticket_expired"

    @pytest.mark.parametrize(
        "extra, status, field",
        [
            ({"target": "COUNTR2"}, 400, "target"),
            ({"ticket": ""}, 400, "ticket"),
            ({"ticket": 12}, 400, "ticket"),
            ({"ticket": "ABCDEFGHJK"}, 404, "ticket"),
        ],
    )
    def test_bad_ticket_fields(self, client, db, city, ticket, extra, status, field):
        response = client.post("/api/v1/responses", json={**answer(ticket), **extra})
        assert response.status_code == status and field in response.json["error"]["fields"]
        assert count(db) == 0

    def test_matching_target_is_accepted(self, client, city, ticket):
        response = client.post("/api/v1/responses", json=answer(ticket, target="countr1"))
        assert response.status_code == 201

    def test_a_kiosk_does_not_redeem_tickets(self, client, db, city, ticket, device_token):
        response = client.post(
            "/api/v1/responses",
            json=answer(ticket),
            headers={"Authorization": f"Bearer {device_token}"},
        )
        assert response.status_code == 403
        assert response.json["error"]["fields"] == {"ticket": "not_from_a_kiosk"}


class TestConcurrentRedemption:
    """Eight phones send a response for one ticket at the same instant: exactly one is stored.

    Runs on SQLite here and on PostgreSQL with TEST_DATABASE_URL (see the Makefile).
    """

    def race(self, app, bodies: list[dict]) -> list[tuple[int, str | None]]:
        results: list[tuple[int, str | None]] = []
        barrier = threading.Barrier(len(bodies))

        def send(body):
            client = app.test_client()
            barrier.wait()
            response = client.post("/api/v1/responses", json=body)
            results.append((response.status_code, (response.json.get("error") or {}).get("code")))

        threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    def test_different_responses_store_exactly_one(self, app, db, city, ticket):
        results = self.race(app, [answer(ticket) for _ in range(8)])
        assert sorted(results) == [(201, None)] + [(409, "ticket_used")] * 7
        assert count(db) == 1
        assert db.scalar(select(Response.ticket_id)) == db.scalar(select(Ticket.id))

    def test_the_same_response_sent_eight_times_is_one_201_answer(self, app, db, city, ticket):
        body = answer(ticket)
        results = self.race(app, [body] * 8)
        assert results == [(201, None)] * 8
        assert count(db) == 1

    def test_the_database_refuses_a_second_response_for_a_ticket(self, db, city, ticket):
        """The UNIQUE constraint holds even if the application check were bypassed."""
        from sqlalchemy.exc import IntegrityError

        stored_ticket = db.scalar(select(Ticket))
        rows = []
        for _ in range(2):
            rows.append(
                Response(
                    id=uuid.uuid4(),
                    target_id=stored_ticket.target_id,
                    survey_id=stored_ticket.target.survey_id,
                    office_id=stored_ticket.office_id,
                    channel="ticket",
                    locale="vi",
                    submitted_at=utcnow(),
                    received_at=utcnow(),
                    headline_polarity=1,
                    is_verified=True,
                    ticket_id=stored_ticket.id,
                    body_hash="x" * 64,
                )
            )
        db.add(rows[0])
        db.commit()
        db.add(rows[1])
        with pytest.raises(IntegrityError):
            db.commit()
        db.rollback()


class TestFigures:
    def test_summary_counts_verified_responses_and_ticket_response_rate(self, client, city, token):
        codes = [t["code"] for t in mint(client, token, count=4).json["tickets"]]
        for code in codes[:3]:
            assert client.post("/api/v1/responses", json=answer(code)).status_code == 201
        client.post(
            "/api/v1/responses",
            json={
                "id": str(uuid.uuid4()),
                "target": "COUNTR1",
                "answers": {"overall": "satisfied"},
            },
        )
        data = client.get(
            "/api/v1/offices/O1/summary", headers={"Authorization": f"Bearer {token}"}
        ).json
        assert data["responses"] == 4 and data["verified"] == 3
        assert data["tickets"] == {"issued": 4, "responded": 3, "response_rate": 0.75}
        other = client.get(
            "/api/v1/offices/O1/summary?from=2020-01-01&to=2020-01-31",
            headers={"Authorization": f"Bearer {token}"},
        ).json
        assert other["verified"] == 0
        assert other["tickets"] == {"issued": 0, "responded": 0, "response_rate": None}

    def test_dashboard_shows_verified_counts(self, client, city, token, login):
        code = mint(client, token).json["tickets"][0]["code"]
        client.post("/api/v1/responses", json=answer(code))
        login()
        index = client.get("/dashboard?lang=en").get_data(as_text=True)
        assert "Verified" in index
        row = re.search(r"Bộ phận một cửa Quận Một</a></th>(.*?)</tr>", index, flags=re.S).group(1)
        assert re.findall(r'<td class="num">(\d+)</td>', row)[-1] == "1"
        office = client.get("/dashboard/offices/O1?lang=en").get_data(as_text=True)
        assert "Tickets issued" in office and "100%" in office


class TestPrintedTickets:
    @pytest.fixture()
    def admin(self, make_user, login):
        make_user("admin@example.vn", role="admin", scope=None)
        login("admin@example.vn")

    def test_admin_mints_and_prints_a_sheet(self, client, db, city, admin):
        page = client.get("/admin/codes/offices/O1/tickets").get_data(as_text=True)
        assert 'name="count"' in page and "Quầy 1" in page
        response = client.post(
            "/admin/codes/offices/O1/tickets",
            data={"csrf_token": csrf_token(page), "count": "22", "counter": "O1-Q1"},
        )
        assert response.status_code == 302 and "/tickets/print?at=" in response.headers["Location"]
        sheet = client.get(response.headers["Location"])
        html = sheet.get_data(as_text=True)
        assert sheet.status_code == 200 and "css/print.css" in html and "style=" not in html
        assert html.count('class="slip"') == 22 and html.count('class="sheet slips"') == 2
        # A slip stays valid for days: it must not say "today".
        assert "hôm nay" not in html and "lần giao dịch này" in html
        codes = db.scalars(select(Ticket.code)).all()
        assert len(codes) == 22
        first = svgs_in(html)[0]
        decoded = zxingcpp.read_barcodes(rasterise_svg(first))[0].text
        assert decoded.startswith(f"{BASE}/t/") and decoded.rsplit("/", 1)[1] in codes

    def test_bad_count_is_a_form_error(self, client, db, city, admin):
        page = client.get("/admin/codes/offices/O1/tickets").get_data(as_text=True)
        for bad in ("0", "9999", "abc", ""):
            response = client.post(
                "/admin/codes/offices/O1/tickets",
                data={"csrf_token": csrf_token(page), "count": bad},
            )
            assert response.status_code == 400
            assert 'aria-invalid="true"' in response.get_data(as_text=True)
        assert count(db, Ticket) == 0

    def test_print_page_of_nothing_is_404(self, client, city, admin):
        assert client.get("/admin/codes/offices/O1/tickets/print?at=nonsense").status_code == 404
        assert (
            client.get("/admin/codes/offices/O1/tickets/print?at=2020-01-01T00:00:00").status_code
            == 404
        )

    def test_scoped_admin_cannot_mint_for_another_office(self, client, db, city, make_user, login):
        make_user("d1@example.vn", role="admin", scope="D1")
        login("d1@example.vn")
        assert client.get("/admin/codes/offices/O2/tickets").status_code == 403
        page = client.get("/admin/codes/offices/O1/tickets").get_data(as_text=True)
        response = client.post(
            "/admin/codes/offices/O2/tickets", data={"csrf_token": csrf_token(page), "count": "1"}
        )
        assert response.status_code == 403 and count(db, Ticket) == 0


def test_ticket_qr_png_is_not_needed_but_the_slip_url_decodes(client, city, token):
    """The URL minted by the API is what a QR on a queue ticket must encode."""
    from surveys.qr import qr_png

    url = mint(client, token).json["tickets"][0]["url"]
    image = Image.open(io.BytesIO(qr_png(url)))
    assert zxingcpp.read_barcodes(image)[0].text == url
    assert client.get(url.removeprefix(BASE)).status_code == 200
