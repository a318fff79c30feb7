"""Rollups equal a recomputation from the responses, whatever happened: random submissions on
every channel's codes, replays, held ratings accepted or kept out, concurrent copies."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter as Tally
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from surveys import accounts
from surveys.db import make_sessionmaker
from surveys.errors import Conflict
from surveys.figures import ANSWERED
from surveys.models import Answer, Question, Response, Rollup
from surveys.models.rollup import ANSWER_DAY, COUNTER_DAY, OFFICE_DAY, OFFICE_HOUR, OFFICER_DAY
from surveys.periods import to_local
from surveys.responses import ResponseInput, submit_response
from surveys.review import held_batches, review_held
from surveys.rollups import rebuild_rollups
from tests.conftest import PASSWORD

TARGETS = ["COUNTR1", "OFFICR1", "OFFICE1", "COUNTR2", "OFFICE2"]
START = datetime(2026, 3, 1, 0, 0)


def rollups(db) -> dict:
    """Return every rollup row as {key: (n, positives, negatives)}, zero rows left out."""
    db.expire_all()
    rows = db.scalars(select(Rollup)).all()
    return {
        (
            r.grain,
            r.office_id,
            r.local_day,
            r.hour,
            r.counter_id,
            r.officer_id,
            r.channel,
            r.question_id,
            r.choice_id,
        ): (r.n, r.positives, r.negatives)
        for r in rows
        if r.n
    }


def random_payload(rng: random.Random, target: str, moment: datetime) -> ResponseInput:
    overall_levels = (
        ["very_satisfied", "satisfied", "neutral", "not_satisfied", "very_dissatisfied"]
        if target == "OFFICR1"
        else ["very_satisfied", "satisfied", "not_satisfied"]
    )
    overall = rng.choice(overall_levels)
    answers: dict = {"overall": overall}
    if overall in ("not_satisfied", "very_dissatisfied") and rng.random() < 0.8:
        answers["reasons"] = rng.sample(
            ["attitude", "waiting_time", "procedure", "facilities", "harassment"], rng.randint(1, 3)
        )
    if target == "OFFICR1" and rng.random() < 0.7:
        answers["friendliness"] = rng.choice(overall_levels)
    comment = "Cảm ơn" if rng.random() < 0.2 else None
    return ResponseInput(
        id=uuid.uuid4(), target_code=target, answers=answers, comment=comment, locale="vi"
    )


def submit(db, payload: ResponseInput, moment: datetime, *, held: bool = False):
    return submit_response(db, payload, now=moment, over_ceiling=lambda _t: held)


def assert_rollups_match_a_recount(db) -> dict:
    """Check the rollups against an independent count, then against ``rebuild_rollups``."""
    before = rollups(db)
    counted = db.execute(
        select(
            Response.id,
            Response.office_id,
            Response.counter_id,
            Response.officer_id,
            Response.channel,
            Response.submitted_at,
            Response.headline_polarity,
        ).where(Response.is_counted)
    ).all()
    # Responses per office, local day and channel, and per hour, counted here from scratch.
    by_day, by_hour, by_counter, by_officer = Tally(), Tally(), Tally(), Tally()
    local_day = {}
    for id_, office_id, counter_id, officer_id, channel, submitted_at, polarity in counted:
        local = to_local(submitted_at, "Asia/Ho_Chi_Minh")
        local_day[id_] = (office_id, local.date(), officer_id)
        by_day[(office_id, local.date(), channel)] += 1
        by_hour[(office_id, local.date(), local.hour, polarity)] += 1
        if counter_id:
            by_counter[(office_id, local.date(), counter_id)] += 1
        if officer_id:
            by_officer[(office_id, local.date(), officer_id, polarity > 0)] += 1
    assert {(k[1], k[2], k[6]): v[0] for k, v in before.items() if k[0] == OFFICE_DAY} == dict(
        by_day
    )
    hours = Tally()
    for k, (n, positives, negatives) in before.items():
        if k[0] == OFFICE_HOUR:
            hours[(k[1], k[2], k[3], 1)] += positives
            hours[(k[1], k[2], k[3], -1)] += negatives
            hours[(k[1], k[2], k[3], 0)] += n - positives - negatives
    assert +hours == +by_hour
    assert {(k[1], k[2], k[4]): v[0] for k, v in before.items() if k[0] == COUNTER_DAY} == dict(
        by_counter
    )
    officers = Tally()
    for k, (n, positives, _m) in before.items():
        if k[0] == OFFICER_DAY:
            officers[(k[1], k[2], k[5], True)] += positives
            officers[(k[1], k[2], k[5], False)] += n - positives
    assert +officers == +by_officer
    # Answers per question and choice, and the responses that answered each several-choice or
    # free-text question.
    answers = Tally()
    kinds = dict(db.execute(select(Question.id, Question.kind)).all())
    answered = set()
    for response_id, question_id, choice_id in db.execute(
        select(Answer.response_id, Answer.question_id, Answer.choice_id)
    ).all():
        if response_id not in local_day:
            continue
        office_id, day, _officer = local_day[response_id]
        if choice_id is not None:
            answers[(office_id, day, question_id, choice_id)] += 1
        if kinds[question_id] in ("multi", "text") and (response_id, question_id) not in answered:
            answered.add((response_id, question_id))
            answers[(office_id, day, question_id, ANSWERED)] += 1
    assert {
        (k[1], k[2], k[7], k[8]): v[0] for k, v in before.items() if k[0] == ANSWER_DAY
    } == dict(answers)
    # And the rebuild, from nothing, gives exactly the same rows.
    rebuild_rollups(db)
    db.commit()
    assert rollups(db) == before
    return before


def test_rollups_equal_a_recount_after_random_submissions_replays_and_reviews(db, city):
    rng = random.Random(20261203)
    admin = accounts.create_user(db, "admin@example.vn", PASSWORD, "admin", scope_code=None)
    db.commit()
    stored: list[tuple[ResponseInput, datetime]] = []
    for i in range(300):
        # Spread over five days and every hour, across local midnight (17:00 UTC).
        moment = START + timedelta(minutes=rng.randrange(5 * 24 * 60), seconds=i)
        payload = random_payload(rng, rng.choice(TARGETS), moment)
        held = rng.random() < 0.1
        submit(db, payload, moment, held=held)
        stored.append((payload, moment))
        if rng.random() < 0.2:
            # A replay of an earlier response: acknowledged, nothing added.
            old_payload, old_moment = rng.choice(stored)
            assert submit(db, old_payload, old_moment).is_new is False
        if i % 50 == 0:
            db.commit()
    db.commit()
    # A replay with another body is refused and adds nothing either.
    payload, moment = stored[0]
    with pytest.raises(Conflict):
        submit(db, ResponseInput(payload.id, "COUNTR1", {"overall": "satisfied"}), moment)
    db.rollback()

    batches = held_batches(db, admin)
    assert batches, "some ratings should be held"
    for index, batch in enumerate(batches):
        review_held(db, admin, batch.target.code, batch.hour, accept=index % 2 == 0, now=START)
    db.commit()
    # Reviewing an accepted batch again finds nothing: it is never added twice.
    assert (
        review_held(db, admin, batches[0].target.code, batches[0].hour, accept=True, now=START) == 0
    )
    db.commit()

    before = assert_rollups_match_a_recount(db)
    assert sum(v[0] for k, v in before.items() if k[0] == OFFICE_DAY) == db.scalar(
        select(func.count()).select_from(Response).where(Response.is_counted)
    )


def test_concurrent_copies_and_submissions_are_counted_once(engine, db, city):
    maker = make_sessionmaker(engine)
    rng = random.Random(7)
    moment = datetime(2026, 3, 2, 3, 0)
    payloads = [random_payload(rng, rng.choice(TARGETS), moment) for _ in range(12)]
    # Each response is sent by three threads at once: one stores it, two see a replay.
    work = [p for p in payloads for _ in range(3)]
    rng.shuffle(work)
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []
    lock = threading.Lock()
    queue = list(work)

    def worker():
        barrier.wait()
        while True:
            with lock:
                if not queue:
                    return
                payload = queue.pop()
            with maker() as session:
                try:
                    submit(session, payload, moment)
                    session.commit()
                except BaseException as error:  # noqa: BLE001 - reported below
                    errors.append(error)
                    session.rollback()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert db.scalar(select(func.count()).select_from(Response)) == 12
    before = assert_rollups_match_a_recount(db)
    assert sum(v[0] for k, v in before.items() if k[0] == OFFICE_DAY) == 12


def test_rebuild_of_some_days_leaves_the_others(db, city, runner):
    rng = random.Random(3)
    for day in range(4):
        moment = START + timedelta(days=day, hours=3)
        for _ in range(5):
            submit(db, random_payload(rng, "COUNTR1", moment), moment)
    db.commit()
    good = rollups(db)
    # Damage two days' rows, as a bug or a hand edit would.
    db.execute(update(Rollup).values(n=Rollup.n + 7))
    db.commit()
    result = runner.invoke(
        args=["rollups", "rebuild", "--from", "2026-03-02", "--to", "2026-03-03"]
    )
    assert result.exit_code == 0, result.output
    assert "from 10 counted responses" in result.output
    repaired = rollups(db)
    for key, value in good.items():
        if key[2] in (START.date() + timedelta(days=1), START.date() + timedelta(days=2)):
            assert repaired[key] == value
        else:
            assert repaired[key] == (value[0] + 7, *value[1:])
    result = runner.invoke(args=["rollups", "rebuild"])
    assert result.exit_code == 0 and "from 20 counted responses" in result.output
    assert rollups(db) == good


def test_rebuild_refuses_a_day_that_is_not_one(runner):
    result = runner.invoke(args=["rollups", "rebuild", "--from", "2026-02-30"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
