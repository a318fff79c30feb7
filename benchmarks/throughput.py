"""Measure the app under gunicorn against a bare Flask floor, side by side; rewrite the doc.

Three comparisons, each on SQLite (WAL, a temporary file) and on PostgreSQL (a scratch schema on
--database-url, default BENCH_DATABASE_URL or TEST_DATABASE_URL; skipped when none is set):

1. `POST /api/v1/responses` (phone responses, rate limits off) against benchmarks/bare_app.py
   `POST /responses`, one plain INSERT of a response-wide row and a commit. Load: wrk with
   benchmarks/wrk/post.lua (a fresh UUID per request), 16 connections. Goal: app/bare ≥ 0.5.
2. The phone flow, `GET /s/CODE` then POST of its form (CSRF token, hidden response_id, fresh
   cookies per citizen) against the bare `GET /form` (one Jinja page: 3 radios, 8 checkboxes,
   a textarea) then `POST /form` (the same INSERT). Load: wrk with benchmarks/wrk/flow.lua,
   16 connections, one per wrk thread so each keeps its own cookie. Goal: a citizen costs the
   app at most 2× what it costs the bare app.
3. The page alone: `GET /s/CODE` against `GET /form` (benchmarks/wrk/page.lua, no cookie), to
   tell the page's cost from the submission's.

Both servers run at once, gunicorn with 4 sync workers each; each test's runs alternate
A B A B A B (three pairs, after a short warm-up of each) so drift in the machine's load hits
both sides alike, and the range of the ratio over the pairs is reported. The app is set up only
through its interface: environment variables, `flask --app wsgi db upgrade` / `seed-demo` /
`create-token`, and HTTP. Rows stored are counted afterwards and compared with wrk's counts.

    .venv/bin/python -m benchmarks.throughput [--seconds 8] [--database-url URL|none] [--no-docs]

`make bench` runs it (wrk comes from Debian: `apt-get install wrk`); it rewrites the
"## Throughput under gunicorn" section of docs/performance.md and leaves the rest alone.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text

from benchmarks.bare_app import bare_table
from benchmarks.harness import (
    DOC,
    Database,
    Gunicorn,
    app_environment,
    get_json,
    load_average,
    machine,
    office_targets,
    postgres_schema,
    prepare_city,
    sqlite_database,
    write_section,
)

SECTION = "## Throughput under gunicorn"
HERE = Path(__file__).resolve().parent
POST_SCRIPT = HERE / "wrk" / "post.lua"
FLOW_SCRIPT = HERE / "wrk" / "flow.lua"
PAGE_SCRIPT = HERE / "wrk" / "page.lua"
CONNECTIONS = 16
PAIRS = 3
WARMUP_SECONDS = 2


def run_wrk(base: str, script: Path, args: list[str], seconds: float, threads: int) -> dict:
    """Run wrk once; return the JSON line its script's done() prints, plus derived rates."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{CONNECTIONS}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base,
        "--",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    line = next((row for row in done.stdout.splitlines() if row.startswith("{")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = json.loads(line)
    duration = result["duration_us"] / 1e6
    result["rps"] = result["requests"] / duration
    result["errors"] = sum(result[k] for k in ("connect", "read", "write", "status", "timeout"))
    if "posts" in result:
        result["citizens_per_s"] = result["posts"] / duration
    return result


def one_request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    content_type: str = "application/json",
) -> float:
    """Send one request on a new connection (gunicorn's sync workers close it); return seconds."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        start = time.perf_counter()
        connection.request(
            method, path, body=body, headers={"Content-Type": content_type} if body else {}
        )
        reply = connection.getresponse()
        reply.read()
        elapsed = time.perf_counter() - start
    finally:
        connection.close()
    if reply.status >= 400:
        raise RuntimeError(f"{method} {path} answered {reply.status}")
    return elapsed


def sequential(app: Gunicorn, bare: Gunicorn, code: str, choice: str, n: int) -> dict:
    """Median latency of one client alone, app and bare alternating request by request.

    Less sensitive to other load on the machine than throughput, and shows the fixed cost of
    each request: the framework's (healthz vs ping), the page's and the submission's.
    """

    def post(path: str):
        def body() -> bytes:
            return json.dumps(
                {"id": str(uuid.uuid4()), "target": code, "answers": {"overall": choice}}
            ).encode()

        return lambda port: one_request(port, "POST", path, body())

    probes = {
        "healthz": (
            lambda port: one_request(port, "GET", "/healthz"),
            lambda port: one_request(port, "GET", "/ping"),
        ),
        "page": (
            lambda port: one_request(port, "GET", f"/s/{code}"),
            lambda port: one_request(port, "GET", "/form"),
        ),
        "api": (post("/api/v1/responses"), post("/responses")),
    }
    result = {}
    for name, (on_app, on_bare) in probes.items():
        times: dict[str, list[float]] = {"app": [], "bare": []}
        for i in range(n + 20):
            a, b = on_app(app.port), on_bare(bare.port)
            if i >= 20:  # the first ones warm the workers up
                times["app"].append(a)
                times["bare"].append(b)
        result[name] = {side: statistics.median(values) for side, values in times.items()}
    return result


def count_rows(database: Database, table: str) -> int:
    engine = database.engine()
    try:
        with engine.connect() as connection:
            return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    finally:
        engine.dispose()


def first_counter_target(base: str, token: str) -> tuple[str, str]:
    """Return a counter's public code and the key of a positive overall choice of its survey."""
    codes = office_targets(base, token)
    code = codes[1] if len(codes) > 1 else codes[0]
    spec = get_json(base, f"/api/v1/surveys/{code}")
    headline = next(q for q in spec["questions"] if q["headline"])
    positive = [c["key"] for c in headline["choices"] if c["polarity"] == "positive"]
    return spec.get("target", code), positive[-1]


def measure(database: Database, args: argparse.Namespace, seed: int) -> dict:
    """Set up both servers on ``database`` and run the two interleaved comparisons."""
    env = app_environment(database)
    started = time.monotonic()
    token = prepare_city(env, responses=args.responses)
    engine = database.engine()
    try:
        bare_table.create(engine)
    finally:
        engine.dispose()
    logs = Path(tempfile.mkdtemp(prefix="hailong-throughput-"))
    with (
        Gunicorn("wsgi:app", env, log=logs / "app.log") as app,
        Gunicorn("benchmarks.bare_app:create_app()", env, log=logs / "bare.log") as bare,
    ):
        app.wait_ready("/healthz")
        bare.wait_ready("/ping")
        code, choice = first_counter_target(app.base, token)
        setup = time.monotonic() - started
        print(
            f"[{database.name} {database.version}] ready in {setup:.1f} s; target {code}",
            flush=True,
        )
        tests = {
            "api": {
                "script": POST_SCRIPT,
                "threads": 2,
                "app": (app.base, ["{seed}", "/api/v1/responses", code, choice]),
                "bare": (bare.base, ["{seed}", "/responses", code, choice]),
            },
            "flow": {
                "script": FLOW_SCRIPT,
                "threads": CONNECTIONS,
                "app": (app.base, [f"/s/{code}", f"/s/{code}", choice]),
                "bare": (bare.base, ["/form", "/form", choice]),
            },
            "page": {
                "script": PAGE_SCRIPT,
                "threads": 2,
                "app": (app.base, [f"/s/{code}"]),
                "bare": (bare.base, ["/form"]),
            },
        }
        results: dict = {"setup": setup, "logs": logs}
        results["sequential"] = sequential(app, bare, code, choice, args.sequential)
        for name, medians in results["sequential"].items():
            print(
                f"  one client, {name}: app {medians['app'] * 1000:.2f} ms, "
                f"bare {medians['bare'] * 1000:.2f} ms",
                flush=True,
            )
        rows_before = {
            "app": count_rows(database, "response"),
            "bare": count_rows(database, bare_table.name),
        }
        run = 0
        for name, test in tests.items():
            runs: dict[str, list[dict]] = {"app": [], "bare": []}
            plan = [("app", WARMUP_SECONDS, None), ("bare", WARMUP_SECONDS, None)]
            plan += [(side, args.seconds, i) for i in range(PAIRS) for side in ("app", "bare")]
            for side, seconds, pair in plan:
                run += 1
                base, wrk_args = test[side]
                wrk_args = [a.replace("{seed}", str(seed * 100 + run)) for a in wrk_args]
                outcome = run_wrk(base, test["script"], wrk_args, seconds, test["threads"])
                outcome["warmup"] = pair is None
                runs[side].append(outcome)
                rate = outcome.get("citizens_per_s", outcome["rps"])
                unit = "citizens/s" if "citizens_per_s" in outcome else "requests/s"
                print(
                    f"  {name} {side}{' (warm-up)' if pair is None else f' #{pair + 1}'}: "
                    f"{rate:,.0f} {unit}, {outcome['rps']:,.0f} requests/s, "
                    f"p50 {outcome['p50_us'] / 1000:.1f} ms, errors {outcome['errors']}",
                    flush=True,
                )
            results[name] = runs
        rows_after = {
            "app": count_rows(database, "response"),
            "bare": count_rows(database, bare_table.name),
        }
    results["rows"] = {side: rows_after[side] - rows_before[side] for side in rows_after}
    results["server_errors"] = {
        side: (logs / f"{side}.log").read_text(errors="replace").count("Traceback")
        for side in ("app", "bare")
    }
    return results


# --------------------------------------------------------------------------- report


def measured(runs: list[dict]) -> list[dict]:
    return [r for r in runs if not r["warmup"]]


def ratios(result: dict, test: str) -> list[float]:
    """Per pair: app/bare requests/s (api), bare/app requests/s (page), citizens/s (flow)."""
    app, bare = measured(result[test]["app"]), measured(result[test]["bare"])
    if test == "api":
        return [a["rps"] / b["rps"] for a, b in zip(app, bare, strict=True)]
    if test == "page":
        return [b["rps"] / a["rps"] for a, b in zip(app, bare, strict=True)]
    return [b["citizens_per_s"] / a["citizens_per_s"] for a, b in zip(app, bare, strict=True)]


def spread(values: list[float], fmt: str = "{:,.0f}") -> str:
    return " / ".join(fmt.format(v) for v in values)


def ratio_cell(values: list[float]) -> str:
    return f"**{statistics.median(values):.2f}** ({min(values):.2f}–{max(values):.2f})"


def _row(label: str, cells: list[str]) -> str:
    return "| " + " | ".join([label, *cells]) + " |"


def render(
    results: dict[str, dict],
    info: dict[str, str],
    args: argparse.Namespace,
    total: float,
    load_end: str,
    skipped_postgres: bool,
) -> str:
    names = list(results)
    header = _row("", names) + "\n" + "|---" * (len(names) + 1) + "|"
    lines = [
        SECTION,
        "",
        f"Measured by `make bench` (`python -m benchmarks.throughput`) on {info['date']}; the "
        "next run rewrites this section.",
        "",
        f"- Machine: {info['cpu']}, {info['cores']} cores, {info['kernel']}; load average "
        f"{info['load']} at the start, {load_end} at the end. The load generator, both "
        "servers and the database share these cores.",
        f"- Software: {info['versions']}.",
        "- Each backend starts from an empty database migrated with `db upgrade` and seeded "
        f"with `seed-demo --responses {args.responses}` (SQLite: a temporary file, WAL; "
        "PostgreSQL: a scratch schema on the shared server, dropped afterwards). The app and "
        "benchmarks/bare_app.py run at the same time, each under gunicorn with 4 sync workers "
        "(`FLASK_RATELIMIT_ENABLED=false`), against the same database.",
        f"- wrk, {CONNECTIONS} connections, {args.seconds:g} s per run; after a "
        f"{WARMUP_SECONDS} s warm-up of each side, runs alternate app, bare, app, bare, app, "
        "bare; each cell lists the three runs, each ratio its median and (range) over the "
        f"three pairs. Whole run {total:.0f} s.",
        "",
        "### Submitting a response: `POST /api/v1/responses` vs one plain INSERT",
        "",
        'App: a phone response `{"id": uuid4, "target": CODE, "answers": {"overall": '
        "…}}` (benchmarks/wrk/post.lua, a fresh UUID per request, 2 wrk threads). Bare: the "
        "same JSON to a Flask view that parses the id and INSERTs one response-wide row (no "
        "foreign keys, no secondary index, no answer rows) with the same engine settings, then "
        "commits.",
        "",
        header,
    ]

    def cells(test: str, side: str, key: str) -> list[str]:
        return [spread([r[key] for r in measured(results[n][test][side])]) for n in names]

    def latency(test: str, side: str) -> list[str]:
        return [
            spread([r["p50_us"] / 1000 for r in measured(results[n][test][side])], "{:.1f}") + " ms"
            for n in names
        ]

    lines += [
        _row("app, requests/s", cells("api", "app", "rps")),
        _row("bare, requests/s", cells("api", "bare", "rps")),
        _row(
            "**app ÷ bare** (goal ≥ 0.5, ideally 0.8)",
            [ratio_cell(ratios(results[n], "api")) for n in names],
        ),
        _row(
            "goal met",
            [
                "yes" if statistics.median(ratios(results[n], "api")) >= 0.5 else "**no**"
                for n in names
            ],
        ),
        _row("median latency, app", latency("api", "app")),
        _row("median latency, bare", latency("api", "bare")),
        "",
        "### The phone flow: `GET /s/CODE` + POST of its form vs one template + one INSERT",
        "",
        "A citizen is one GET and one POST on a fresh cookie jar (benchmarks/wrk/flow.lua: the "
        "POST carries the page's `csrf_token` and `response_id` and the session cookie, answers "
        "the overall question and a short comment; the 302/303 is not followed). App: the real "
        "survey page (base layout, language switch, CSRF session) and submission. Bare: one "
        "Jinja page with a form of 3 radio buttons, 8 checkboxes and a textarea, and a POST "
        "that INSERTs the same row and redirects.",
        "",
        header,
        _row("app, citizens/s", cells("flow", "app", "citizens_per_s")),
        _row("bare, citizens/s", cells("flow", "bare", "citizens_per_s")),
        _row(
            "**cost of a citizen, app ÷ bare** (goal ≤ 2)",
            [ratio_cell(ratios(results[n], "flow")) for n in names],
        ),
        _row(
            "goal met",
            [
                "yes" if statistics.median(ratios(results[n], "flow")) <= 2 else "**no**"
                for n in names
            ],
        ),
        _row("median latency per request, app", latency("flow", "app")),
        _row("median latency per request, bare", latency("flow", "bare")),
        "",
        "The page alone (`GET /s/CODE` vs `GET /form`, no cookie, benchmarks/wrk/page.lua):",
        "",
        header,
        _row("app, pages/s", cells("page", "app", "rps")),
        _row("bare, pages/s", cells("page", "bare", "rps")),
        _row(
            "**cost of a page, app ÷ bare** (goal ≤ 2)",
            [ratio_cell(ratios(results[n], "page")) for n in names],
        ),
        _row("median latency, app", latency("page", "app")),
        _row("median latency, bare", latency("page", "bare")),
        "",
        "### One client alone (median latency, app and bare alternating)",
        "",
        f"{args.sequential} requests each, on a new connection each as gunicorn's sync workers "
        "require, timed by the client; before the load runs. Less disturbed by other work on the "
        "machine than the throughput above, and it splits the cost: framework (`/healthz`, one "
        "`SELECT 1`, vs `/ping`), page, submission.",
        "",
        header,
    ]

    def one(name: str) -> list[str]:
        out = []
        for n in names:
            medians = results[n]["sequential"][name]
            out.append(
                f"{medians['app'] * 1000:.2f} ms / {medians['bare'] * 1000:.2f} ms "
                f"({medians['app'] / medians['bare']:.1f}×)"
            )
        return out

    lines += [
        _row("`GET /healthz` / bare `GET /ping`", one("healthz")),
        _row("`GET /s/CODE` / bare `GET /form`", one("page")),
        _row("`POST /api/v1/responses` / bare `POST /responses`", one("api")),
        "",
        "### Checks",
        "",
        header,
    ]

    def acknowledged(result: dict, side: str) -> int:
        api = sum(r["requests"] - r["status"] for r in result["api"][side])
        return api + sum(r["posts"] for r in result["flow"][side])

    def errors(result: dict, side: str) -> int:
        return sum(
            r["errors"] + r.get("bad", 0) for t in ("api", "flow", "page") for r in result[t][side]
        )

    lines += [
        _row(
            "rows stored / successes counted by wrk, app",
            [f"{results[n]['rows']['app']:,} / {acknowledged(results[n], 'app'):,}" for n in names],
        ),
        _row(
            "rows stored / successes counted by wrk, bare",
            [
                f"{results[n]['rows']['bare']:,} / {acknowledged(results[n], 'bare'):,}"
                for n in names
            ],
        ),
        _row(
            "errors (socket, timeout, HTTP ≥ 400, unexpected page), app / bare",
            [f"{errors(results[n], 'app')} / {errors(results[n], 'bare')}" for n in names],
        ),
        _row(
            "tracebacks in the server logs, app / bare",
            [
                f"{results[n]['server_errors']['app']} / {results[n]['server_errors']['bare']}"
                for n in names
            ],
        ),
        "",
        "Rows stored can exceed wrk's count by the requests still in flight when a run's clock "
        "stopped (wrk does not count them).",
    ]
    if skipped_postgres:
        lines += [
            "",
            "PostgreSQL was not measured: set `BENCH_DATABASE_URL` (or "
            "`TEST_DATABASE_URL`, or `--database-url`) to include it.",
        ]
    return "\n".join(lines).rstrip() + "\n"


def wrk_version() -> str:
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    first = (done.stdout or done.stderr).strip().splitlines()
    return first[0].split()[1] if first and len(first[0].split()) > 1 else "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument(
        "--sequential",
        type=int,
        default=200,
        help="requests per probe of the one-client latency table",
    )
    parser.add_argument(
        "--responses", type=int, default=10_000, help="synthetic responses seeded before measuring"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("TEST_DATABASE_URL")
        or "none",
        help="PostgreSQL server for a scratch schema, or 'none'",
    )
    parser.add_argument("--no-docs", action="store_true", help="print, do not write the doc")
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 600 or not 0 <= args.responses <= 1_000_000:
        parser.error("--seconds 1..600, --responses 0..1000000")
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (Debian: apt-get install wrk; `make wrk` does it)")

    started = time.perf_counter()
    info = machine()
    versions = {"wrk": wrk_version()}
    results: dict[str, dict] = {}
    with sqlite_database() as database:
        results["SQLite"] = measure(database, args, seed=1)
        versions["SQLite"] = database.version
    pg = args.database_url not in ("", "none")
    if pg:
        with postgres_schema(args.database_url, "throughput") as database:
            results["PostgreSQL"] = measure(database, args, seed=2)
            versions["PostgreSQL"] = database.version
    info["versions"] += ", " + ", ".join(f"{k} {v}" for k, v in versions.items())
    total = time.perf_counter() - started
    section = render(results, info, args, total, load_average(), skipped_postgres=not pg)
    print(section)
    if not args.no_docs:
        write_section(DOC, SECTION, section)
        print(f"wrote {DOC.relative_to(DOC.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
