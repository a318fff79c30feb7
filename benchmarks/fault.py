"""Prove no rating is lost or stored twice while workers die and the database restarts.

Starts gunicorn (4 sync workers) against a fresh scratch schema migrated with `db upgrade` and
seeded with `seed-demo`, then runs concurrent phone clients that POST /api/v1/responses and, on
any failure (connection error, 5xx, timeout), send the SAME id and body again until they get a
201. Meanwhile a fault thread SIGKILLs a gunicorn worker every few seconds (the master respawns
it) and runs ``--restart-command`` to restart PostgreSQL ``--restarts`` times mid-run. At the end
the `response` and `answer` tables are compared with what the clients were told:

- every acknowledged id must be stored (lost = acknowledged - stored must be empty);
- no id is stored twice (it is the primary key) and no response has its answer rows doubled;
- ids stored but never acknowledged are allowed (a worker died after the commit) and reported,
  as are the 201s that came back with `Idempotent-Replayed: true`.

The exit status is 1 when anything was lost or doubled, so CI or `make bench` can fail on it.
The "## Fault test" section of docs/performance.md is rewritten unless --no-docs is given.

Running it. The restart must hit a PostgreSQL cluster of its own, never the shared one on 5432
that other test suites use. `make bench` creates one once (`make fault-cluster`: Debian's
`pg_createcluster 15 fault --port 5433`, trust auth on the Unix socket and 127.0.0.1) and runs

    .venv/bin/python -m benchmarks.fault \\
        --database-url postgresql://postgres@127.0.0.1:5433/postgres \\
        --restart-command 'pg_ctlcluster --skip-systemctl-redirect 15 fault restart'

which are also the defaults, so a developer with that cluster runs just
`.venv/bin/python -m benchmarks.fault`. Other options: --seconds (default 40), --clients (16),
--kill-every (3 s), --restarts (2), --no-docs. `--database-url sqlite` runs the same test on a
temporary SQLite file, with worker kills only (there is no server to restart). The script
refuses to restart a server on port 5432 unless --allow-port-5432 is given.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

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

SECTION = "## Fault test"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5433/postgres"
DEFAULT_RESTART = "pg_ctlcluster --skip-systemctl-redirect 15 fault restart"
#: Seconds after a worker kill, or after a restart finished, in which failures are expected.
FAULT_WINDOW = 3.0
#: Seconds a client keeps retrying its last id after the run ends before it gives up.
GIVE_UP_AFTER = 60.0
REQUEST_TIMEOUT = 10.0


# --------------------------------------------------------------------------- the citizens


@dataclass
class Survey:
    """What a client needs to answer one target's survey: the overall choices and reasons."""

    target: str
    overall: list[tuple[str, str]]  # (choice key, polarity)
    reasons_key: str | None
    reasons: list[str]


def load_surveys(base: str, codes: list[str]) -> list[Survey]:
    """Fetch each target's survey; keep those whose only required question is the headline."""
    surveys = []
    for code in codes:
        spec = get_json(base, f"/api/v1/surveys/{code}")
        questions = spec["questions"]
        headline = next(q for q in questions if q["headline"])
        required = [q for q in questions if q.get("required") and not q["headline"]]
        if required:
            continue
        followup = next((q for q in questions if q["kind"] == "multi" and q.get("show_if")), None)
        surveys.append(
            Survey(
                target=spec.get("target", code),
                overall=[(c["key"], c["polarity"]) for c in headline["choices"]],
                reasons_key=followup["key"] if followup else None,
                reasons=[c["key"] for c in followup["choices"]] if followup else [],
            )
        )
    if not surveys:
        raise RuntimeError("no target whose survey asks only the headline question")
    return surveys


def make_body(rng: random.Random, surveys: list[Survey]) -> dict:
    """Return a phone response: an overall answer, and one to three reasons when negative."""
    survey = rng.choice(surveys)
    choice, polarity = rng.choice(survey.overall)
    answers: dict[str, object] = {"overall": choice}
    if polarity == "negative" and survey.reasons_key and rng.random() < 0.7:
        answers[survey.reasons_key] = rng.sample(survey.reasons, rng.randint(1, 3))
    return {"id": str(uuid.uuid4()), "target": survey.target, "answers": answers, "locale": "vi"}


