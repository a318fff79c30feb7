"""Creating and migrating the schema with Alembic."""

from __future__ import annotations

from importlib import util
from pathlib import Path

from alembic import command
from alembic.config import Config


def migrations_dir() -> Path:
    """Return the Alembic scripts: the source tree's, or the installed package's."""
    source = Path(__file__).resolve().parent.parent / "migrations"
    if (source / "env.py").exists():
        return source
    spec = util.find_spec("hailong_migrations")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The migrations are not installed.")
    return Path(next(iter(spec.submodule_search_locations)))


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    # ConfigParser interpolation would read "%" in a password as a placeholder.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at ``database_url`` to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)
