"""Run the app the way an operator does: scratch databases, the CLI, gunicorn, the doc.

Shared by benchmarks/throughput.py and benchmarks/fault.py. Everything here goes through the
stable interface (environment variables, `flask --app wsgi ...`, HTTP), never the app's internals,
so these benchmarks keep working while the submit path is rewritten.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
ADMIN = "admin@hailong.demo"


# --------------------------------------------------------------------------- databases


def sqlalchemy_url(url: str) -> str:
    """Return ``url`` with the psycopg 3 driver named, as the app itself reads DATABASE_URL."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def with_search_path(url: str, schema: str) -> str:
    """Return ``url`` with libpq options that put ``schema`` first on the search path."""
    parsed = make_url(sqlalchemy_url(url))
    options = parsed.query.get("options", "")
    if isinstance(options, tuple):
        options = " ".join(options)
    options = f"{options} -csearch_path={schema}".strip()
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


@dataclass
class Database:
    """A scratch database the app is pointed at through DATABASE_URL."""

    name: str  # "SQLite" or "PostgreSQL"
    url: str
    version: str

    def engine(self, **kwargs) -> Engine:
        """Return a plain engine on it (no app pragmas needed to count rows)."""
        return create_engine(self.url, **kwargs)


@contextmanager
def sqlite_database() -> Iterator[Database]:
    """Yield an empty SQLite file in a temporary folder (the app turns on WAL itself)."""
    with tempfile.TemporaryDirectory(prefix="hailong-bench-") as folder:
        yield Database("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", sqlite3.sqlite_version)


@contextmanager
def postgres_schema(base_url: str, label: str) -> Iterator[Database]:
    """Yield an empty scratch schema on ``base_url``'s server; drop it (and its rows) afterwards.

    A schema rather than a database, so a role that owns one database is enough, as in run.py.
    """
    schema = f"hailong_{label}_{os.getpid()}"
    admin = create_engine(sqlalchemy_url(base_url), pool_pre_ping=True)
    try:
        with admin.begin() as connection:
            version = connection.execute(text("SHOW server_version")).scalar_one()
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield Database("PostgreSQL", with_search_path(base_url, schema), version.split()[0])
        finally:
            # The server may just have been restarted: retry the clean-up for a little while.
            for attempt in range(20):
                try:
                    with admin.begin() as connection:
                        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                    break
                except Exception:
                    if attempt == 19:
                        raise
                    admin.dispose()
                    time.sleep(0.5)
    finally:
        admin.dispose()


# --------------------------------------------------------------------------- the app's CLI


def app_environment(database: Database, **extra: str) -> dict[str, str]:
    """Return the environment a deployment would set, with every throttle off."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database.url,
        SECRET_KEY=secrets.token_hex(32),
        PUBLIC_BASE_URL="http://127.0.0.1",
        FLASK_RATELIMIT_ENABLED="false",
    )
    env.pop("REDIS_URL", None)
    env.update(extra)
    return env


def flask_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run `flask --app wsgi ARGS...` and return its standard output; raise on failure."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare_city(env: dict[str, str], responses: int = 0) -> str:
    """Migrate, seed the demo city (and ``responses`` synthetic ones); return an admin token."""
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "seed-demo", "--responses", str(responses))
    return flask_cli(env, "create-token", ADMIN).strip().splitlines()[-1].strip()


# --------------------------------------------------------------------------- HTTP


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(base: str, path: str, token: str | None = None, timeout: float = 10) -> object:
    request = urllib.request.Request(base + path)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        return json.loads(reply.read())


def office_targets(base: str, token: str) -> list[str]:
    """Return every public target code (offices and counters) the admin sees, via the API."""
    codes = []
    for office in get_json(base, "/api/v1/offices", token):
        codes.append(office["target"])
        codes.extend(counter["target"] for counter in office.get("counters", []))
    return [code for code in codes if code]


class Gunicorn:
    """A gunicorn master serving ``app`` (module:variable) on a free local port."""

    def __init__(
        self,
        app: str,
        env: dict[str, str],
        workers: int = 4,
        log: Path | None = None,
        timeout: int = 30,
    ):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self._log = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                str(timeout),
                "--graceful-timeout",
                "5",
                app,
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, path: str = "/healthz", seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.base + path, timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn on {self.base} not ready after {seconds:.0f} s")

    def worker_pids(self) -> list[int]:
        """Return the pids of the master's worker processes (its children)."""
        master = self.process.pid
        children = Path(f"/proc/{master}/task/{master}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            pids = []
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    fields = stat.read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == master:
                    pids.append(int(stat.parent.name))
            return pids

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not subprocess.DEVNULL:
            self._log.close()

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# --------------------------------------------------------------------------- reporting


def machine(database_versions: dict[str, str] | None = None) -> dict[str, str]:
    """Describe the machine and software, for the record next to the numbers."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {"Python": platform.python_version()}
    for package in ("flask", "sqlalchemy", "psycopg", "gunicorn", "werkzeug", "jinja2"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    versions.update(database_versions or {})
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "kernel": f"{platform.system()} {platform.release()}",
        "load": "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg()),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
    }


def load_average() -> str:
    return "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())


def write_section(path: Path, heading: str, section: str) -> None:
    """Replace the ``heading`` ("## ...") section of ``path`` with ``section``; keep the rest."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# Performance\n\n" + section, encoding="utf-8")
        return
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
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