def answer_rows_expected(body: dict) -> int:
    """One answer row per single answer, one per chosen choice of a multiple-choice answer."""
    return sum(len(v) if isinstance(v, list) else 1 for v in body["answers"].values())


@dataclass
class ClientLog:
    acknowledged: dict[str, dict] = field(default_factory=dict)  # id -> body
    replayed: set[str] = field(default_factory=set)
    unresolved: dict[str, dict] = field(default_factory=dict)  # gave up, or a 4xx
    rejected: list[tuple[str, int, str]] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    failures: list[tuple[float, str]] = field(default_factory=list)  # (monotonic, kind)
    max_attempts: int = 0


def post_once(host: str, port: int, payload: bytes) -> tuple[int | None, str, dict[str, str]]:
    """POST one response; return (status or None, failure kind or '', response headers)."""
    connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request(
            "POST", "/api/v1/responses", body=payload, headers={"Content-Type": "application/json"}
        )
        reply = connection.getresponse()
        body = reply.read()
        headers = {k.lower(): v for k, v in reply.getheaders()}
        return reply.status, body.decode("utf-8", "replace")[:300], headers
    except TimeoutError:
        return None, "timeout", {}
    except ConnectionRefusedError:
        return None, "connection refused", {}
    except (ConnectionResetError, BrokenPipeError):
        return None, "connection reset", {}
    except http.client.RemoteDisconnected:
        return None, "closed without a response", {}
    except (OSError, http.client.HTTPException) as error:
        return None, f"connection error ({type(error).__name__})", {}
    finally:
        connection.close()


def citizen(
    host: str, port: int, surveys: list[Survey], stop_at: float, seed: int, log: ClientLog
) -> None:
    """Post responses until ``stop_at``; retry each id with the same body until it is a 201."""
    rng = random.Random(seed)
    while time.monotonic() < stop_at:
        body = make_body(rng, surveys)
        payload = json.dumps(body).encode()
        give_up_at = max(stop_at, time.monotonic()) + GIVE_UP_AFTER
        attempt = 0
        while True:
            attempt += 1
            log.requests += 1
            if attempt > 1:
                log.retries += 1
            status, detail, headers = post_once(host, port, payload)
            if status == 201:
                log.acknowledged[body["id"]] = body
                if headers.get("idempotent-replayed") == "true":
                    log.replayed.add(body["id"])
                break
            now = time.monotonic()
            if status is None:
                log.failures.append((now, detail))
            elif status >= 500 or status == 429:
                log.failures.append((now, f"HTTP {status}"))
            else:
                # 400/404/422 are answers, not faults: retrying cannot change them.
                log.rejected.append((body["id"], status, detail))
                log.unresolved[body["id"]] = body
                break
            if now > give_up_at:
                log.unresolved[body["id"]] = body
                break
            time.sleep(min(1.0, 0.05 * 2 ** min(attempt, 5)) * rng.uniform(0.5, 1.5))
        log.max_attempts = max(log.max_attempts, attempt)


# --------------------------------------------------------------------------- the faults


@dataclass
class FaultLog:
    kills: list[float] = field(default_factory=list)
    kill_misses: int = 0
    restarts: list[tuple[float, float, int, str]] = field(default_factory=list)


def inject_faults(
    server: Gunicorn,
    started: float,
    seconds: float,
    kill_every: float,
    restart_command: list[str] | None,
    restarts: int,
    stop: threading.Event,
    log: FaultLog,
) -> None:
    """SIGKILL one worker every ``kill_every`` s; run the restart command at even intervals."""
    rng = random.Random(7)
    restart_at = [started + seconds * (i + 1) / (restarts + 1) for i in range(restarts)]
    next_kill = started + kill_every
    while not stop.is_set() and time.monotonic() < started + seconds:
        now = time.monotonic()
        if restart_command and restart_at and now >= restart_at[0]:
            restart_at.pop(0)
            begin = time.monotonic()
            done = subprocess.run(restart_command, capture_output=True, text=True, timeout=120)
            output = (done.stdout + done.stderr).strip().replace("\n", " ")[:200]
            log.restarts.append((begin, time.monotonic(), done.returncode, output))
            continue
        if now >= next_kill:
            next_kill = now + kill_every
            pids = server.worker_pids()
            if pids:
                try:
                    os.kill(rng.choice(pids), signal.SIGKILL)
                    log.kills.append(now)
                except ProcessLookupError:
                    log.kill_misses += 1
        stop.wait(0.05)


