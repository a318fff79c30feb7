"""Measure seeding, submissions and dashboard figures; rewrite docs/performance.md.

Each backend gets a fresh migrated database: SQLite in a temporary file (WAL), and PostgreSQL
when BENCH_DATABASE_URL or TEST_DATABASE_URL is set, in a scratch schema dropped afterwards.
The "## Server benchmarks" section of docs/performance.md is regenerated; the rest is kept.

    .venv/bin/python -m benchmarks.run [--responses N] [--requests N] [--runs N] [--no-docs]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Uuid,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Engine, make_url

from kiosk import create_app
from kiosk.config import normalise_database_url
from kiosk.views.api.schemas import ResponseBody, parse
from surveys import accounts, demo, insights
from surveys.db import make_engine, make_sessionmaker, utcnow
from surveys.models import Answer, Office, Response, Target
from surveys.periods import DateRange
from surveys.responses import ResponseInput, submit_response
from surveys.schema import upgrade

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
SECTION = "## Server benchmarks"
DOC_INTRO = """# Performance

How fast Hài Lòng is against the budgets in the product brief ("Budgets"): a submission costs
about as much as one plain database insert behind Flask, and the dashboard answers in well under
a second. The server numbers below are measured by `make bench` (`python -m benchmarks.run`),
which rewrites its own section and leaves the others alone.

"""
#: Dashboard ranges, in days ending today (inclusive, in the city's time zone).
RANGES = (30, 90)
#: Days the synthetic responses are spread over (the seed-demo default).
SEED_DAYS = 90
CITY_ZONE = "Asia/Ho_Chi_Minh"
ADMIN = "admin@hailong.demo"
WARMUP = 50


# --------------------------------------------------------------------------- measuring helpers


def percentile(values: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass
class Timings:
    """Wall times of repeated runs of one operation, in seconds."""

    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 0.95)

    @property
    def rate(self) -> float:
        """Operations per second over the whole loop (not 1 / median)."""
        return len(self.samples) / sum(self.samples)


def repeat(n: int, operation: Callable[[int], object]) -> Timings:
    """Time ``operation(i)`` for i in range(n), one sample each."""
    timings = Timings()
    for i in range(n):
        start = time.perf_counter()
        operation(i)
        timings.samples.append(time.perf_counter() - start)
    return timings


class StatementClock:
    """Count the SQL statements an engine runs, and the time spent inside the driver."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.statements = 0
        self.seconds = 0.0
        self.recorded: list[tuple[str, object]] | None = None
        self._started: list[float] = []

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self._started.append(time.perf_counter())
        if self.recorded is not None and not executemany:
            self.recorded.append((statement, parameters))

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        self.statements += 1
        if self._started:
            self.seconds += time.perf_counter() - self._started.pop()

    def __enter__(self) -> StatementClock:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


# --------------------------------------------------------------------------- databases


@dataclass
class Backend:
    name: str
    url: str
    version: str
    migrate_seconds: float = 0.0


def _with_search_path(url: str, schema: str) -> str:
    """Return ``url`` with libpq options that put ``schema`` first on the search path."""
    parsed = make_url(url)
    options = parsed.query.get("options", "")
    if isinstance(options, tuple):
        options = " ".join(options)
    options = f"{options} -csearch_path={schema}".strip()
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


