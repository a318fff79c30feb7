"""One SQLAlchemy session per request; the request boundary commits once."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from surveys.db import make_engine, make_sessionmaker


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"], **app.config.get("ENGINE_OPTIONS", {}))
    app.extensions["hailong.engine"] = engine
    app.extensions["hailong.sessionmaker"] = make_sessionmaker(engine)
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """Return this request's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["hailong.sessionmaker"]()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        # Anything not committed explicitly is discarded, so a failed request stores nothing.
        session.close()