# --------------------------------------------------------------------------- checking


def stored_rows(database: Database) -> tuple[set[str], dict[str, int], int, int]:
    """Return (response ids, answer rows per response, duplicate ids, duplicate answer rows)."""
    engine = database.engine(pool_pre_ping=True)
    try:
        for attempt in range(30):
            try:
                with engine.connect() as connection:
                    ids = [
                        str(uuid.UUID(str(v)))
                        for v in connection.execute(text("SELECT id FROM response")).scalars()
                    ]
                    per_response = {
                        str(uuid.UUID(str(r))): n
                        for r, n in connection.execute(
                            text("SELECT response_id, count(*) FROM answer GROUP BY response_id")
                        )
                    }
                    twice = connection.execute(
                        text(
                            "SELECT count(*) FROM (SELECT response_id, question_id, "
                            "coalesce(choice_id, -1) AS c FROM answer "
                            "GROUP BY response_id, question_id, coalesce(choice_id, -1) "
                            "HAVING count(*) > 1) AS doubled"
                        )
                    ).scalar_one()
                break
            except Exception:
                if attempt == 29:
                    raise
                engine.dispose()
                time.sleep(1)
    finally:
        engine.dispose()
    return set(ids), per_response, len(ids) - len(set(ids)), twice


def server_errors(log_path: Path) -> Counter:
    """Count the app's unhandled errors by cause (the final exception of each traceback)."""
    found: Counter = Counter()
    lines = log_path.read_text(errors="replace").splitlines()
    final = re.compile(r"^([a-zA-Z_][\w.]*(?:Error|Exception)):? ?(.*)$")
    for i, line in enumerate(lines):
        if "WORKER TIMEOUT" in line:
            found["gunicorn WORKER TIMEOUT"] += 1
        if not line.startswith("Unhandled error on"):
            continue
        # The traceback's last line names the exception that reached the error handler.
        for follow in lines[i + 1 : i + 400]:
            match = final.match(follow)
            if match and not follow.startswith(("psycopg.", "sqlalchemy.exc.InvalidatePool")):
                name, message = match.groups()
                reason = message.rsplit("failed: ", 1)[-1].removeprefix("FATAL:").strip()
                reason = re.sub(r"^\([\w.]+\) ", "", reason).split("\n")[0]
                found[f"{name.rsplit('.', 1)[-1]}: {reason[:70]}"] += 1
                break
            if follow.startswith("Unhandled error on"):
                break
    return found


def in_window(t: float, faults: FaultLog) -> bool:
    """Return whether ``t`` falls just after a worker kill or during/just after a restart."""
    if any(k <= t <= k + FAULT_WINDOW for k in faults.kills):
        return True
    return in_restart(t, faults)


def in_restart(t: float, faults: FaultLog) -> bool:
    return any(b <= t <= e + FAULT_WINDOW for b, e, _rc, _out in faults.restarts)


# --------------------------------------------------------------------------- main