@contextmanager
def sqlite_database() -> Iterator[Backend]:
    with tempfile.TemporaryDirectory(prefix="hailong-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        backend = Backend("SQLite", url, sqlite3.sqlite_version)
        start = time.perf_counter()
        upgrade(url)
        backend.migrate_seconds = time.perf_counter() - start
        yield backend


@contextmanager
def postgres_database(base_url: str) -> Iterator[Backend]:
    """Yield a migrated scratch schema; drop it (and everything in it) afterwards."""
    schema = f"hailong_bench_{os.getpid()}"
    admin = make_engine(base_url)
    try:
        with admin.begin() as connection:
            version = connection.execute(text("SHOW server_version")).scalar_one()
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            url = _with_search_path(base_url, schema)
            backend = Backend("PostgreSQL", url, version.split()[0])
            start = time.perf_counter()
            upgrade(url)
            backend.migrate_seconds = time.perf_counter() - start
            yield backend
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()


# --------------------------------------------------------------------------- 1. seeding


def bench_seed(backend: Backend, count: int) -> dict:
    engine = make_engine(backend.url)
    try:
        with StatementClock(engine) as clock, make_sessionmaker(engine)() as session:
            start = time.perf_counter()
            demo.seed_city(session, seed=1)
            city_done = time.perf_counter()
            inserted = demo.seed_responses(session, count, days=SEED_DAYS, now=utcnow(), seed=1)
            session.commit()
            wall = time.perf_counter() - start
        with make_sessionmaker(engine)() as session:
            responses = session.scalar(select(func.count()).select_from(Response))
            answers = session.scalar(select(func.count()).select_from(Answer))
        analyze = None
        if engine.dialect.name == "postgresql":
            # What autovacuum would do soon after a bulk load; without it the planner guesses.
            analyze_start = time.perf_counter()
            with engine.begin() as connection:
                connection.execute(text("ANALYZE"))
            analyze = time.perf_counter() - analyze_start
        return {
            "wall": wall,
            "city": city_done - start,
            "inserted": inserted,
            "rate": inserted / wall,
            "driver": clock.seconds,
            "statements": clock.statements,
            "batches": math.ceil(inserted / 5000),
            "responses": responses,
            "answers": answers,
            "analyze": analyze,
        }
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- 3. dashboard figures


def _periods() -> dict[int, DateRange]:
    today = datetime.now(UTC).astimezone(ZoneInfo(CITY_ZONE)).date()
    return {days: DateRange(today - timedelta(days=days - 1), today) for days in RANGES}


def _busiest_office(session) -> Office:
    office_id = session.scalar(
        select(Response.office_id)
        .group_by(Response.office_id)
        .order_by(func.count().desc())
        .limit(1)
    )
    return session.get(Office, office_id)


def bench_reports(backend: Backend, runs: int) -> dict:
    engine = make_engine(backend.url)
    maker = make_sessionmaker(engine)
    periods = _periods()
    result: dict = {"ranges": {}, "plans": {}}
    try:
        with maker() as session:
            office = _busiest_office(session)
            result["office"] = office.code
            result["offices"] = session.scalar(select(func.count()).select_from(Office))
        for days, period in periods.items():
            figures: dict = {}

            def summary(_i, period=period):
                with maker() as session:
                    found = session.get(Office, office.id)
                    start = time.perf_counter()
                    outcome = insights.office_insight(
                        session, found, period, min_n=10, min_officer_n=30
                    )
                    return time.perf_counter() - start, outcome

            def overview(_i, period=period):
                with maker() as session:
                    offices = session.scalars(select(Office).order_by(Office.name)).all()
                    start = time.perf_counter()
                    outcome = insights.overview(session, list(offices), period, min_n=10)
                    return time.perf_counter() - start, outcome

            for name, operation in (("summary", summary), ("overview", overview)):
                samples = []
                for i in range(runs):
                    seconds, outcome = operation(i)
                    samples.append(seconds)
                figures[name] = Timings(samples)
                if name == "summary":
                    figures["office_n"] = outcome.responses
                else:
                    figures["city_n"] = sum(row.counts.n for row in outcome)
            result["ranges"][days] = figures
        result["plans"] = {
            days: _query_plans(engine, maker, office.id, period) for days, period in periods.items()
        }
    finally:
        engine.dispose()
    return result


def _label(statement: str) -> str:
    """Name a rollup query by the grain it reads (surveys/models/rollup.py)."""
    flat = " ".join(statement.split()).lower()
    if "unit_id" in flat:
        return "ranking: units' pooled rates"
    if "rollup.hour" in flat:
        return "office page: weekday × hour"
    if "rollup.question_id" in flat:
        return "office page: answers per question and choice"
    if "rollup.counter_id" in flat:
        return "office page: per counter"
    if "rollup.officer_id" in flat:
        return "office page: per officer"
    if "rollup.office_id, rollup.channel" in flat:
        return "overview: offices × channel × period"
    return "office page: trend and channels"


def _query_plans(engine: Engine, maker, office_id: int, period: DateRange) -> list[dict]:
    """EXPLAIN each rollup query that the office figures and the overview run."""
    with StatementClock(engine) as clock:
        clock.recorded = []
        with maker() as session:
            offices = session.scalars(select(Office).order_by(Office.name)).all()
            insights.office_insight(
                session, session.get(Office, office_id), period, min_n=10, min_officer_n=30
            )
            insights.overview(session, list(offices), period, min_n=10)
        recorded = [
            (sql, params) for sql, params in clock.recorded if re.search(r"\brollup\b", sql)
        ]
    is_postgres = engine.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if is_postgres else "EXPLAIN QUERY PLAN "
    plans = []
    with engine.connect() as connection:
        for sql, params in recorded[:12]:
            rows = connection.exec_driver_sql(prefix + sql, params).all()
            if is_postgres:
                lines = [row[0] for row in rows]
            else:
                depth: dict[int, int] = {}
                lines = []
                for node, parent, _unused, detail in rows:
                    depth[node] = depth.get(parent, -1) + 1
                    lines.append("  " * depth[node] + detail)
            plans.append({"label": _label(sql), "sql": " ".join(sql.split()), "plan": lines})
    return plans


# --------------------------------------------------------------------------- 2. the web app


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no CSRF token on /login")
    return match.group(1)


def _check(response, status: int, what: str) -> None:
    if response.status_code != status:
        body = response.get_data(as_text=True)[:300]
        raise RuntimeError(f"{what}: HTTP {response.status_code}, expected {status}: {body}")


def bench_http(backend: Backend, requests: int, runs: int) -> dict:
    app = create_app(
        {
            "DATABASE_URL": backend.url,
            "SECRET_KEY": "benchmark-secret-key",
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
            # The demo administrator signs in with a password alone here (no authenticator).
            "MFA_REQUIRED_ROLES": (),
        }
    )
    engine: Engine = app.extensions["hailong.engine"]
    maker = make_sessionmaker(engine)
    result: dict = {"requests": requests}
    try:
        with maker() as session:
            token = accounts.create_api_token(session, ADMIN, now=utcnow())
            session.commit()
            office = _busiest_office(session).code
            codes = session.scalars(
                select(Target.code).where(Target.kind == "counter").order_by(Target.id)
            ).all()
        client = app.test_client()

        # Reads first, so the submissions below do not add to the ranges.
        page = client.get("/login")
        _check(page, 200, "GET /login")
        signed_in = client.post(
            "/login",
            data={
                "csrf_token": _csrf(page.get_data(as_text=True)),
                "email": ADMIN,
                "password": demo.DEMO_PASSWORD,
            },
        )
        _check(signed_in, 302, "POST /login")
        bearer = {"Authorization": f"Bearer {token}"}
        for days, period in _periods().items():
            query = f"from={period.start}&to={period.end}"
            for _ in range(3):
                _check(client.get(f"/dashboard?{query}"), 200, "GET /dashboard")
            result[f"dashboard_{days}"] = repeat(
                runs, lambda _i, q=query: _check(client.get(f"/dashboard?{q}"), 200, "dashboard")
            )
            url = f"/api/v1/offices/{office}/summary?{query}"
            result[f"api_summary_{days}"] = repeat(
                runs, lambda _i, u=url: _check(client.get(u, headers=bearer), 200, "summary")
            )

        for _ in range(WARMUP):
            _check(client.get("/healthz"), 200, "GET /healthz")
        result["healthz"] = repeat(
            requests, lambda _i: _check(client.get("/healthz"), 200, "healthz")
        )

        result["insert"] = _bench_plain_insert(engine, requests)

        def payload(i: int) -> dict:
            return {
                "id": str(uuid.uuid4()),
                "target": codes[i % len(codes)],
                "answers": {"overall": "satisfied"},
            }

        for i in range(WARMUP):
            _check(client.post("/api/v1/responses", json=payload(i)), 201, "warm-up POST")
        bodies = [payload(i) for i in range(requests)]
        with StatementClock(engine) as clock:
            result["post"] = repeat(
                requests,
                lambda i: _check(client.post("/api/v1/responses", json=bodies[i]), 201, "POST"),
            )
        result["post_statements"] = clock.statements / requests
        result["post_driver"] = clock.seconds / requests

        bodies = [payload(i) for i in range(requests)]

        def record(i: int) -> None:
            with maker() as session:
                body = parse(ResponseBody, bodies[i])
                payload = ResponseInput(body.id, body.target_code(), body.answers)
                submit_response(session, payload, now=utcnow())
                session.commit()

        with StatementClock(engine) as clock:
            result["domain"] = repeat(requests, record)
        result["domain_statements"] = clock.statements / requests
    finally:
        engine.dispose()
    return result


def _bench_plain_insert(engine: Engine, n: int) -> Timings:
    """Time one INSERT of a response-wide row, in its own transaction, into a scratch table."""
    scratch = Table(
        "bench_plain_insert",
        MetaData(),
        Column("id", Uuid, primary_key=True),
        Column("target_id", Integer),
        Column("survey_id", Integer),
        Column("office_id", Integer),
        Column("counter_id", Integer),
        Column("officer_id", Integer),
        Column("device_id", Integer),
        Column("channel", String(16)),
        Column("locale", String(8)),
        Column("submitted_at", DateTime),
        Column("received_at", DateTime),
        Column("headline_polarity", SmallInteger),
        Column("is_verified", Boolean),
        Column("body_hash", String(64)),
    )
    scratch.create(engine)
    try:
        statement = insert(scratch)

        def row() -> dict:
            now = utcnow()
            return {
                "id": uuid.uuid4(),
                "target_id": 1,
                "survey_id": 1,
                "office_id": 1,
                "counter_id": 1,
                "officer_id": None,
                "device_id": None,
                "channel": "qr",
                "locale": "vi",
                "submitted_at": now,
                "received_at": now,
                "headline_polarity": 1,
                "is_verified": False,
                "body_hash": "0" * 64,
            }

        def once(_i: int) -> None:
            with engine.begin() as connection:
                connection.execute(statement, row())

        for i in range(WARMUP):
            once(i)
        return repeat(n, once)
    finally:
        scratch.drop(engine)


# --------------------------------------------------------------------------- the report


def machine() -> dict:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) / 1024 / 1024
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = {}
    for package in ("flask", "sqlalchemy", "psycopg", "werkzeug"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "cpu": cpu,
        "cores": cores,
        "ram": ram,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "versions": versions,
    }


