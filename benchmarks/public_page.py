"""Measure the public office page (/p/CODE) under gunicorn from a cold start of its figures.

A fresh demo city with N synthetic responses; gunicorn (2 sync workers: this machine's cores)
is started just before the load, so the first request of each worker computes the figures and
the rest are served from the per-process cache (PUBLIC_CACHE_SECONDS). wrk drives 16
connections for the given seconds against one office's page; the first request's time (cold
figures) is measured alone beforehand on a third, fresh server.

    .venv/bin/python -m benchmarks.public_page [--responses 50000] [--seconds 10] [--no-docs]

It rewrites the "## Public office page" section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import time
import urllib.request

from benchmarks.harness import (
    DOC,
    Gunicorn,
    app_environment,
    get_json,
    load_average,
    machine,
    postgres_schema,
    prepare_city,
    sqlite_database,
    write_section,
)

HEADING = "## Public office page"
GOAL_RPS = 200


def first_office(base: str, token: str) -> str:
    offices = get_json(base, "/api/v1/offices", token)
    return offices[0]["code"]


def wrk(url: str, seconds: float) -> dict:
    done = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds:g}s", "--timeout", "10s", "--latency", url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    out = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    return {"rps": rps, "non_2xx": int(bad.group(1)) if bad else 0, "p99": p99.group(1)}


def measure(database, responses: int, seconds: float) -> dict:
    env = app_environment(database)
    token = prepare_city(env, responses)
    with Gunicorn("wsgi:app", env, workers=2) as probe:
        probe.wait_ready()
        code = first_office(probe.base, token)
    with Gunicorn("wsgi:app", env, workers=1) as cold:
        cold.wait_ready()
        started = time.perf_counter()
        with urllib.request.urlopen(f"{cold.base}/p/{code}", timeout=30) as reply:
            size = len(reply.read())
        first_ms = (time.perf_counter() - started) * 1000
    with Gunicorn("wsgi:app", env, workers=2) as app:
        app.wait_ready()
        result = wrk(f"{app.base}/p/{code}", seconds)
    return {
        "database": f"{database.name} {database.version}",
        "first_ms": first_ms,
        "bytes": size,
        **result,
    }


def render(rows: list[dict], info: dict, responses: int, seconds: float) -> str:
    lines = [
        HEADING,
        "",
        f"`GET /p/CODE` of one demo office under gunicorn (2 sync workers), from a cold start of "
        f"the figures: a demo city with {responses:,} synthetic responses, servers started just "
        f"before the load, wrk with 16 connections for {seconds:g} s "
        f"(`python -m benchmarks.public_page`). Goal: at least {GOAL_RPS} requests/s.",
        "",
        "| database | first request (cold figures) | page size | requests/s | p99 | non-2xx |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['database']} | {row['first_ms']:.0f} ms | {row['bytes'] / 1024:.1f} KB | "
            f"{row['rps']:,.0f} | {row['p99']} | {row['non_2xx']} |"
        )
    lines += [
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, load {info['load']} at the start "
        f"(shared with other developers' work), {info['date']}; {info['versions']}.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args(argv)
    info = machine()
    rows = []
    with sqlite_database() as database:
        rows.append(measure(database, args.responses, args.seconds))
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if url:
        with postgres_schema(url, "public") as database:
            rows.append(measure(database, args.responses, args.seconds))
    print(json.dumps(rows, indent=2))
    print(f"load at the end: {load_average()}")
    if not args.no_docs:
        write_section(DOC, HEADING, render(rows, info, args.responses, args.seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