def run(args: argparse.Namespace, database: Database, restart: list[str] | None) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="hailong-fault-"))
    env = app_environment(database)
    setup_started = time.monotonic()
    token = prepare_city(env)
    server_log = workdir / "gunicorn.log"
    with Gunicorn("wsgi:app", env, workers=4, log=server_log) as server:
        server.wait_ready()
        surveys = load_surveys(server.base, office_targets(server.base, token))
        setup = time.monotonic() - setup_started
        print(
            f"[{database.name} {database.version}] ready in {setup:.1f} s on {server.base}; "
            f"{len(surveys)} targets; {args.clients} clients for {args.seconds:.0f} s",
            flush=True,
        )
        logs = [ClientLog() for _ in range(args.clients)]
        faults = FaultLog()
        stop = threading.Event()
        started = time.monotonic()
        stop_at = started + args.seconds
        clients = [
            threading.Thread(
                target=citizen,
                args=("127.0.0.1", server.port, surveys, stop_at, 1000 + i, logs[i]),
                daemon=True,
            )
            for i in range(args.clients)
        ]
        # The first second is quiet, so the first responses show the undisturbed path works.
        injector = threading.Thread(
            target=inject_faults,
            args=(
                server,
                started + 1.0,
                args.seconds - 1.0,
                args.kill_every,
                restart,
                args.restarts if restart else 0,
                stop,
                faults,
            ),
            daemon=True,
        )
        for thread in clients:
            thread.start()
        injector.start()
        for thread in clients:
            thread.join(args.seconds + GIVE_UP_AFTER + 2 * REQUEST_TIMEOUT)
        stop.set()
        injector.join(130)
        duration = time.monotonic() - started
        hung = sum(thread.is_alive() for thread in clients)
        healthy_after = True
        try:
            server.wait_ready(seconds=30)
        except RuntimeError:
            healthy_after = False
    stored, answers, duplicate_ids, doubled_answer_rows = stored_rows(database)

    acknowledged: dict[str, dict] = {}
    replayed: set[str] = set()
    unresolved: dict[str, dict] = {}
    failures: list[tuple[float, str]] = []
    rejected: list[tuple[str, int, str]] = []
    for log in logs:
        acknowledged.update(log.acknowledged)
        replayed |= log.replayed
        unresolved.update(log.unresolved)
        failures += log.failures
        rejected += log.rejected
    lost = set(acknowledged) - stored
    stored_not_acked = stored - set(acknowledged)
    wrong_answers = {
        rid: (answers.get(rid, 0), answer_rows_expected(body))
        for rid, body in acknowledged.items()
        if rid in stored and answers.get(rid, 0) != answer_rows_expected(body)
    }
    kinds = Counter(kind for _t, kind in failures)
    outside = Counter(kind for t, kind in failures if not in_window(t, faults))
    restarting = Counter(kind for t, kind in failures if in_restart(t, faults))
    return {
        "database": database,
        "setup": setup,
        "duration": duration,
        "clients": args.clients,
        "seconds": args.seconds,
        "kill_every": args.kill_every,
        "requests": sum(log.requests for log in logs),
        "retries": sum(log.retries for log in logs),
        "max_attempts": max(log.max_attempts for log in logs),
        "acknowledged": len(acknowledged),
        "stored": len(stored),
        "acked_and_stored": len(set(acknowledged) & stored),
        "lost": sorted(lost),
        "stored_not_acked": sorted(stored_not_acked),
        "stored_not_acked_unresolved": len(stored_not_acked & set(unresolved)),
        "replayed": len(replayed),
        "unresolved": len(unresolved),
        "rejected": rejected,
        "duplicate_ids": duplicate_ids,
        "doubled_answer_rows": doubled_answer_rows,
        "wrong_answers": wrong_answers,
        "answer_rows": sum(answers.get(rid, 0) for rid in stored),
        "failures": kinds,
        "failures_outside": outside,
        "failures_restarting": restarting,
        "kills": len(faults.kills),
        "kill_misses": faults.kill_misses,
        "restarts": [(e - b, rc, out) for b, e, rc, out in faults.restarts],
        "server_errors": server_errors(server_log),
        "hung_clients": hung,
        "healthy_after": healthy_after,
        "server_log": server_log,
    }


def passed(result: dict) -> bool:
    return not (
        result["lost"]
        or result["duplicate_ids"]
        or result["doubled_answer_rows"]
        or result["wrong_answers"]
        or result["hung_clients"]
    )