def ms(seconds: float) -> str:
    value = seconds * 1000
    if value < 10:
        return f"{value:.2f} ms"
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def _row(label: str, cells: list[str]) -> str:
    return "| " + " | ".join([label, *cells]) + " |"


def render(
    results: dict[str, dict], info: dict, args, total: float, peak_mb: float, skipped_postgres: bool
) -> str:
    names = list(results)
    header = _row("", names) + "\n" + "|---" * (len(names) + 1) + "|"
    lines = [
        SECTION,
        "",
        f"Measured by `make bench` on {info['date']}; the next run rewrites this section.",
        "",
        f"- Machine: {info['cpu']}, {info['cores']} cores, "
        + (f"{info['ram']:.1f} GiB RAM" if info["ram"] else "RAM unknown")
        + f", {info['os']}; load average at start {info['load']}.",
        f"- Software: Python {info['python']}, "
        + ", ".join(f"{k} {v}" for k, v in info["versions"].items())
        + ", "
        + ", ".join(f"{name} {results[name]['backend'].version}" for name in names)
        + ".",
        "- Each backend starts from an empty database migrated to head (SQLite: a temporary file "
        "in WAL mode with the app's pragmas; PostgreSQL: a scratch schema on the same server, "
        "dropped afterwards, `ANALYZE` run after seeding as autovacuum would).",
        f"- Whole run: {total:.0f} s; peak RSS of the benchmark process "
        f"(`getrusage`, both backends in one process): {peak_mb:.0f} MB.",
    ]
    if skipped_postgres:
        lines.append(
            "- PostgreSQL was not measured: set `BENCH_DATABASE_URL` (or `TEST_DATABASE_URL`) to "
            "include it."
        )
    lines += [
        "",
        f"### Seeding the demo city and {args.responses:,} responses (budget: under a minute)",
        "",
        "`surveys.demo.seed_city` then `surveys.demo.seed_responses(..., days=90)` and one commit.",
        "",
        header,
    ]
    seed = {name: results[name]["seed"] for name in names}
    lines += [
        _row("Wall time", [f"{seed[n]['wall']:.1f} s" for n in names]),
        _row("Responses per second", [f"{seed[n]['rate']:,.0f}" for n in names]),
        _row(
            "of which the city (users' password hashes)",
            [f"{seed[n]['city']:.2f} s" for n in names],
        ),
        _row(
            "of which inside the database driver",
            [f"{seed[n]['driver']:.1f} s ({seed[n]['statements']:,} statements)" for n in names],
        ),
        _row(
            "Rows stored (responses / answers)",
            [f"{seed[n]['responses']:,} / {seed[n]['answers']:,}" for n in names],
        ),
        _row(
            "Migration of the empty database",
            [f"{results[n]['backend'].migrate_seconds:.2f} s" for n in names],
        ),
        _row("Budget met", ["yes" if seed[n]["wall"] < 60 else "**no**" for n in names]),
        "",
        f"### Submitting a response ({args.requests:,} sequential requests each)",
        "",
        "Flask test client (no network, no WSGI server), `RATELIMIT_ENABLED=False`, into the "
        f"database holding the {args.responses:,} seeded responses. Each cell: median / p95 per "
        "operation, and operations per second over the loop.",
        "",
        header,
    ]
    http = {name: results[name]["http"] for name in names}

    def cell(t: Timings) -> str:
        return f"{ms(t.median)} / {ms(t.p95)}, {t.rate:,.0f}/s"

    lines += [
        _row("`POST /api/v1/responses` (201)", [cell(http[n]["post"]) for n in names]),
        _row("`submit_response` + commit, no Flask", [cell(http[n]["domain"]) for n in names]),
        _row("`GET /healthz` (Flask + `SELECT 1`)", [cell(http[n]["healthz"]) for n in names]),
        _row(
            "plain `INSERT` of a response-wide row + commit",
            [cell(http[n]["insert"]) for n in names],
        ),
        _row(
            "SQL statements per POST (per `submit_response`)",
            [
                f"{http[n]['post_statements']:.1f} ({http[n]['domain_statements']:.1f})"
                for n in names
            ],
        ),
        _row(
            "time executing statements per POST (mean, commit excluded)",
            [ms(http[n]["post_driver"]) for n in names],
        ),
        _row(
            "POST median ÷ plain INSERT median",
            [f"{http[n]['post'].median / http[n]['insert'].median:.1f}×" for n in names],
        ),
        _row(
            "POST median − healthz median (the submission's own work)",
            [ms(http[n]["post"].median - http[n]["healthz"].median) for n in names],
        ),
        "",
        f"### Dashboard figures over {args.responses:,} responses (median of {args.runs} runs)",
        "",
        "Domain functions timed alone (a fresh session per run, offices already loaded); the HTTP "
        "rows add the login/token check, the template or JSON, and the framework. Ranges end "
        f"today in {CITY_ZONE}; the responses cover the {SEED_DAYS} days before today.",
        "",
    ]
    range_header = _row("", [f"{n}, {d} days" for n in names for d in RANGES])
    lines += [range_header, "|---" * (len(names) * len(RANGES) + 1) + "|"]

    def across(key: str, fmt: Callable[[object], str], source: str = "reports") -> list[str]:
        out = []
        for n in names:
            for d in RANGES:
                if source == "reports":
                    out.append(fmt(results[n]["reports"]["ranges"][d][key]))
                else:
                    out.append(fmt(results[n]["http"][f"{key}_{d}"]))
        return out

    office = results[names[0]]["reports"]["office"]
    n_offices = results[names[0]]["reports"]["offices"]
    timed = lambda t: f"{ms(t.median)} (max {ms(max(t.samples))})"  # noqa: E731
    lines += [
        _row(f"`office_insight` ({office}, busiest office)", across("summary", timed)),
        _row(f"`overview` (all {n_offices} offices, ranked)", across("overview", timed)),
        _row(
            f"`GET /api/v1/offices/{office}/summary` (bearer token)",
            across("api_summary", timed, "http"),
        ),
        _row("`GET /dashboard` (admin, signed in)", across("dashboard", timed, "http")),
        _row(
            f"responses in range ({office} / city)",
            [
                f"{results[n]['reports']['ranges'][d]['office_n']:,} / "
                f"{results[n]['reports']['ranges'][d]['city_n']:,}"
                for n in names
                for d in RANGES
            ],
        ),
        "",
        "### Flags",
        "",
        "Computed by the script from the figures above and the query plans below.",
        "",
        *[f"- {flag}" for flag in flags(results, names)],
        "",
        "### Query plans",
        "",
        "The statements on `rollup` that `office_insight` and `overview` run, as "
        "captured from the engine; PostgreSQL with `EXPLAIN (ANALYZE, BUFFERS)`, SQLite with "
        "`EXPLAIN QUERY PLAN` (printed once when both ranges give the same plan).",
        "",
    ]
    for name in names:
        plans = results[name]["reports"]["plans"]
        texts = {days: [p["plan"] for p in plans[days]] for days in RANGES}
        same = all(texts[days] == texts[RANGES[0]] for days in RANGES)
        for days in RANGES[:1] if same else RANGES:
            title = f"{name}, " + ("all ranges" if same else f"{days} days")
            lines += ["<details>", f"<summary>{title}</summary>", ""]
            for plan in plans[days]:
                lines += [f"**{plan['label']}**", "", "```", *plan["plan"], "```", ""]
            lines += ["</details>", ""]
    return "\n".join(lines).rstrip() + "\n"


