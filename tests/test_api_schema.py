"""The API against its own OpenAPI document, fuzzed by Schemathesis with all of its checks.

Schemathesis reads /api/v1/openapi.json from the app served on a local port and, for every
operation, sends requests that fit the schema and requests that do not (examples, coverage and
fuzzing phases), then checks each answer: never a 5xx; only documented statuses, content types
and headers; bodies that match the declared schemas; schema-valid requests accepted and invalid
ones refused; undeclared methods (TRACE...) answered 405 with Allow. Path codes are often real
ones of the test city (tests/schemathesis_hooks.py), so real answers are checked, not only 404s.
Bounded to EXAMPLES per operation to keep the suite fast; it runs on both engines.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import make_app

EXAMPLES = 120
HERE = Path(__file__).resolve().parent


@pytest.fixture()
def served(database_url):
    """The app on a free local port, with the rate limits on as in production."""
    server_apps = []

    def wsgi(environ, start_response):
        return server_apps[0](environ, start_response)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    # Generous limits: Schemathesis is one client sending thousands of requests.
    app = make_app(
        database_url,
        PUBLIC_BASE_URL=base_url,
        RATELIMIT_ENABLED=True,
        PHONE_RATE_LIMIT="100000 per minute",
        PHONE_WINDOW_MINUTES=0,
        KIOSK_RATE_LIMIT="100000 per minute",
        OFFICER_SIGNIN_RATE_LIMIT="100000 per minute",
        DEVICE_FAILURE_RATE_LIMIT="100000 per minute",
    )
    server_apps.append(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["hailong.engine"].dispose()


def test_the_api_keeps_its_documented_promises(served, city, make_token, device_token, tmp_path):
    # A whole-city administrator reaches every operation; access rules are tested elsewhere.
    manager = make_token("admin@example.vn", "admin", None)
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        f"""
[generation]
max-examples = {EXAMPLES}
database = "none"

[[operations]]
include-path-regex = "^/kiosk/"
headers = {{ Authorization = "Bearer {device_token}" }}

[[operations]]
include-path-regex = "^/(offices|tickets|units|counters|officers|audit)"
headers = {{ Authorization = "Bearer {manager}" }}
""",
        encoding="utf-8",
    )
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(config),
            "run",
            f"{served}/api/v1/openapi.json",
            "--checks",
            "all",
            "--workers",
            "1",
            "--phases",
            "examples,coverage,fuzzing",
            "--suppress-health-check",
            "all",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={
            **os.environ,
            "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks",
            "PYTHONPATH": str(HERE.parent),
        },
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