def render(result: dict, info: dict[str, str], restart_text: str) -> str:
    db: Database = result["database"]
    verdict = "**passed**" if passed(result) else "**FAILED**"
    restarts = result["restarts"]
    restart_line = (
        "; ".join(f"{seconds:.1f} s (exit {rc})" for seconds, rc, _out in restarts)
        if restarts
        else "none"
    )
    failures = result["failures"]
    total_failures = sum(failures.values())
    lines = [
        SECTION,
        "",
        f"Measured by `make bench` (`python -m benchmarks.fault`) on {info['date']}; "
        "the next run rewrites this section.",
        "",
        f"- Machine: {info['cpu']}, {info['cores']} cores, {info['kernel']}; "
        f"load average at start {info['load']}.",
        f"- Software: {info['versions']}.",
        f"- {db.name} {db.version}, a scratch "
        + ("schema migrated with `db upgrade`" if db.name == "PostgreSQL" else "file (WAL)")
        + " and seeded with `seed-demo`; gunicorn with 4 sync workers; "
        "`FLASK_RATELIMIT_ENABLED=false`.",
        f"- {result['clients']} client threads posted phone responses to "
        f"`POST /api/v1/responses` for {result['seconds']:.0f} s, each id retried with the same "
        "body (backoff 50 ms doubling to 1 s) until a 201; one worker SIGKILLed every "
        f"{result['kill_every']:g} s after the first quiet second"
        + (
            f"; the database restarted with `{restart_text}`."
            if restarts
            else "; no database restart."
        ),
        "",
        f"Result: {verdict} — every acknowledged rating is stored, exactly once.",
        "",
        "|  |  |",
        "|---|---|",
        f"| duration (setup excluded) | {result['duration']:.1f} s "
        f"(setup {result['setup']:.1f} s) |",
        f"| requests sent | {result['requests']:,} |",
        f"| of which retries | {result['retries']:,} (most attempts for one id: "
        f"{result['max_attempts']}) |",
        f"| ids acknowledged (201) | {result['acknowledged']:,} |",
        f"| rows in `response` | {result['stored']:,} |",
        f"| acknowledged and stored | {result['acked_and_stored']:,} |",
        f"| **acknowledged but not stored (lost)** | {len(result['lost'])} |",
        f"| stored but never acknowledged | {len(result['stored_not_acked'])} |",
        f"| 201s with `Idempotent-Replayed: true` (stored by an earlier attempt) | "
        f"{result['replayed']:,} |",
        f"| **duplicate ids** | {result['duplicate_ids']} |",
        f"| **answer rows doubled** (same response, question, choice) | "
        f"{result['doubled_answer_rows']} |",
        f"| responses whose answer rows differ from the answers sent | "
        f"{len(result['wrong_answers'])} |",
        f"| answer rows stored | {result['answer_rows']:,} |",
        f"| ids given up (no 201 within {GIVE_UP_AFTER:.0f} s after the end) or refused "
        f"with a 4xx | {result['unresolved']} |",
        f"| worker processes SIGKILLed | {result['kills']} |",
        f"| database restarts (time the command took) | {restart_line} |",
        f"| failed attempts | {total_failures:,} |",
    ]
    for kind, n in failures.most_common():
        restarting = result["failures_restarting"].get(kind, 0)
        outside = result["failures_outside"].get(kind, 0)
        where = [f"{restarting:,} during a database restart"] if restarts else []
        where.append(f"{n - restarting - outside:,} after a worker kill")
        if outside:
            where.append(f"**{outside:,} more than {FAULT_WINDOW:g} s after any fault**")
        lines.append(f"| &nbsp;&nbsp;{kind} | {n:,} ({', '.join(where)}) |")
    errors = result["server_errors"]
    lines.append(
        "| unhandled errors in the server log (final exception) | "
        + ("; ".join(f"`{k}` × {n}" for k, n in errors.most_common(6)) or "none")
        + " |"
    )
    lines.append(
        f"| `/healthz` 200 again after the run | {'yes' if result['healthy_after'] else '**no**'} |"
    )
    lines += ["", "### Notes", ""]
    lines += [f"- {note}" for note in notes(result)]
    return "\n".join(lines).rstrip() + "\n"


