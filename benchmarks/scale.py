"""The dashboards at scale: 1 M and 10 M responses over two years on PostgreSQL.

    python -m benchmarks.scale --scale 1000000 --scale 10000000     (make bench-scale)

For each scale: a scratch schema migrated to head, the demo city, N responses with their answers
generated inside PostgreSQL (``generate_series``: the demo's offices, codes and surveys, its
weekday and hour pattern, each office's own satisfaction; about 2.8 answers a response), the
rollups rebuilt exactly (``flask rollups rebuild``'s function) and ANALYZE; then the city
overview, an office page and the summary API over 365 days (and the default 30) through the
Flask test client, p50 and p95, the domain functions alone, a few hundred submissions, and the
EXPLAIN ANALYZE plans of the rollup queries. Rewrites the "## Scale" section of
docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

from benchmarks.run import (
    ADMIN,
    CITY_ZONE,
    DOC,
    StatementClock,
    Timings,
    _csrf,
    machine,
    ms,
    normalise_database_url,
    postgres_database,
    repeat,
)
from kiosk import create_app
from surveys import demo, insights, rollups
from surveys.db import make_engine, make_sessionmaker
from surveys.models import Answer, Office, Response, Rollup
from surveys.periods import DateRange

SECTION = "## Scale: the dashboards at 1 M and 10 M responses"
DAYS = 730
PASSWORD = demo.DEMO_PASSWORD
#: Rows inserted per statement while seeding.
CHUNK = 500_000

_TARGETS = """
CREATE TEMP TABLE bench_target AS
SELECT row_number() OVER (ORDER BY t.id) - 1 AS idx, t.id AS target_id, t.survey_id,
       t.office_id, t.counter_id, t.officer_id, t.kind,
       (SELECT count(*) FROM choice c WHERE c.question_id = q.id) AS levels
FROM target t
JOIN question q ON q.survey_id = t.survey_id AND q.is_headline
-- Counters take three times the officers' share, as in the demo.
CROSS JOIN generate_series(1, CASE WHEN t.kind = 'counter' THEN 3 ELSE 1 END)
WHERE t.kind <> 'office'
"""

_RESPONSES = """
INSERT INTO response (id, target_id, survey_id, office_id, counter_id, officer_id, device_id,
    channel, locale, submitted_at, received_at, headline_polarity, is_verified, ticket_id,
    body_hash, is_suspect)
SELECT gen_random_uuid(), t.target_id, t.survey_id, t.office_id, t.counter_id, t.officer_id,
    NULL, CASE WHEN t.kind = 'counter' AND random() < 0.8 THEN 'kiosk' ELSE 'qr' END,
    CASE WHEN random() < 0.03 THEN 'en' ELSE 'vi' END, w.at, w.at + interval '4 seconds',
    CASE WHEN random() < p.rate THEN 1
         WHEN t.levels = 5 AND random() < 0.4 THEN 0 ELSE -1 END,
    false, NULL, md5(g::text), false
FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) g
JOIN bench_target t ON t.idx = (g * 7919) % :targets
JOIN bench_rate p ON p.office_id = t.office_id
CROSS JOIN LATERAL (
    -- g in the expression keeps the subquery correlated: a fresh random time for each row.
    SELECT ((CAST(:today AS date) - 1 - (floor(random() * :days))::int
             + (ARRAY[7,8,8,8,9,9,9,9,10,10,10,11,11,13,14,14,14,15,15,16,16])
               [1 + floor(random() * 21)::int] * interval '1 hour'
             + floor(random() * 3600) * interval '1 second' + g * interval '0 second')
            AT TIME ZONE CAST(:zone AS text)) AT TIME ZONE 'UTC' AS at
) w
WHERE extract(isodow FROM (w.at AT TIME ZONE 'UTC') AT TIME ZONE CAST(:zone AS text)) < 7
"""

_CHOICES = """
CREATE TEMP TABLE bench_choice AS
SELECT q.survey_id, q.id AS question_id, q.kind, q.is_headline, q.show_if IS NOT NULL AS follows,
       c.id AS choice_id, c.position, c.polarity,
       (SELECT count(*) FROM choice x WHERE x.question_id = q.id) AS levels
