"""Writing the rollups (surveys/models/rollup.py): with each counted response, when held
ratings are accepted, and anew from the responses (``rebuild_rollups``).

A response adds to the rollups in the transaction that stores it, and only when it is stored:
a replay stores nothing (the insert of its id does nothing) and so adds nothing, and a held
rating adds only once an administrator accepts it. The rollups are therefore never stale and
never count a response twice. Each write is one upsert statement (``n = n + excluded.n``) whose
rows are sorted by key, so two transactions lock shared rows in the same order and never
deadlock.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import and_, delete, func, select, text
from sqlalchemy.orm import Session

from surveys.figures import ANSWERED
from surveys.models import Answer, Office, Question, Response, Rollup
from surveys.models.rollup import (
    ANSWER_DAY,
    COUNTER_DAY,
    OFFICE_DAY,
    OFFICE_HOUR,
    OFFICER_ANSWER_DAY,
    OFFICER_DAY,
)
from surveys.periods import FIRST_DAY, LAST_DAY, DateRange, to_local

#: grain, office, local day, hour, counter, officer, channel, question, choice
Key = tuple[int, int, date, int, int, int, str, int, int]
KEY_COLUMNS = (
    "grain",
    "office_id",
    "local_day",
    "hour",
    "counter_id",
    "officer_id",
    "channel",
    "question_id",
    "choice_id",
)


@dataclass(frozen=True)
class Counted:
    """What one counted response adds to the rollups."""

    office_id: int
    counter_id: int | None
    officer_id: int | None
    channel: str
    #: When it was answered, in the office's time zone.
    local_time: datetime
    #: Of the headline answer: 1 positive, 0 neutral, -1 negative.
    polarity: int
    #: (question id, choice id), with ``ANSWERED`` once for each several-choice or free-text
    #: question answered.
    answers: tuple[tuple[int, int], ...]


class Tally:
    """Rollup increments gathered in memory, written by ``write``."""

    def __init__(self) -> None:
        self.rows: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0])
        self.responses = 0

    def add(self, counted: Counted) -> None:
        day, hour = counted.local_time.date(), counted.local_time.hour
        office = counted.office_id
        positive, negative = int(counted.polarity > 0), int(counted.polarity < 0)
        keys = [
            (OFFICE_DAY, office, day, 0, 0, 0, counted.channel, 0, 0),
            (OFFICE_HOUR, office, day, hour, 0, 0, "", 0, 0),
        ]
        if counted.counter_id:
            keys.append((COUNTER_DAY, office, day, 0, counted.counter_id, 0, "", 0, 0))
        if counted.officer_id:
            keys.append((OFFICER_DAY, office, day, 0, 0, counted.officer_id, "", 0, 0))
        for key in keys:
            row = self.rows[key]
            row[0] += 1
            row[1] += positive
            row[2] += negative
        for question_id, choice_id in counted.answers:
            self.rows[(ANSWER_DAY, office, day, 0, 0, 0, "", question_id, choice_id)][0] += 1
            if counted.officer_id:
                key = (OFFICER_ANSWER_DAY, office, day, 0, 0, counted.officer_id, "", question_id)
                self.rows[(*key, choice_id)][0] += 1
        self.responses += 1

    def __len__(self) -> int:
        return len(self.rows)

    def write(self, session: Session) -> None:
        """Add the gathered increments to the rollups (one statement) and start afresh."""
        if self.rows:
            connection = session.connection()
            dialect = connection.dialect.name
            # Straight to the driver: this runs on every submission and with every seeded
            # batch, where SQLAlchemy's per-row parameter processing costs more than the upsert.
            day = date.isoformat if dialect == "sqlite" else _same
            rows = [
                (g, o, day(d), h, c, f, ch, q, x, n, p, m)
                for (g, o, d, h, c, f, ch, q, x), (n, p, m) in sorted(self.rows.items())
            ]
            if dialect == "postgresql":
                # One statement for the rows (of a submission: about eight), not one each: a
                # submission pays one round trip and one statement for its rollups.
                for start in range(0, len(rows), _ROWS_PER_STATEMENT):
                    chunk = rows[start : start + _ROWS_PER_STATEMENT]
                    connection.exec_driver_sql(
                        _upsert_sql(dialect, len(chunk)),
                        tuple(value for row in chunk for value in row),
                    )
            else:
                connection.exec_driver_sql(_upsert_sql(dialect, 1), rows)
        self.rows.clear()
        self.responses = 0


def _same(value):
    return value


#: Rows of one multi-row upsert on PostgreSQL (12 parameters each, well under its 65,535).
_ROWS_PER_STATEMENT = 500


@lru_cache(maxsize=64)
def _upsert_sql(dialect: str, rows: int) -> str:
    """INSERT INTO rollup ... VALUES (...) × rows ON CONFLICT (key) DO UPDATE SET
    n = n + excluded.n, ...: the same text on both engines but for the parameter marks. The
    keys of one statement are distinct (a Tally's), as PostgreSQL requires."""
    if dialect not in ("sqlite", "postgresql"):  # pragma: no cover - the two supported engines
        raise NotImplementedError(f"No upsert for {dialect}")
    mark = "?" if dialect == "sqlite" else "%s"
    columns = (*KEY_COLUMNS, "n", "positives", "negatives")
    row = f"({', '.join([mark] * len(columns))})"
    return (
        f"INSERT INTO rollup ({', '.join(columns)}) "
        f"VALUES {', '.join([row] * rows)} "
        f"ON CONFLICT ({', '.join(KEY_COLUMNS)}) DO UPDATE SET "
        "n = rollup.n + excluded.n, "
        "positives = rollup.positives + excluded.positives, "
        "negatives = rollup.negatives + excluded.negatives"
    )


def add_response(session: Session, counted: Counted) -> None:
    """Add one newly stored, counted response to the rollups; flush, never commit."""
    tally = Tally()
    tally.add(counted)
    tally.write(session)


def add_later_answers(
    session: Session, response_id: uuid.UUID, answers: tuple[tuple[int, int], ...]
) -> None:
    """Add answers given after a response was stored (the phone's optional second step) to the
    rollups of that response's day; its response counts do not change. Nothing for a held
    rating: its answers are counted, all of them, when it is accepted. Flush, never commit."""
    row = session.execute(
        select(Response.office_id, Response.officer_id, Response.submitted_at, Office.timezone)
        .join(Office, Office.id == Response.office_id)
        .where(Response.id == response_id, Response.is_counted)
    ).one_or_none()
    if row is None or not answers:
        return
    office_id, officer_id, submitted_at, zone = row
    day = to_local(submitted_at, zone).date()
    tally = Tally()
    for question_id, choice_id in answers:
        tally.rows[(ANSWER_DAY, office_id, day, 0, 0, 0, "", question_id, choice_id)][0] += 1
        if officer_id:
            key = (OFFICER_ANSWER_DAY, office_id, day, 0, 0, officer_id, "", question_id)
            tally.rows[(*key, choice_id)][0] += 1
    tally.write(session)


# --------------------------------------------------------------------------- from stored rows


_RESPONSE_COLUMNS = (
    Response.id,
    Response.office_id,
    Response.counter_id,
    Response.officer_id,
    Response.channel,
    Response.submitted_at,
    Response.headline_polarity,
)


def _tally_rows(session: Session, rows: list, zones: dict[int, str], tally: Tally) -> None:
    """Add stored responses (rows of ``_RESPONSE_COLUMNS``) and their answers to ``tally``."""
    if not rows:
        return
    answers: dict[uuid.UUID, list[tuple[int, int]]] = defaultdict(list)
    for response_id, question_id, choice_id, kind in session.execute(
        select(Answer.response_id, Answer.question_id, Answer.choice_id, Question.kind)
        .join(Question, Question.id == Answer.question_id)
        .where(Answer.response_id.in_([row[0] for row in rows]))
    ):
        given = answers[response_id]
        if choice_id is None:
            given.append((question_id, ANSWERED))
            continue
        given.append((question_id, choice_id))
        if kind == "multi" and (question_id, ANSWERED) not in given:
            given.append((question_id, ANSWERED))
    for id_, office_id, counter_id, officer_id, channel, submitted_at, polarity in rows:
        tally.add(
            Counted(
                office_id,
                counter_id,
                officer_id,
                channel,
                to_local(submitted_at, zones[office_id]),
                polarity,
                tuple(answers.get(id_, ())),
            )
        )


def _zones(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Office.id, Office.timezone)).all())