def flags(results: dict[str, dict], names: list[str]) -> list[str]:
    """Return plain statements about things that look slow or unusual."""
    found = []
    for name in names:
        seed, http = results[name]["seed"], results[name]["http"]
        if seed["wall"] >= 60:
            found.append(f"{name}: seeding took {seed['wall']:.0f} s, over the one-minute budget.")
        if seed["statements"] > 4 * seed["batches"] + 1000:
            found.append(
                f"{name}: seeding sent {seed['statements']:,} statements to the driver for "
                f"{seed['inserted']:,} responses, though `seed_responses` inserts in batches of "
                f"5,000 "
                f"(about {2 * seed['batches']} executemany calls); "
                f"{seed['driver']:.1f} s of {seed['wall']:.1f} s were spent in the driver."
            )
        ratio = http["post"].median / http["insert"].median
        found.append(
            f"{name}: a submission's median is {ratio:.1f}× a plain INSERT's; "
            f"{ms(http['post_driver'])} of its {ms(http['post'].median)} is spent executing its "
            f"{http['post_statements']:.0f} statements (commit not included)."
        )
        for days in RANGES:
            figures = results[name]["reports"]["ranges"][days]
            for key in ("summary", "overview"):
                if figures[key].median > 0.5:
                    found.append(f"{name}, {days} days: {key} median {ms(figures[key].median)}.")
            for plan in results[name]["reports"]["plans"][days]:
                for line in plan["plan"]:
                    scan = re.search(
                        r"Seq Scan on (\w+).*?actual time=\S+ rows=(\d+) loops=(\d+)", line
                    )
                    if scan:
                        rows = int(scan.group(2)) * int(scan.group(3))
                        found.append(
                            f"{name}, {days} days, {plan['label']}: sequential scan of "
                            f"`{scan.group(1)}` ({rows:,} rows out of it)."
                        )
                    elif line.strip().startswith("SCAN "):
                        found.append(f"{name}, {days} days, {plan['label']}: `{line.strip()}`.")
    return found


