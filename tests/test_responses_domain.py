"""Recording a response: every rule of validation, named by field."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from surveys.db import utcnow
from surveys.defaults import build_office_culture, build_quick, build_sipas
from surveys.errors import Conflict, NotFound, PermissionDenied, Reason, ValidationError
from surveys.models import Answer, Response
from surveys.responses import ResponseInput, submit_response


def submit(db, target="COUNTR1", answers=None, **kwargs):
    payload = ResponseInput(
        id=kwargs.pop("id", uuid.uuid4()),
        target_code=target,
        answers={"overall": "satisfied"} if answers is None else answers,
        locale=kwargs.pop("locale", "vi"),
        comment=kwargs.pop("comment", None),
        submitted_at=kwargs.pop("submitted_at", None),
    )
    return submit_response(db, payload, now=kwargs.pop("now", utcnow()), **kwargs)


def fields_of(excinfo):
    return excinfo.value.fields


def test_default_surveys_are_worded_as_the_brief():
    quick = build_quick()
    overall = quick.questions[0]
    assert overall.is_headline and overall.key == "overall"
    assert (
        overall.text_vi == "Ông/Bà đánh giá thế nào về việc tiếp nhận và giải quyết hồ sơ hôm nay?"
    )
    assert [c.text_vi for c in overall.choices] == ["Rất hài lòng", "Hài lòng", "Không hài lòng"]
    assert [c.polarity for c in overall.choices] == ["positive", "positive", "negative"]
    reasons = quick.questions[1]
    assert reasons.kind == "multi" and reasons.show_if == {
        "question": "overall",
        "polarity": "negative",
    }
    assert len(reasons.choices) == 8
    not_charged = {c.key for c in reasons.choices if not c.is_charged_to_officer}
    assert not_charged == {"procedure", "facilities"}
    assert quick.questions[2].max_length == 1000
    culture = build_office_culture()
    assert [q.key for q in culture.questions] == [
        "overall",
        "discipline",
        "responsibility",
        "dedication",
        "friendliness",
        "reasons",
        "comment",
    ]
    assert [c.text_en for c in culture.questions[1].choices] == [
        "Very satisfied",
        "Satisfied",
        "Neutral",
        "Not satisfied",
        "Very dissatisfied",
    ]
    sipas = build_sipas()
    assert sum(q.is_headline for q in sipas.questions) == 1
    assert len([q for q in sipas.questions if q.kind == "scale" and not q.is_headline]) == 5


def test_a_valid_response_is_stored_with_its_answers(db, city):
    recorded = submit(
        db,
        answers={"overall": "not_satisfied", "reasons": ["waiting_time", "attitude"]},
        comment="Chờ lâu quá",
    )
    db.commit()
    response = db.get(Response, recorded.id)
    assert response.office_id == city.office.id and response.counter_id == city.counter.id
    assert response.headline_polarity == -1 and response.channel == "qr"
    assert (
        db.scalar(select(func.count()).select_from(Answer).where(Answer.response_id == recorded.id))
        == 4
    )


def test_officer_target_attributes_to_the_officer(db, city):
    recorded = submit(
        db, target="OFFICR1", answers={"overall": "very_satisfied", "discipline": "neutral"}
    )
    assert db.get(Response, recorded.id).officer_id == city.officer.id


@pytest.mark.parametrize(
    "answers,field,reason",
    [
        ({"overall": "satisfied", "mood": "x"}, "answers.mood", Reason.UNKNOWN_QUESTION),
        ({"overall": "great"}, "answers.overall", Reason.UNKNOWN_CHOICE),
        ({"overall": ["satisfied"]}, "answers.overall", Reason.NOT_A_CHOICE),
        ({"overall": 3}, "answers.overall", Reason.NOT_A_CHOICE),
        ({"overall": "not_satisfied", "reasons": "attitude"}, "answers.reasons", Reason.NOT_A_LIST),
        (
            {"overall": "not_satisfied", "reasons": ["nope"]},
            "answers.reasons",
            Reason.UNKNOWN_CHOICE,
        ),
        (
            {"overall": "not_satisfied", "reasons": ["attitude", "attitude"]},
            "answers.reasons",
            Reason.REPEATED_CHOICE,
        ),
        ({"overall": "satisfied", "reasons": ["attitude"]}, "answers.reasons", Reason.NOT_ASKED),
        ({"reasons": ["attitude"]}, "answers.overall", Reason.REQUIRED),
        ({}, "answers.overall", Reason.REQUIRED),
        ({"overall": "satisfied", "comment": 5}, "answers.comment", Reason.NOT_TEXT),
        ({"overall": "satisfied", "comment": "x" * 1001}, "answers.comment", Reason.TOO_LONG),
    ],
)
def test_invalid_answers_name_the_field_and_the_reason(db, city, answers, field, reason):
    with pytest.raises(ValidationError) as excinfo:
        submit(db, answers=answers)
    assert fields_of(excinfo)[field] == reason
    assert db.scalar(select(func.count()).select_from(Response)) == 0


def test_comment_of_exactly_the_limit_is_accepted(db, city):
    submit(db, comment="ả" * 1000)


def test_top_level_comment_conflicting_with_the_answer_is_refused(db, city):
    with pytest.raises(ValidationError) as excinfo:
        submit(db, answers={"overall": "satisfied", "comment": "một"}, comment="hai")
    assert "comment" in fields_of(excinfo)


def test_timestamp_in_the_future_is_refused(db, city):
    now = utcnow()
    with pytest.raises(ValidationError) as excinfo:
        submit(db, submitted_at=now + timedelta(minutes=10), now=now)
    assert fields_of(excinfo) == {"submitted_at": Reason.IN_FUTURE}
    # A small clock drift is tolerated.
    submit(db, submitted_at=now + timedelta(minutes=2), now=now)


def test_phone_timestamps_must_be_fresh_but_kiosks_may_replay_a_week(db, city, device_token):
    from surveys.kiosks import device_for_token

    now = utcnow()
    with pytest.raises(ValidationError):
        submit(db, submitted_at=now - timedelta(days=2), now=now)
    device = device_for_token(db, device_token)
    submit(db, submitted_at=now - timedelta(days=6), now=now, device=device)
    with pytest.raises(ValidationError):
        submit(db, submitted_at=now - timedelta(days=8), now=now, device=device)


def test_unknown_and_retired_targets_are_not_found(db, city):
    with pytest.raises(NotFound):
        submit(db, target="NOPE123")
    from surveys.models import Target

    target = db.scalar(select(Target).where(Target.code == "COUNTR1"))
    target.retire(utcnow())
    with pytest.raises(NotFound):
        submit(db, target="COUNTR1")


def test_a_kiosk_posts_only_for_its_own_counter(db, city, device_token):
    from surveys.kiosks import device_for_token

    with pytest.raises(PermissionDenied):
        submit(db, target="COUNTR2", device=device_for_token(db, device_token))


def test_replay_returns_the_stored_response_and_conflict_is_refused(db, city):
    response_id = uuid.uuid4()
    first = submit(db, id=response_id)
    db.commit()
    again = submit(db, id=response_id)
    assert first.is_new and not again.is_new and again.id == response_id
    with pytest.raises(Conflict):
        submit(db, id=response_id, answers={"overall": "very_satisfied"})