def add_stored_responses(session: Session, response_ids: Iterable[uuid.UUID]) -> int:
    """Add responses already stored (held ratings just accepted) to the rollups; flush only."""
    ids = list(response_ids)
    tally, zones = Tally(), _zones(session)
    for start in range(0, len(ids), 2000):
        rows = session.execute(
            select(*_RESPONSE_COLUMNS).where(
                Response.id.in_(ids[start : start + 2000]), Response.is_counted
            )
        ).all()
        _tally_rows(session, rows, zones, tally)
    counted = tally.responses
    tally.write(session)
    return counted


def _batches(
    session: Session, office_id: int, start: datetime, end: datetime, size: int
) -> Iterator[list]:
    """Yield the office's counted responses in [start, end), oldest first, ``size`` at a time."""
    last = None
    while True:
        query = (
            select(*_RESPONSE_COLUMNS)
            .where(
                Response.office_id == office_id,
                Response.submitted_at >= start,
                Response.submitted_at < end,
                Response.is_counted,
            )
            .order_by(Response.submitted_at, Response.id)
            .limit(size)
        )
        if last is not None:
            query = query.where(
                (Response.submitted_at > last[0])
                | (and_(Response.submitted_at == last[0], Response.id > last[1]))
            )
        rows = session.execute(query).all()
        if not rows:
            return
        yield rows
        last = (rows[-1][5], rows[-1][0])