FROM question q JOIN choice c ON c.question_id = q.id
"""

_HEADLINE_AND_VALUES = """
INSERT INTO answer (response_id, question_id, choice_id, text)
SELECT r.id, c.question_id, c.choice_id, NULL
FROM response r
JOIN bench_choice c ON c.survey_id = r.survey_id AND c.kind = 'scale' AND NOT c.follows
WHERE r.submitted_at >= :low AND r.submitted_at < :high
  AND c.position = CASE
      WHEN r.headline_polarity = 1 THEN get_byte(uuid_send(r.id), 0) % 2
      WHEN r.headline_polarity = 0 THEN 2
      WHEN c.levels = 3 THEN 2
      ELSE 3 + get_byte(uuid_send(r.id), 1) % 2 END
"""

_REASONS = """
INSERT INTO answer (response_id, question_id, choice_id, text)
SELECT r.id, c.question_id, c.choice_id, NULL
FROM response r
JOIN bench_choice c ON c.survey_id = r.survey_id AND c.kind = 'multi'
WHERE r.submitted_at >= :low AND r.submitted_at < :high AND r.headline_polarity = -1
  AND (c.position = get_byte(uuid_send(r.id), 2) % 8
       OR (get_byte(uuid_send(r.id), 3) % 3 = 0 AND c.position = get_byte(uuid_send(r.id), 4) % 8))
"""

_COMMENTS = """
INSERT INTO answer (response_id, question_id, choice_id, text)
SELECT r.id, q.id, NULL,
       CASE WHEN r.headline_polarity = -1 THEN 'Chờ lâu quá, cần thêm quầy vào buổi sáng.'
            ELSE 'Cán bộ hướng dẫn nhiệt tình, cảm ơn.' END
FROM response r JOIN question q ON q.survey_id = r.survey_id AND q.kind = 'text'
WHERE r.submitted_at >= :low AND r.submitted_at < :high
  AND get_byte(uuid_send(r.id), 5) < 20