def write_section(path: Path, section: str) -> None:
    """Replace the "## Server benchmarks" section of ``path``; keep everything else."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(DOC_INTRO + section, encoding="utf-8")
        return
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == SECTION), None)
    if start is None:
        before = "".join(lines).rstrip("\n")
        path.write_text(before + "\n\n" + section, encoding="utf-8")
        return
    in_code = False
    end = len(lines)
    for i in range(start + 1, len(lines)):
        if lines[i].startswith("```"):
            in_code = not in_code
        elif not in_code and lines[i].startswith("## "):
            end = i
            break
    after = "".join(lines[end:])
    path.write_text(
        "".join(lines[:start]) + section + ("\n" + after if after else ""), encoding="utf-8"
    )


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-docs", action="store_true", help="print, do not write the doc")
    args = parser.parse_args(argv)
    for name in ("responses", "requests", "runs"):
        if not 1 <= getattr(args, name) <= 10_000_000:
            parser.error(f"--{name} out of range")

    started = time.perf_counter()
    load = "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())
    pg_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    databases: list[Callable[[], object]] = [sqlite_database]
    if pg_url:
        databases.append(lambda: postgres_database(normalise_database_url(pg_url)))
    results: dict[str, dict] = {}
    for open_database in databases:
        with open_database() as backend:
            print(
                f"[{backend.name} {backend.version}] migrated in {backend.migrate_seconds:.2f} s",
                flush=True,
            )
            entry = {"backend": backend}
            entry["seed"] = bench_seed(backend, args.responses)
            seed = entry["seed"]
            print(
                f"  seeded {seed['inserted']:,} responses in {seed['wall']:.1f} s"
                f" ({seed['rate']:,.0f}/s, {seed['statements']:,} statements)",
                flush=True,
            )
            entry["reports"] = bench_reports(backend, args.runs)
            for days, figures in entry["reports"]["ranges"].items():
                print(
                    f"  {days} days: office_summary {ms(figures['summary'].median)}, "
                    f"offices_overview {ms(figures['overview'].median)}",
                    flush=True,
                )
            entry["http"] = bench_http(backend, args.requests, args.runs)
            h = entry["http"]
            print(
                f"  POST median {ms(h['post'].median)} p95 {ms(h['post'].p95)} "
                f"({h['post'].rate:,.0f}/s); healthz {ms(h['healthz'].median)}; "
                f"plain insert {ms(h['insert'].median)}; submit_response "
                f"{ms(h['domain'].median)}",
                flush=True,
            )
            results[backend.name] = entry

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    info = machine()
    info["load"] = load
    info["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    total = time.perf_counter() - started
    section = render(results, info, args, total, peak_mb, skipped_postgres=not pg_url)
    print(f"peak RSS {peak_mb:.0f} MB; total {total:.0f} s", flush=True)
    if args.no_docs:
        print(section)
    else:
        write_section(DOC, section)
        print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
