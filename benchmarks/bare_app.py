"""The floor to compare the app with: a tiny Flask app doing one plain INSERT, or one template.

Served by gunicorn exactly like the app (`gunicorn 'benchmarks.bare_app:create_app()'`), pointed
at the same database through DATABASE_URL and the same engine helper (so SQLite gets the same
WAL pragmas, PostgreSQL the same driver and pool). It has no CSRF, session, validation or
answer rows: what the app costs above it is the price of those.

- `POST /responses`: a JSON body with an `id`; one INSERT of a response-wide row, commit, 201.
- `GET /form`: one Jinja page with a form (3 radio buttons, 8 checkboxes, a textarea).
- `POST /form`: the same INSERT from the form fields, then a 303 to `/form/thanks`.
- `GET /ping`: 200, for readiness.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, jsonify, redirect, render_template, request
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
    insert,
)

from surveys.db import make_engine

#: The same columns as `response`, without its foreign keys and secondary indexes.
bare_table = Table(
    "bench_bare_response",
    MetaData(),
    Column("id", Uuid, primary_key=True),
    Column("target_id", Integer, nullable=False),
    Column("survey_id", Integer, nullable=False),
    Column("office_id", Integer, nullable=False),
    Column("counter_id", Integer),
    Column("officer_id", Integer),
    Column("device_id", Integer),
    Column("channel", String(16), nullable=False),
    Column("locale", String(8), nullable=False),
    Column("submitted_at", DateTime, nullable=False),
    Column("received_at", DateTime, nullable=False),
    Column("headline_polarity", SmallInteger, nullable=False),
    Column("is_verified", Boolean, nullable=False),
    Column("body_hash", String(64), nullable=False),
)

OVERALL = [
    ("very_satisfied", "Rất hài lòng"),
    ("satisfied", "Hài lòng"),
    ("not_satisfied", "Không hài lòng"),
]
REASONS = [
    ("attitude", "Thái độ, cách giao tiếp của cán bộ"),
    ("guidance", "Hướng dẫn chưa rõ, phải bổ sung hồ sơ nhiều lần"),
    ("waiting_time", "Thời gian chờ đợi lâu"),
    ("extra_papers", "Yêu cầu giấy tờ ngoài quy định"),
    ("harassment", "Có biểu hiện gây phiền hà, nhũng nhiễu"),
    ("procedure", "Thủ tục hành chính rườm rà"),
    ("facilities", "Cơ sở vật chất"),
    ("other", "Lý do khác"),
]


def _row(response_id: uuid.UUID, overall: str | None) -> dict:
    now = datetime.now(UTC).replace(tzinfo=None)
    return {
        "id": response_id,
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
        "headline_polarity": -1 if overall == "not_satisfied" else 1,
        "is_verified": False,
        "body_hash": "0" * 64,
    }


def create_app() -> Flask:
    app = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"))
    engine = make_engine(
        os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    )
    statement = insert(bare_table)

    def store(row: dict) -> None:
        with engine.begin() as connection:
            connection.execute(statement, row)

    @app.get("/ping")
    def ping():
        return "ok"

    @app.post("/responses")
    def post_response():
        data = request.get_json(silent=True)
        try:
            response_id = uuid.UUID(str(data["id"]))
        except (TypeError, KeyError, ValueError):
            return jsonify(error="bad id"), 400
        store(_row(response_id, (data.get("answers") or {}).get("overall")))
        return jsonify(id=str(response_id)), 201

    @app.get("/form")
    def form():
        return render_template(
            "bare_form.html", response_id=uuid.uuid4(), overall=OVERALL, reasons=REASONS
        )

    @app.post("/form")
    def submit():
        try:
            response_id = uuid.UUID(request.form.get("response_id", ""))
        except ValueError:
            return "bad id", 400
        store(_row(response_id, request.form.get("overall")))
        return redirect("/form/thanks", 303)

    return app