def rebuild_rollups(
    session: Session,
    *,
    start: date | None = None,
    end: date | None = None,
    batch_size: int = 20_000,
) -> int:
    """Recompute the rollups of the local days [start, end] (all days when not given) from the
    counted responses; return how many responses were counted. Flush, never commit.

    On PostgreSQL the rollup table is locked against writers (readers go on) until the caller
    commits, so a response stored meanwhile waits and is added once, after the recount.
    """
    period = DateRange(start or FIRST_DAY, end or LAST_DAY)
    if session.connection().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE rollup IN SHARE ROW EXCLUSIVE MODE"))
    session.execute(
        delete(Rollup).where(Rollup.local_day >= period.start, Rollup.local_day <= period.end)
    )
    zones = _zones(session)
    if session.connection().dialect.name == "postgresql":
        return sum(
            _rebuild_in_postgresql(session, office_id, zone, period)
            for office_id, zone in sorted(zones.items())
        )
    counted = 0
    tally = Tally()
    for office_id, zone in sorted(zones.items()):
        low, high = period.utc_bounds(zone)
        for rows in _batches(session, office_id, low, high, batch_size):
            _tally_rows(session, rows, zones, tally)
            counted += len(rows)
            if len(tally) >= 50_000:
                tally.write(session)
        tally.write(session)
    return counted


#: The rollups of one office's responses, computed inside PostgreSQL: the same rows as ``Tally``
#: (the recount test compares both with an independent count), without moving the responses
#: through Python: a year of a busy city is recounted in seconds, not minutes.
_REBUILD_SQL = """
WITH counted AS (
    SELECT r.id, r.office_id, COALESCE(r.counter_id, 0) AS counter_id,
           COALESCE(r.officer_id, 0) AS officer_id, r.channel,
           (r.headline_polarity > 0)::int AS positive, (r.headline_polarity < 0)::int AS negative,
           (r.submitted_at AT TIME ZONE 'UTC') AT TIME ZONE :zone AS local_time
    FROM response r
    WHERE r.office_id = :office AND r.is_suspect IS FALSE
      AND r.submitted_at >= :low AND r.submitted_at < :high
), answered AS (
    SELECT c.office_id, c.officer_id, c.local_time::date AS local_day, a.question_id,
           COALESCE(a.choice_id, 0) AS choice_id, q.kind, a.response_id
    FROM counted c JOIN answer a ON a.response_id = c.id JOIN question q ON q.id = a.question_id
), choices AS (
    SELECT office_id, officer_id, local_day, question_id, choice_id, count(*) AS n
    FROM answered WHERE choice_id <> 0 GROUP BY 1, 2, 3, 4, 5
    UNION ALL
    SELECT office_id, officer_id, local_day, question_id, 0, count(DISTINCT response_id)
    FROM answered WHERE kind IN ('multi', 'text') GROUP BY 1, 2, 3, 4
)
INSERT INTO rollup (grain, office_id, local_day, hour, counter_id, officer_id, channel,
                    question_id, choice_id, n, positives, negatives)
SELECT 1, office_id, local_time::date, 0, 0, 0, channel, 0, 0,
       count(*), sum(positive), sum(negative)
FROM counted GROUP BY office_id, local_time::date, channel
UNION ALL
SELECT 2, office_id, local_time::date, extract(hour FROM local_time)::int, 0, 0, '', 0, 0,
       count(*), sum(positive), sum(negative)
FROM counted GROUP BY office_id, local_time::date, extract(hour FROM local_time)::int
UNION ALL
SELECT 3, office_id, local_time::date, 0, counter_id, 0, '', 0, 0,
       count(*), sum(positive), sum(negative)
FROM counted WHERE counter_id <> 0 GROUP BY office_id, local_time::date, counter_id
UNION ALL
SELECT 4, office_id, local_time::date, 0, 0, officer_id, '', 0, 0,
       count(*), sum(positive), sum(negative)
FROM counted WHERE officer_id <> 0 GROUP BY office_id, local_time::date, officer_id
UNION ALL
SELECT 5, office_id, local_day, 0, 0, 0, '', question_id, choice_id, sum(n), 0, 0
FROM choices GROUP BY office_id, local_day, question_id, choice_id
UNION ALL
SELECT 6, office_id, local_day, 0, 0, officer_id, '', question_id, choice_id, n, 0, 0
FROM choices WHERE officer_id <> 0
"""


def _rebuild_in_postgresql(session: Session, office_id: int, zone: str, period: DateRange) -> int:
    """Insert one office's rollups of ``period`` (already deleted); return its responses."""
    low, high = period.utc_bounds(zone)
    params = {"office": office_id, "zone": zone, "low": low, "high": high}
    session.execute(text(_REBUILD_SQL), params)
    return session.scalar(
        select(func.count())
        .select_from(Response)
        .where(
            Response.office_id == office_id,
            Response.is_counted,
            Response.submitted_at >= low,
            Response.submitted_at < high,
        )
    )
