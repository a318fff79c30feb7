"""Properties of the submit path, the ticket API and the kiosk API, over generated inputs.

- Any valid set of answers to a survey is stored exactly once with all its answers; sent again
  it is acknowledged as a replay; the same id with other answers is a 422; nothing else moves.
- Any JSON body at all, however malformed, gets a 2xx or a 4xx with a JSON error, never a 5xx.
Bounded (see EXAMPLES) so the suite stays fast; it runs on both engines.
"""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from surveys.models import Answer, KioskDevice, Response, Ticket
from surveys.spec import SurveySpec
from surveys.targets import load_target

EXAMPLES = 60
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
API_STATUSES = {200, 201, 400, 401, 403, 404, 409, 422, 429}

#: Any JSON value: what a hostile or broken client may put in any field.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def valid_answers(spec: SurveySpec) -> st.SearchStrategy[dict]:
    """Answers a citizen could give: every shown question answered or skipped as allowed."""

    @st.composite
    def build(draw):
        answers: dict = {}
        for question in spec.questions:
            if question.show_if and not spec.is_shown(question, answers):
                continue
            if not question.is_headline and not question.is_required and draw(st.booleans()):
                continue
            if question.kind in ("scale", "choice"):
                answers[question.key] = draw(st.sampled_from([c.key for c in question.choices]))
            elif question.kind == "multi":
                keys = draw(
                    st.lists(
                        st.sampled_from([c.key for c in question.choices]), unique=True, min_size=1
                    )
                )
                answers[question.key] = keys
            else:
                text = draw(st.text(min_size=1, max_size=question.max_length or 1000))
                if text.strip() and "\x00" not in text:
                    answers[question.key] = text
        return answers

    return build()


def canonical(answers: dict) -> dict:
    """Answers as the server compares them: several choices are a set, not a sequence."""
    return {k: sorted(v) if isinstance(v, list) else v for k, v in answers.items()}


def count(db, model) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("code", ["COUNTR1", "OFFICR1"])
def test_any_valid_answers_are_stored_exactly_once(client, db, city, code):
    _target, spec = load_target(db, code)

    @PROPERTY
    @given(answers=valid_answers(spec), other=valid_answers(spec))
    def check(answers, other):
        body = {"id": str(uuid.uuid4()), "target": code, "answers": answers}
        before = (count(db, Response), count(db, Answer))
        first = client.post("/api/v1/responses", json=body)
        assert first.status_code == 201, first.json
        stored = db.get(Response, uuid.UUID(body["id"]))
        rows = sum(len(v) if isinstance(v, list) else 1 for v in answers.values())
        assert (count(db, Response), count(db, Answer)) == (before[0] + 1, before[1] + rows)
        headline = spec.headline.by_key[answers["overall"]]
        assert (
            stored.headline_polarity
            == {"positive": 1, "neutral": 0, "negative": -1}[headline.polarity]
        )
        again = client.post("/api/v1/responses", json=body)
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        if canonical(other) != canonical(answers):
            conflict = client.post("/api/v1/responses", json={**body, "answers": other})
            assert conflict.status_code == 422
        assert (count(db, Response), count(db, Answer)) == (before[0] + 1, before[1] + rows)

    check()


def _post(client, path, body, headers=None):
    return client.post(
        path,
        data=json.dumps(body, ensure_ascii=True),
        content_type="application/json",
        headers=headers or {},
    )


def test_any_response_body_gets_an_answer_not_a_crash(client, db, city, device_token):
    @PROPERTY
    @given(
        body=st.fixed_dictionaries(
            {},
            optional={
                "id": st.uuids().map(str) | json_values,
                "target": st.sampled_from(["COUNTR1", "countr1", "OFFICE1", "COUNTR2"])
                | json_values,
                "answers": st.fixed_dictionaries(
                    {}, optional={"overall": json_values, "reasons": json_values}
                )
                | json_values,
                "comment": json_values,
                "locale": st.sampled_from(["vi", "en"]) | json_values,
                "submitted_at": json_values,
                "ticket": json_values,
                "extra": json_values,
            },
        ),
        as_kiosk=st.booleans(),
    )
    def check(body, as_kiosk):
        before = count(db, Response)
        headers = {"Authorization": f"Bearer {device_token}"} if as_kiosk else {}
        response = _post(client, "/api/v1/responses", body, headers)
        assert response.status_code in API_STATUSES, response.get_data(as_text=True)
        if response.status_code == 201:
            assert db.get(Response, uuid.UUID(response.json["id"])) is not None
            assert count(db, Response) in (before, before + 1)
        else:
            assert set(response.json["error"]) == {"code", "message", "fields"}
            assert count(db, Response) == before

    check()


def test_any_ticket_request_gets_an_answer_not_a_crash(client, db, city, make_token):
    token = make_token(scope="O1", role="manager")

    @PROPERTY
    @given(
        body=st.fixed_dictionaries(
            {"office": st.sampled_from(["O1", "O2", "NOPE"]) | json_values},
            optional={
                "counter": st.sampled_from(["O1-Q1", "O2-Q1"]) | json_values,
                "officer": st.sampled_from(["CB1"]) | json_values,
                "service": json_values,
                "count": st.integers(-5, 600) | json_values,
            },
        )
    )
    def check(body):
        before = count(db, Ticket)
        response = _post(client, "/api/v1/tickets", body, {"Authorization": f"Bearer {token}"})
        assert response.status_code in API_STATUSES, response.get_data(as_text=True)
        minted = len(response.json["tickets"]) if response.status_code == 201 else 0
        assert count(db, Ticket) == before + minted
        if response.status_code == 201:
            assert minted == body.get("count", 1)

    check()


def test_any_kiosk_report_gets_an_answer_not_a_crash(client, db, city, device_token):
    headers = {"Authorization": f"Bearer {device_token}"}

    @PROPERTY
    @given(
        heartbeat=st.fixed_dictionaries(
            {},
            optional={
                "app_version": st.text(max_size=60) | json_values,
                "queue_depth": st.integers(-10, 2_000_000) | json_values,
                "oldest_queued_at": st.datetimes(timezones=st.timezones()).map(
                    lambda d: d.isoformat()
                )
                | json_values,
                "last_error": st.text(max_size=600) | json_values,
            },
        ),
        sign_in=st.fixed_dictionaries(
            {},
            optional={
                "officer": st.sampled_from(["CB1"]) | json_values,
                "pin": st.sampled_from(["2580", "0000"]) | json_values,
                "badge": json_values,
            },
        ),
    )
    def check(heartbeat, sign_in):
        response = _post(client, "/api/v1/kiosk/heartbeat", heartbeat, headers)
        assert response.status_code in API_STATUSES, response.get_data(as_text=True)
        if response.status_code == 200:
            db.expire_all()
            device = db.scalar(select(KioskDevice))
            assert device.queue_depth == heartbeat["queue_depth"]
            assert device.app_version == (heartbeat["app_version"].strip()[:32] or "?")
        response = _post(client, "/api/v1/kiosk/officer/sign-in", sign_in, headers)
        assert response.status_code in API_STATUSES, response.get_data(as_text=True)

    check()
