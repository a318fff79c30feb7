"""Alembic revisions upgrade a database that already holds data, and downgrade cleanly."""

import os
import secrets
from datetime import datetime, timedelta

import pytest
from sqlalchemy import inspect, text

from surveys.db import make_engine, utcnow
from surveys.schema import downgrade, upgrade


def test_upgrade_with_data_then_downgrade_to_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url, "0001")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO unit (id, code, name, path) VALUES (1, 'U', 'Unit', '/1/')")
        )
        connection.execute(
            text(
                "INSERT INTO office"
                " (id, code, name, address, unit_id, timezone, opens_at, closes_at) "
                "VALUES (1, 'O', 'Office', '', 1, 'Asia/Ho_Chi_Minh', '07:30:00', '17:00:00')"
            )
        )
        connection.execute(
            text("INSERT INTO counter (id, code, name, office_id) VALUES (1, 'C', 'Q1', 1)")
        )
        connection.execute(
            text(
                "INSERT INTO kiosk_device (id, counter_id, name, token_hash, created_at) "
                "VALUES (1, 1, 'tablet', 'h', '2026-01-01 00:00:00')"
            )
        )
    upgrade(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT queue_depth FROM kiosk_device")).scalar() == 0
    assert "ticket" in inspect(engine).get_table_names()
    downgrade(url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_migrations_match_the_models(engine):
    """The migrated test database has exactly the tables, columns and indexes of the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from surveys.db import Base

    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


@pytest.fixture()
def scratch_url(tmp_path):
    """An empty database of the engine under test: SQLite, or a private PostgreSQL schema."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'm6.db'}"
        return
    schema = f"hl_mig_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_0006_keeps_tokens_and_kiosks_working_and_downgrades(scratch_url):
    """Existing API tokens keep what they could do, for 90 days; kiosks' credentials count as
    issued at pairing; and the way back restores session_version."""
    upgrade(scratch_url, "0005")
    engine = make_engine(scratch_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO user_account (id, email, name, password_hash, role, is_active, "
                "created_at, session_version) VALUES (1, 'a@example.vn', '', 'x', 'admin', "
                ":yes, '2026-01-01 00:00:00', 3)"
            ),
            {"yes": True},
        )
        connection.execute(
            text(
                "INSERT INTO api_token (id, user_id, token_hash, label, created_at) "
                "VALUES (1, 1, 'h', 'queue', '2026-01-01 00:00:00')"
            )
        )
    upgrade(scratch_url)
    with engine.connect() as connection:
        scope, expires_at = connection.execute(
            text("SELECT scope, expires_at FROM api_token")
        ).one()
        columns = {c["name"] for c in inspect(connection).get_columns("user_account")}
    assert scope == "admin"
    if isinstance(expires_at, str):
        expires_at = datetime.fromisoformat(expires_at)
    assert timedelta(days=89) < expires_at - utcnow() <= timedelta(days=90)
    assert "session_version" not in columns and "totp_secret" in columns
    assert {"user_session", "recovery_code", "sign_in_throttle"} <= set(
        inspect(engine).get_table_names()
    )
    downgrade(scratch_url, "0005")
    with engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("user_account")}
        assert connection.execute(text("SELECT count(*) FROM api_token")).scalar() == 1
    assert "session_version" in columns and "totp_secret" not in columns
    assert "user_session" not in inspect(engine).get_table_names()
    engine.dispose()


def test_0009_gives_existing_users_vietnamese_and_downgrades(scratch_url):
    """Users already there keep receiving Vietnamese; rule adjustments keep their numbers and
    inherit the fall rule's; the way back keeps the rows."""
    upgrade(scratch_url, "0008")
    engine = make_engine(scratch_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO user_account (id, email, name, password_hash, role, is_active, "
                "created_at) VALUES (1, 'a@example.vn', '', 'x', 'admin', :yes, "
                "'2026-01-01 00:00:00')"
            ),
            {"yes": True},
        )
        connection.execute(
            text("INSERT INTO unit (id, code, name, path) VALUES (1, 'U', 'U', '/1/')")
        )
        connection.execute(
            text(
                "INSERT INTO alert_rule (id, unit_id, rule, is_enabled, burst_count) "
                "VALUES (1, 1, 'burst', :yes, 6)"
            ),
            {"yes": True},
        )
    upgrade(scratch_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT language FROM user_account")).scalar() == "vi"
        assert connection.execute(
            text(
                "SELECT burst_count, fall_recent_days, fall_baseline_weeks, fall_min_responses "
                "FROM alert_rule"
            )
        ).one() == (6, None, None, None)
    downgrade(scratch_url, "0008")
    with engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("user_account")}
        rule_columns = {c["name"] for c in inspect(connection).get_columns("alert_rule")}
        assert connection.execute(text("SELECT count(*) FROM user_account")).scalar() == 1
        assert connection.execute(text("SELECT burst_count FROM alert_rule")).scalar() == 6
    assert "language" not in columns and "fall_recent_days" not in rule_columns
    engine.dispose()
