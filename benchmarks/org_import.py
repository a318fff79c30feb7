"""Time the import of a whole city from a spreadsheet through the CLI, as a city's IT runs it.

A generated file of about 3,000 rows (1 city, 10 districts, 100 offices, 900 counters, 1,900
officers) is imported into an empty database with `flask --app wsgi import-org`, then imported
again (nothing to change), on SQLite and, when BENCH_DATABASE_URL or TEST_DATABASE_URL is set,
on PostgreSQL in a scratch schema. The budget (issue 8): 3,000 rows in under 10 s. Rewrites the
"## Importing the organisation" section of docs/performance.md.

    .venv/bin/python -m benchmarks.org_import [--runs 3] [--no-docs]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.harness import (
    DOC,
    app_environment,
    flask_cli,
    load_average,
    machine,
    postgres_schema,
    sqlite_database,
    write_section,
)

HEADING = "## Importing the organisation"
BUDGET_SECONDS = 10.0


def city_file(folder: Path) -> tuple[Path, int]:
    rows = [["type", "code", "name", "parent", "timezone", "address"]]
    rows.append(["unit", "CITY", "Thành phố", "", "", ""])
    for d in range(10):
        rows.append(["unit", f"D{d}", f"Quận {d}", "CITY", "", ""])
    for o in range(100):
        office = f"OF{o:03d}"
        rows.append(
            [
                "office",
                office,
                f"Bộ phận một cửa {o}",
                f"D{o % 10}",
                "Asia/Ho_Chi_Minh",
                f"{o} Phố Huế",
            ]
        )
        for c in range(9):
            rows.append(["counter", f"{office}-Q{c}", f"Quầy số {c + 1}", office, "", ""])
        for k in range(19):
            rows.append(["officer", f"{office}-CB{k:02d}", f"Cán bộ {o}-{k}", office, "", ""])
    path = folder / "city.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path, len(rows) - 1


def timed(env: dict[str, str], path: Path) -> tuple[float, str]:
    started = time.perf_counter()
    output = flask_cli(env, "import-org", str(path))
    return time.perf_counter() - started, output.strip().splitlines()[-1]


def run(database, path: Path, runs: int) -> dict:
    env = app_environment(database)
    flask_cli(env, "db", "upgrade")
    first, first_line = timed(env, path)
    again = [timed(env, path)[0] for _ in range(runs)]
    return {"first": first, "first_line": first_line, "again": again}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args(argv)
    results: dict[str, dict] = {}
    versions: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="hailong-import-") as folder:
        path, rows = city_file(Path(folder))
        with sqlite_database() as database:
            results["SQLite"] = run(database, path, args.runs)
            versions["SQLite"] = database.version
        pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
        if pg:
            with postgres_schema(pg, "import") as database:
                results["PostgreSQL"] = run(database, path, args.runs)
                versions["PostgreSQL"] = database.version
    info = machine(versions)
    lines = [
        HEADING,
        "",
        f"Measured by `make bench` (`python -m benchmarks.org_import`) on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average {load_average()}.",
        "",
        f"- Machine: {info['cpu']}, {info['cores']} cores, {info['kernel']}; {info['versions']}.",
        f"- A generated city of {rows:,} rows (1 city, 10 districts, 100 offices, 900 counters, "
        "1,900 officers) imported with `flask --app wsgi import-org FILE` into an empty, migrated "
        "database, then the same file again (nothing changes). Wall time of the whole command, "
        "Python start-up included. Budget: under 10 s.",
        "",
        "|  | " + " | ".join(results) + " |",
        "|---|" + "---|" * len(results),
        "| first import (creates everything, with survey codes) | "
        + " | ".join(f"{r['first']:.1f} s" for r in results.values())
        + " |",
        f"| the same file again, median of {args.runs} (range) | "
        + " | ".join(
            f"{statistics.median(r['again']):.1f} s ({min(r['again']):.1f}–{max(r['again']):.1f})"
            for r in results.values()
        )
        + " |",
        "| budget met | "
        + " | ".join("yes" if r["first"] < BUDGET_SECONDS else "**no**" for r in results.values())
        + " |",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_docs:
        write_section(DOC, HEADING, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