"""


def seed(session, count: int, *, today, zone: str = CITY_ZONE) -> dict:
    """Insert ``count`` responses over DAYS days and their answers, inside PostgreSQL."""
    timings = {}
    started = time.perf_counter()
    session.execute(text(_TARGETS))
    rates = {code: p for code, *_rest, p in demo.OFFICES}
    session.execute(text("CREATE TEMP TABLE bench_rate (office_id int, rate float)"))
    for office in session.scalars(select(Office)):
        session.execute(
            text("INSERT INTO bench_rate VALUES (:o, :p)"),
            {"o": office.id, "p": rates.get(office.code, 0.85)},
        )
    targets = session.scalar(text("SELECT count(*) FROM bench_target"))
    # A bulk load: the secondary indexes are built once at the end instead of row by row, and
    # foreign keys are not checked (the rows are generated consistent).
    indexes = session.execute(
        text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename IN ('response', 'answer') AND indexname LIKE 'ix_%'"
        )
    ).all()
    for name, _definition in indexes:
        session.execute(text(f'DROP INDEX "{name}"'))
    session.execute(text("SET session_replication_role = replica"))
    # Sundays are dropped by the WHERE clause: ask for a seventh more to land on ``count``.
    wanted = int(count * 7 / 6) + 1
    for first in range(1, wanted + 1, CHUNK):
        session.execute(
            text(_RESPONSES),
            {
                "first": first,
                "last": min(wanted, first + CHUNK - 1),
                "targets": targets,
                "today": today,
                "days": DAYS,
                "zone": zone,
            },
        )
        session.commit()
    timings["responses"] = time.perf_counter() - started
    stored = session.scalar(select(func.count()).select_from(Response))
    started = time.perf_counter()
    session.execute(text(_CHOICES))
    everything = {"low": datetime(2000, 1, 1), "high": datetime(2100, 1, 1)}
    for statement in (_HEADLINE_AND_VALUES, _REASONS, _COMMENTS):
        session.execute(text(statement), everything)
        session.commit()
    timings["answers"] = time.perf_counter() - started
    started = time.perf_counter()
    session.execute(text("SET session_replication_role = origin"))
    for _name, definition in indexes:
        session.execute(text(definition))
    session.commit()
    timings["indexes"] = time.perf_counter() - started
    started = time.perf_counter()
    rollups.rebuild_rollups(session)
    session.commit()
    timings["rollups"] = time.perf_counter() - started
    started = time.perf_counter()
    session.execute(text("ANALYZE"))
    session.commit()
    timings["analyze"] = time.perf_counter() - started
    timings["stored"] = stored
    timings["answers_stored"] = session.scalar(select(func.count()).select_from(Answer))
    timings["rollup_rows"] = session.scalar(select(func.count()).select_from(Rollup))
    return timings


def _busiest(session) -> Office:
    office_id = session.scalar(
        select(Rollup.office_id)
        .where(Rollup.grain == 1)
        .group_by(Rollup.office_id)
        .order_by(func.sum(Rollup.n).desc())
        .limit(1)
    )
    return session.get(Office, office_id)


def measure(url: str, runs: int) -> dict:
    """Time the pages and the API over 365 and 30 days, and a few hundred submissions."""
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    today = datetime.now(UTC).astimezone(ZoneInfo(CITY_ZONE)).date()
    year = DateRange(today - timedelta(days=364), today)
    month = DateRange(today - timedelta(days=29), today)
    result: dict = {}
    with maker() as session:
        office = _busiest(session)
        result["office"] = office.code
        offices = session.scalars(select(Office).order_by(Office.name)).all()
        result["offices"] = len(offices)
        result["office_n"] = insights.office_insight(
            session, office, year, min_n=10, min_officer_n=30
        ).responses
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False, "TESTING": True}
    )
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"csrf_token": _csrf(page), "email": ADMIN, "password": PASSWORD})
    for name, period in (("365", year), ("30", month)):
        query = f"from={period.start}&to={period.end}"
        for label, path in (
            ("overview", f"/dashboard?{query}"),
            ("office", f"/dashboard/offices/{office.code}?{query}"),
            ("api", f"/api/v1/offices/{office.code}/summary?{query}"),
            ("rankings", f"/api/v1/rankings?{query}"),
        ):
            for _ in range(3):  # warm the caches
                assert client.get(path).status_code == 200, path
            result[f"{label}_{name}"] = repeat(runs, lambda _i, p=path: _check(client.get(p), p))

        def domain_office(_i, period=period):
            with maker() as session:
                insights.office_insight(
                    session, session.get(Office, office.id), period, min_n=10, min_officer_n=30
                )

        def domain_overview(_i, period=period):
            with maker() as session:
                found = session.scalars(select(Office).order_by(Office.name)).all()
                insights.overview(session, list(found), period, min_n=10)

        result[f"domain_office_{name}"] = repeat(runs, domain_office)
        result[f"domain_overview_{name}"] = repeat(runs, domain_overview)

    with maker() as session:
        code = session.scalar(
            text("SELECT code FROM target WHERE kind = 'counter' ORDER BY id LIMIT 1")
        )

    def submit(_i):
        answer = client.post(
            "/api/v1/responses",
            json={"id": str(uuid.uuid4()), "target": code, "answers": {"overall": "satisfied"}},
        )
        assert answer.status_code == 201, answer.get_data(as_text=True)

    repeat(20, submit)
    result["post"] = repeat(300, submit)
    result["plans"] = plans(engine, maker, office.id, year)
    app.extensions["hailong.engine"].dispose()
    engine.dispose()
    return result


def _check(answer, path: str) -> None:
    assert answer.status_code == 200, path


def plans(engine, maker, office_id: int, period: DateRange) -> list[dict]:
    """EXPLAIN ANALYZE the rollup queries of the office page and the overview."""
    with StatementClock(engine) as clock:
        clock.recorded = []
        with maker() as session:
            offices = session.scalars(select(Office).order_by(Office.name)).all()
            insights.office_insight(
                session, session.get(Office, office_id), period, min_n=10, min_officer_n=30
            )
            insights.overview(session, list(offices), period, min_n=10)
        recorded = [(s, p) for s, p in clock.recorded if re.search(r"\brollup\b", s)]
    found = []
    with engine.connect() as connection:
        for sql, params in recorded:
            rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).all()
            found.append({"sql": " ".join(sql.split()), "plan": [row[0] for row in rows]})
    return found


def render(results: dict[int, dict], info: dict, total: float) -> str:
    scales = sorted(results)

    def cell(t: Timings) -> str:
        return f"{ms(t.median)} / {ms(t.p95)}"

    def row(label: str, key: str) -> str:
        return "| " + label + " | " + " | ".join(cell(results[s]["m"][key]) for s in scales) + " |"

    head = "|  | " + " | ".join(f"{s:,} responses" for s in scales) + " |"
    line = "|---|" + "---|" * len(scales)
    big, small = scales[-1], scales[0]
    flat = []
    for key in ("overview_365", "office_365", "api_365"):
        ratio = results[big]["m"][key].median / results[small]["m"][key].median
        flat.append(f"`{key}` {ratio:.2f}×")
    budget_met = all(
        results[big]["m"][k].median < 0.100 and results[big]["m"][k].p95 < 0.250
        for k in ("overview_365", "office_365")
    )
    lines = [
        SECTION,
        "",
        f"Measured by `make bench-scale` (`python -m benchmarks.scale`) on {info['date']}; "
        "the next run rewrites this section.",
        "",
        f"- Machine: {info['cpu']}, {info['cores']} cores shared with other work, "
        f"load average at start {info['load']}; PostgreSQL {info['pg']}.",
        f"- Data: the demo city ({results[big]['m']['offices']} offices), responses spread over "
        f"{DAYS} days (two years) with the demo's weekday and hour pattern, generated inside "
        "PostgreSQL; about 2.8 answers a response; rollups rebuilt exactly, then `ANALYZE`.",
        f"- Each cell: p50 / p95 of {info['runs']} requests through the Flask test client (admin "
        "signed in; the whole city in scope), after three warm-up requests. Whole run: "
        f"{total / 60:.0f} min.",
        "",
        "### Seeding and rebuilding",
        "",
        head,
        line,
        "| responses stored | "
        + " | ".join(f"{results[s]['seed']['stored']:,}" for s in scales)
        + " |",
        "| answers stored | "
        + " | ".join(f"{results[s]['seed']['answers_stored']:,}" for s in scales)
        + " |",
        "| rollup rows | "
        + " | ".join(f"{results[s]['seed']['rollup_rows']:,}" for s in scales)
        + " |",
        "| inserting the responses | "
        + " | ".join(f"{results[s]['seed']['responses']:.0f} s" for s in scales)
        + " |",
        "| inserting the answers | "
        + " | ".join(f"{results[s]['seed']['answers']:.0f} s" for s in scales)
        + " |",
        "| building the secondary indexes after the load | "
        + " | ".join(f"{results[s]['seed']['indexes']:.0f} s" for s in scales)
        + " |",
        "| `rollups rebuild` (all days) | "
        + " | ".join(f"{results[s]['seed']['rollups']:.0f} s" for s in scales)
        + " |",
        "",
        f"### Pages and API, busiest office {results[big]['m']['office']} "
        f"({results[big]['m']['office_n']:,} responses in its last 365 days at "
        f"{big:,})",
        "",
        head,
        line,
        row("`GET /dashboard`, 365 days", "overview_365"),
        row("`GET /dashboard/offices/CODE`, 365 days", "office_365"),
        row("`GET /api/v1/offices/CODE/summary`, 365 days", "api_365"),
        row("`GET /api/v1/rankings`, 365 days", "rankings_365"),
        row("`GET /dashboard`, 30 days", "overview_30"),
        row("`GET /dashboard/offices/CODE`, 30 days", "office_30"),
        row("`GET /api/v1/offices/CODE/summary`, 30 days", "api_30"),
        row("`insights.overview` alone, 365 days", "domain_overview_365"),
        row("`insights.office_insight` alone, 365 days", "domain_office_365"),
        row("`POST /api/v1/responses` (300 in a row)", "post"),
        "",
        f"Budget (PostgreSQL, 10 M, 365 days: overview and office page p50 < 100 ms, p95 < "
        f"250 ms): {'met' if budget_met else 'NOT met'}. Flat: at {big:,} against {small:,}, "
        + ", ".join(flat)
        + " (budget: within 1.5×).",
        "",
        f"### Query plans at {big:,} (office page and overview, 365 days)",
        "",
    ]
    for plan in results[big]["m"]["plans"]:
        lines += ["<details>", f"<summary><code>{plan['sql'][:110]}…</code></summary>", "", "```"]
        lines += [plan["sql"], ""] + plan["plan"] + ["```", "", "</details>", ""]
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    """Replace this script's section of ``path``, or add it at the end."""
    content = path.read_text(encoding="utf-8")
    start = content.find(SECTION)
    if start < 0:
        path.write_text(content.rstrip("\n") + "\n\n" + section, encoding="utf-8")
        return
    rest = content[start + len(SECTION) :]
    following = re.search(r"^## ", rest, re.M)
    end = start + len(SECTION) + following.start() if following else len(content)
    tail = content[end:]
    path.write_text(content[:start] + section + ("\n" + tail if tail else ""), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, action="append", help="responses (repeatable)")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args(argv)
    scales = sorted(args.scale or [1_000_000, 10_000_000])
    pg_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not pg_url:
        parser.error("set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL server")
    started = time.perf_counter()
    info = machine()
    info["load"] = "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())
    info["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    info["runs"] = args.runs
    results: dict[int, dict] = {}
    for scale in scales:
        with postgres_database(normalise_database_url(pg_url)) as backend:
            info["pg"] = backend.version
            engine = make_engine(backend.url)
            with make_sessionmaker(engine)() as session:
                demo.seed_city(session, seed=1)
                session.commit()
                today = datetime.now(UTC).astimezone(ZoneInfo(CITY_ZONE)).date()
                seeded = seed(session, scale, today=today)
            engine.dispose()
            print(
                f"[{scale:,}] {seeded['stored']:,} responses in {seeded['responses']:.0f} s, "
                f"{seeded['answers_stored']:,} answers in {seeded['answers']:.0f} s, "
                f"indexes in {seeded['indexes']:.0f} s, "
                f"rollups ({seeded['rollup_rows']:,} rows) in {seeded['rollups']:.0f} s",
                flush=True,
            )
            measured = measure(backend.url, args.runs)
            for key in ("overview_365", "office_365", "api_365", "overview_30", "post"):
                t = measured[key]
                print(f"  {key}: p50 {ms(t.median)} p95 {ms(t.p95)}", flush=True)
            results[scale] = {"seed": seeded, "m": measured}
    section = render(results, info, time.perf_counter() - started)
    if args.no_docs:
        print(section)
    else:
        write_section(DOC, section)
        print(f"wrote {DOC.relative_to(DOC.parents[1])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