def notes(result: dict) -> list[str]:
    """Plain statements about what the run showed, beyond the pass/fail counts."""
    found = []
    failures = result["failures"]
    five_hundreds = failures.get("HTTP 500", 0)
    if five_hundreds:
        during = result["failures_restarting"].get("HTTP 500", 0)
        found.append(
            f"{five_hundreds} attempts got a **500** ({during} of them while the database "
            "restarted: connection refused, shutting down, terminated); the interface contract "
            'says "never a 500": a database outage should answer `503` (with `Retry-After`), as '
            '`/healthz` does, so a client can tell "try again" from a bug.'
        )
    if result["lost"]:
        found.append(f"Lost ids (first 5): {', '.join(result['lost'][:5])}.")
    if result["rejected"]:
        sample = "; ".join(
            f"{status} {detail[:80]}" for _id, status, detail in result["rejected"][:3]
        )
        found.append(f"{len(result['rejected'])} attempts were refused with a 4xx: {sample}.")
    if result["wrong_answers"]:
        sample = list(result["wrong_answers"].items())[:3]
        found.append(
            "Answer rows differ from the answers sent (id: stored, expected): "
            + "; ".join(f"{rid}: {got}, {want}" for rid, (got, want) in sample)
            + "."
        )
    outside = sum(result["failures_outside"].values())
    if outside:
        found.append(
            f"{outside} failed attempts came more than {FAULT_WINDOW:g} s after any "
            "kill or restart finished."
        )
    if result["replayed"]:
        found.append(
            f"{result['replayed']} id(s) stored by an attempt whose answer never reached the "
            "client (the worker died after the commit, or the connection dropped); the retry got "
            "`201` with `Idempotent-Replayed: true`, as the contract says."
        )
    if result["stored_not_acked"]:
        found.append(
            f"{len(result['stored_not_acked'])} ids are stored but were never "
            "acknowledged (the client gave up on them)."
        )
    if result["hung_clients"]:
        found.append(f"{result['hung_clients']} client threads were still running at the end.")
    for _seconds, rc, out in result["restarts"]:
        if rc != 0:
            found.append(f"The restart command failed (exit {rc}): {out}")
    if not found:
        found.append("Nothing unusual: every failure came right after a fault and was retried.")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=DEFAULT_URL,
        help=f"server to create a scratch schema on, or 'sqlite' (default {DEFAULT_URL})",
    )
    parser.add_argument(
        "--restart-command",
        default=DEFAULT_RESTART,
        help=f"restarts that server; '' for none (default: {DEFAULT_RESTART})",
    )
    parser.add_argument("--restarts", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--kill-every", type=float, default=3.0)
    parser.add_argument(
        "--allow-port-5432",
        action="store_true",
        help="allow restarting a server on the shared default port",
    )
    parser.add_argument("--no-docs", action="store_true", help="print, do not write the doc")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 256 or not 2 <= args.seconds <= 3600 or args.kill_every <= 0:
        parser.error("--clients 1..256, --seconds 2..3600, --kill-every > 0")

    sqlite = args.database_url in ("sqlite", "") or args.database_url.startswith("sqlite")
    restart = None
    if not sqlite and args.restart_command and args.restarts > 0:
        port = make_url(args.database_url.replace("postgresql://", "postgresql+psycopg://")).port
        if (port or 5432) == 5432 and not args.allow_port_5432:
            parser.error(
                "refusing to restart the server on port 5432 (shared with other test "
                "runs); use a cluster of your own or pass --allow-port-5432"
            )
        restart = shlex.split(args.restart_command)

    info = machine()
    if sqlite:
        with sqlite_database() as database:
            result = run(args, database, None)
    else:
        with postgres_schema(args.database_url, "fault") as database:
            result = run(args, database, restart)
    info["versions"] += f", {result['database'].name} {result['database'].version}"
    section = render(result, info, args.restart_command)
    print(section)
    print(f"load average at the end {load_average()}; server log {result['server_log']}")
    if not args.no_docs:
        write_section(DOC, SECTION, section)
        print(f"wrote {DOC.relative_to(DOC.parent.parent)}")
    return 0 if passed(result) else 1


if __name__ == "__main__":
    sys.exit(main())
