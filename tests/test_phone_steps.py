"""The officer survey on a phone in two steps: the headline alone, stored at once, then the
conduct questions as an optional second step that adds to the same response."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from surveys.db import utcnow
from surveys.defaults import OFFICE_CULTURE, QUICK, SIPAS, ensure_default_surveys
from surveys.errors import Conflict, InvalidTransition, ValidationError
from surveys.models import Answer, Response
from surveys.responses import ResponseInput, add_answers, stored_answers, submit_response
from surveys.spec import survey_spec
from tests.conftest import csrf_token


def first_step(client, code="OFFICR1"):
    page = client.get(f"/s/{code}").get_data(as_text=True)
    return {
        "csrf_token": csrf_token(page),
        "response_id": re.search(r'name="response_id" value="([^"]+)"', page).group(1),
    }


def answers_of(db, response_id) -> dict:
    response = db.get(Response, response_id)
    return stored_answers(db, survey_spec(db, response.survey_id), response_id)


class TestWhichSurveysTakeTwoSteps:
    def test_the_default_surveys(self, db):
        surveys = ensure_default_surveys(db)
        assert survey_spec(db, surveys[OFFICE_CULTURE].id).has_second_step
        assert survey_spec(db, surveys[SIPAS].id).has_second_step
        # Headline, reasons after a negative answer, comment: one short page, as before.
        assert not survey_spec(db, surveys[QUICK].id).has_second_step


class TestFirstStep:
    def test_page_asks_the_headline_alone_as_one_tap_buttons(self, client, city):
        html = client.get("/s/OFFICR1").get_data(as_text=True)
        assert html.count('<button type="submit" name="overall"') == 5
        assert 'name="discipline"' not in html and "<textarea" not in html
        assert 'type="radio"' not in html
        assert "<script" not in html

    def test_one_tap_stores_the_rating_and_opens_the_second_step(self, client, db, city):
        form = first_step(client)
        response = client.post("/s/OFFICR1", data={**form, "overall": "very_satisfied"})
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/s/OFFICR1/more")
        stored = db.get(Response, uuid.UUID(form["response_id"]))
        assert stored is not None and stored.headline_polarity == 1
        assert answers_of(db, stored.id) == {"overall": "very_satisfied"}

        page = client.get("/s/OFFICR1/more")
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "Đánh giá của Ông/Bà đã được ghi nhận." in html
        for key in ("discipline", "responsibility", "dedication", "friendliness"):
            assert f'name="{key}"' in html
        assert 'name="reasons"' not in html  # only after a negative headline
        assert 'name="overall"' not in html
        assert "<textarea" in html

    def test_a_negative_headline_opens_the_reasons_in_the_second_step(self, client, db, city):
        form = first_step(client)
        client.post("/s/OFFICR1", data={**form, "overall": "very_dissatisfied"})
        html = client.get("/s/OFFICR1/more").get_data(as_text=True)
        assert 'name="reasons"' in html and "data-show-if" not in html

    def test_the_one_page_surveys_go_straight_to_thanks(self, client, db, city):
        form = first_step(client, "COUNTR1")
        response = client.post("/s/COUNTR1", data={**form, "overall": "satisfied"})
        assert response.headers["Location"].endswith("/s/COUNTR1/thanks")


class TestSecondStep:
    def test_adds_to_the_same_response(self, client, db, city):
        form = first_step(client)
        client.post("/s/OFFICR1", data={**form, "overall": "not_satisfied"})
        page = client.get("/s/OFFICR1/more").get_data(as_text=True)
        response = client.post(
            "/s/OFFICR1/more",
            data={
                "csrf_token": csrf_token(page),
                "discipline": "satisfied",
                "friendliness": "not_satisfied",
                "reasons": ["attitude", "waiting_time"],
                "comment": "Cán bộ trả lời cộc lốc",
            },
        )
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/s/OFFICR1/thanks")
        assert db.scalar(select(func.count()).select_from(Response)) == 1
        assert answers_of(db, uuid.UUID(form["response_id"])) == {
            "overall": "not_satisfied",
            "discipline": "satisfied",
            "friendliness": "not_satisfied",
            "reasons": ["attitude", "waiting_time"],
            "comment": "Cán bộ trả lời cộc lốc",
        }
        # Done: the second step is closed for this phone.
        assert client.get("/s/OFFICR1/more").headers["Location"].endswith("/s/OFFICR1/thanks")

    def test_sending_it_twice_stores_it_once(self, client, db, city):
        form = first_step(client)
        client.post("/s/OFFICR1", data={**form, "overall": "satisfied"})
        page = client.get("/s/OFFICR1/more").get_data(as_text=True)
        data = {"csrf_token": csrf_token(page), "dedication": "very_satisfied"}
        client.post("/s/OFFICR1/more", data=data)
        # The phone's session no longer opens it; the domain would take it as a replay anyway.
        client.post("/s/OFFICR1/more", data=data)
        assert db.scalar(select(func.count()).select_from(Answer)) == 2

    def test_a_bad_answer_shows_the_step_again(self, client, db, city):
        form = first_step(client)
        client.post("/s/OFFICR1", data={**form, "overall": "satisfied"})
        page = client.get("/s/OFFICR1/more").get_data(as_text=True)
        response = client.post(
            "/s/OFFICR1/more", data={"csrf_token": csrf_token(page), "discipline": "ecstatic"}
        )
        assert response.status_code == 400 and 'aria-invalid="true"' in response.get_data(
            as_text=True
        )
        assert db.scalar(select(func.count()).select_from(Answer)) == 1

    def test_another_phone_cannot_add_to_it(self, app, client, db, city):
        form = first_step(client)
        client.post("/s/OFFICR1", data={**form, "overall": "satisfied"})
        other = app.test_client()
        page = other.get("/s/OFFICR1").get_data(as_text=True)
        response = other.post(
            "/s/OFFICR1/more", data={"csrf_token": csrf_token(page), "discipline": "satisfied"}
        )
        assert response.status_code == 302 and response.headers["Location"].endswith("/thanks")
        assert other.get("/s/OFFICR1/more").status_code == 302
        assert db.scalar(select(func.count()).select_from(Answer)) == 1

    def test_a_get_never_writes(self, client, db, city):
        form = first_step(client)
        client.post("/s/OFFICR1", data={**form, "overall": "satisfied"})
        client.get("/s/OFFICR1/more?discipline=satisfied")
        assert db.scalar(select(func.count()).select_from(Answer)) == 1


class TestAddAnswersDomain:
    def stored(self, db, city, **answers):
        payload = ResponseInput(
            id=uuid.uuid4(),
            target_code=city.officer_code,
            answers={"overall": "satisfied", **answers},
        )
        submit_response(db, payload, now=utcnow())
        db.flush()
        return payload

    def test_first_step_replay_still_matches_after_the_second(self, db, city):
        payload = self.stored(db, city)
        added = add_answers(db, payload.id, {"discipline": "satisfied"}, now=utcnow())
        assert added.is_new
        # The first step sent again (a retry) is still recognised as the same response.
        again = submit_response(db, payload, now=utcnow())
        assert not again.is_new

    def test_same_answers_again_is_a_replay(self, db, city):
        payload = self.stored(db, city)
        add_answers(db, payload.id, {"discipline": "satisfied", "comment": "Tốt"}, now=utcnow())
        again = add_answers(
            db, payload.id, {"discipline": "satisfied", "comment": "Tốt"}, now=utcnow()
        )
        assert not again.is_new

    def test_a_different_answer_to_an_answered_question_conflicts(self, db, city):
        payload = self.stored(db, city, discipline="satisfied")
        with pytest.raises(Conflict):
            add_answers(db, payload.id, {"discipline": "not_satisfied"}, now=utcnow())
        with pytest.raises(Conflict):
            add_answers(db, payload.id, {"overall": "very_dissatisfied"}, now=utcnow())

    def test_follow_ups_obey_the_stored_headline(self, db, city):
        payload = self.stored(db, city)
        with pytest.raises(ValidationError) as raised:
            add_answers(db, payload.id, {"reasons": ["attitude"]}, now=utcnow())
        assert raised.value.fields == {"answers.reasons": "not_asked"}

    def test_the_step_closes_after_its_window(self, db, city):
        payload = self.stored(db, city)
        with pytest.raises(InvalidTransition):
            add_answers(
                db, payload.id, {"discipline": "satisfied"}, now=utcnow() + timedelta(hours=1)
            )


class TestSecondStepCounts:
    """What the second step adds reaches the figures and the alerts as a first step's would."""

    def _two_steps(self, client, reasons):
        form = first_step(client)
        client.post("/s/OFFICR1", data={**form, "overall": "very_dissatisfied"})
        page = client.get("/s/OFFICR1/more").get_data(as_text=True)
        answer = client.post(
            "/s/OFFICR1/more",
            data={"csrf_token": csrf_token(page), "discipline": "satisfied", "reasons": reasons},
        )
        assert answer.status_code == 302
        return uuid.UUID(form["response_id"])

    def test_the_rollups_equal_a_recount(self, client, db, city):
        from tests.test_rollups import assert_rollups_match_a_recount

        self._two_steps(client, ["attitude", "waiting_time"])
        self._two_steps(client, ["unclear_guidance", "procedure"])
        db.expire_all()
        assert_rollups_match_a_recount(db)

    def test_harassment_given_in_the_second_step_raises_rule_1(self, client, db, city):
        from surveys.models import Alert

        self._two_steps(client, ["attitude"])
        db.expire_all()
        assert db.scalar(select(func.count()).select_from(Alert)) == 0
        self._two_steps(client, ["harassment"])
        db.expire_all()
        [alert] = db.scalars(select(Alert)).all()
        assert alert.rule == "harassment" and alert.officer_id is not None
