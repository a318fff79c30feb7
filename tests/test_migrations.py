"""Alembic revisions upgrade a database that already holds data, and downgrade cleanly."""

from sqlalchemy import inspect, text

from surveys.db import make_engine
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
