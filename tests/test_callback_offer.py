"""The call-back offer a citizen sees after an unhappy rating: on the phone's thank-you page
(a plain form), and inside the rating a kiosk sends (POST /api/v1/responses with
``callback``); the thank-you page also links to the office's public page."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from surveys.db import utcnow
from surveys.models import CallbackCase, Response
from tests.conftest import csrf_token
from tests.test_tickets import mint, ticket_form

UNHAPPY = {"overall": "not_satisfied", "reasons": "waiting_time"}
OFFER = "Ông/Bà có muốn được liên hệ lại không?"


def cases_of(db) -> list[CallbackCase]:
    db.expire_all()
    return db.scalars(select(CallbackCase).order_by(CallbackCase.id)).all()


def rate_on_phone(client, code="COUNTR1", answers=None) -> uuid.UUID:
    page = client.get(f"/s/{code}").get_data(as_text=True)
    response_id = re.search(r'name="response_id" value="([^"]+)"', page).group(1)
    answer = client.post(
        f"/s/{code}",
        data={"csrf_token": csrf_token(page), "response_id": response_id, **(answers or UNHAPPY)},
    )
    assert answer.status_code == 302
    return uuid.UUID(response_id)


def thanks(client, code="COUNTR1") -> str:
    answer = client.get(f"/s/{code}/thanks")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def ask(client, page: str, code="COUNTR1", prefix="s", **fields):
    """Send the call-back form, with the page's CSRF token (another page's when it has no
    form: the request must then fail for want of an offer, not of a token)."""
    if 'name="csrf_token"' not in page:
        page = client.get("/s/OFFICE1?lang=vi").get_data(as_text=True)
    return client.post(
        f"/{prefix}/{code}/callback", data={"csrf_token": csrf_token(page), **fields}
    )


class TestOnThePhone:
    def test_an_unhappy_citizen_is_offered_a_call_back_and_a_case_opens(self, client, db, city):
        response_id = rate_on_phone(client)
        page = thanks(client)
        assert OFFER in page
        assert 'type="tel"' in page and 'name="consent"' in page
        assert "xóa sau 30 ngày" in page  # the consent sentence says when it is erased

        answer = ask(client, page, phone="0912 345 678", consent="1")

        assert answer.status_code == 302
        [case] = cases_of(db)
        assert (case.response_id, case.contact, case.contact_kind) == (
            response_id,
            "0912 345 678",
            "phone",
        )
        assert case.office_id == city.office.id and case.status == "open"
        after = client.get(answer.headers["Location"]).get_data(as_text=True)
        assert "liên hệ lại với Ông/Bà trong 3 ngày làm việc" in after
        assert OFFER not in after  # asked once

    def test_by_e_mail_in_english(self, client, db, city):
        rate_on_phone(client)
        page = client.get("/s/COUNTR1/thanks?lang=en").get_data(as_text=True)
        assert "Would you like us to contact you?" in page
        assert ask(client, page, email="dan@example.vn", consent="1").status_code == 302
        [case] = cases_of(db)
        assert (case.contact_kind, case.contact) == ("email", "dan@example.vn")

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"phone": "0912345678"}, "đánh dấu vào câu đồng ý"),
            ({"consent": "1"}, "số điện thoại hoặc địa chỉ email"),
            ({"phone": "12ab", "consent": "1"}, "Số điện thoại này có vẻ chưa đúng"),
            ({"email": "dan@", "consent": "1"}, "Địa chỉ email này có vẻ chưa đúng"),
            ({"phone": "0912345678", "email": "dan@example.vn", "consent": "1"}, "không cả hai"),
        ],
    )
    def test_a_form_with_a_problem_says_which_and_keeps_what_was_typed(
        self, client, db, city, fields, message
    ):
        rate_on_phone(client)
        answer = ask(client, thanks(client), **fields)
        assert answer.status_code == 400
        page = answer.get_data(as_text=True)
        assert message in page and 'aria-invalid="true"' in page
        if fields.get("phone"):
            assert f'value="{fields["phone"]}"' in page
        assert cases_of(db) == []
        # Still offered: the citizen corrects it and sends again.
        assert ask(client, page, phone="0912345678", consent="1").status_code == 302
        assert len(cases_of(db)) == 1

    def test_a_happy_citizen_is_not_offered_one(self, client, db, city):
        rate_on_phone(client, answers={"overall": "very_satisfied"})
        page = thanks(client)
        assert OFFER not in page
        assert ask(client, page, phone="0912345678", consent="1").status_code == 302
        assert cases_of(db) == []

    def test_only_the_phone_that_rated_may_ask(self, app, client, db, city):
        rate_on_phone(client)
        other = app.test_client()
        page = thanks(other)
        assert OFFER not in page
        assert ask(other, page, phone="0912345678", consent="1").status_code == 302
        assert cases_of(db) == []
        # Nor about another code than the one it rated.
        assert OFFER not in thanks(client, "OFFICE1")

    def test_not_after_a_day(self, client, db, city):
        response_id = rate_on_phone(client)
        db.execute(
            update(Response)
            .where(Response.id == response_id)
            .values(received_at=utcnow() - timedelta(hours=25))
        )
        db.commit()
        assert OFFER not in thanks(client)
        assert cases_of(db) == []

    def test_the_thank_you_links_to_the_office_public_page(self, client, db, city):
        rate_on_phone(client, answers={"overall": "satisfied"})
        page = thanks(client)
        assert 'href="/p/O1"' in page
        assert client.get("/p/O1").status_code == 200

    def test_the_form_needs_its_csrf_token(self, client, db, city):
        rate_on_phone(client)
        answer = client.post("/s/COUNTR1/callback", data={"phone": "0912345678", "consent": "1"})
        assert answer.status_code == 400
        assert cases_of(db) == []


def test_a_ticket_s_thank_you_offers_it_too(client, db, city, make_token):
    made = mint(client, make_token(scope="O1"), counter="O1-Q1")
    code = made.json["tickets"][0]["code"]
    form = ticket_form(client, code)
    assert client.post(f"/t/{code}", data={**form, **UNHAPPY}).status_code == 302
    page = client.get(f"/t/{code}/thanks").get_data(as_text=True)
    assert OFFER in page and 'href="/p/O1"' in page
    assert (
        ask(client, page, code=code, prefix="t", phone="0912345678", consent="1").status_code == 302
    )
    [case] = cases_of(db)
    assert case.response_id == uuid.UUID(form["response_id"])


class TestInsideARating:
    """The kiosk's way: the call-back travels in the rating, stored in one transaction."""

    def post(self, client, device_token, answers=UNHAPPY, **callback):
        response_id = str(uuid.uuid4())
        answer = client.post(
            "/api/v1/responses",
            json={
                "id": response_id,
                "target": "COUNTR1",
                "answers": {k: [v] if k == "reasons" else v for k, v in answers.items()},
                "callback": callback,
            },
            headers={"Authorization": f"Bearer {device_token}"},
        )
        assert answer.status_code == 201, answer.json
        return response_id, answer.json

    def test_opens_the_case_with_the_rating(self, client, db, city, device_token):
        response_id, body = self.post(client, device_token, phone="0912345678", consent=True)
        [case] = cases_of(db)
        assert body == {"id": response_id, "callback": {"id": case.id}}
        assert case.response_id == uuid.UUID(response_id) and case.counter_id == city.counter.id

    @pytest.mark.parametrize(
        ("answers", "callback", "code", "field"),
        [
            (UNHAPPY, {"phone": "0912345678", "consent": False}, "validation_error", "consent"),
            (UNHAPPY, {"phone": "12", "consent": True}, "validation_error", "phone"),
            (
                {"overall": "very_satisfied"},
                {"phone": "0912345678", "consent": True},
                "invalid_transition",
                "id",
            ),
        ],
    )
    def test_a_refused_call_back_never_costs_the_rating(
        self, client, db, city, device_token, answers, callback, code, field
    ):
        response_id, body = self.post(client, device_token, answers=answers, **callback)
        assert body["callback"]["error"]["code"] == code
        assert field in body["callback"]["error"]["fields"]
        assert body["callback"]["error"]["message"]
        assert db.get(Response, uuid.UUID(response_id)) is not None
        assert cases_of(db) == []

    def test_sent_again_it_opens_one_case(self, client, db, city, device_token):
        body = {
            "id": str(uuid.uuid4()),
            "target": "COUNTR1",
            "answers": {"overall": "not_satisfied"},
            "callback": {"email": "dan@example.vn", "consent": True},
        }
        headers = {"Authorization": f"Bearer {device_token}"}
        first = client.post("/api/v1/responses", json=body, headers=headers)
        again = client.post("/api/v1/responses", json=body, headers=headers)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json["callback"]["error"]["fields"] == {"id": "already_used"}
        assert db.scalar(select(func.count()).select_from(CallbackCase)) == 1

    def test_the_kiosk_fetches_the_offer_in_both_languages(self, client, city):
        answer = client.get("/kiosk/callback")
        assert answer.status_code == 200
        html = answer.get_data(as_text=True)
        assert OFFER in html and "Would you like us to contact you?" in html
        assert "<script" not in html and 'style="' not in html
        assert 'data-error="consent"' in html
