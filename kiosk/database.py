"""One SQLAlchemy session per request, and the one place where a request's work is committed.

The request boundary (``finish_request``, called by the app right after the view returns)
commits once when the view answered with a success, and rolls back otherwise: on an error
status, on any exception, and always for GET, HEAD and OPTIONS, which must not write. Views and
domain functions flush but never commit, so a view cannot forget to commit or commit half a
change. Bookkeeping that must be kept even on a read (an API token's last-used time) runs in a
short transaction of its own, through ``run_apart``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, current_app, g, request
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from surveys.db import make_engine, make_sessionmaker

log = logging.getLogger(__name__)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WROTE = "hailong.wrote"
T = TypeVar("T")


class ReadOnlyViolation(AssertionError):
    """A GET (or HEAD, OPTIONS) request tried to change the database."""


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"], **app.config.get("ENGINE_OPTIONS", {}))
    app.extensions["hailong.engine"] = engine
    maker = make_sessionmaker(engine)
    event.listen(maker, "do_orm_execute", _note_writes)
    app.extensions["hailong.sessionmaker"] = maker
    app.teardown_appcontext(_close_session)


def _note_writes(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


def get_session() -> Session:
    """Return this request's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["hailong.sessionmaker"]()
    return g.db_session


def _has_writes(session: Session) -> bool:
    return bool(session.new or session.dirty or session.deleted or session.info.get(_WROTE))


def finish_request(response: Response) -> None:
    """Commit the request's work if the view succeeded and may write; roll it back otherwise.

    A failing commit raises (the database is down, a constraint fired late): the error
    handlers then answer 503 or 409 instead of the success the view had prepared.
    """
    session: Session | None = g.get("db_session")
    if session is None:
        return
    if request.method in SAFE_METHODS:
        # Nothing to commit; teardown ends the read transaction. A write is a bug.
        if _has_writes(session):
            session.rollback()
            message = f"{request.method} {request.path} tried to write to the database"
            if current_app.testing:
                raise ReadOnlyViolation(message)
            log.error("%s; rolled back", message)
        return
    if response.status_code < 400:
        session.commit()
    else:
        session.rollback()


def run_apart(work: Callable[[Session], T]) -> T:
    """Run ``work`` in a short transaction of its own, committed at once.

    For bookkeeping only (never for what the request is about): it is kept even when the
    request itself is read-only or fails.
    """
    with current_app.extensions["hailong.sessionmaker"]() as session, session.begin():
        return work(session)


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        # Whatever finish_request did not commit is discarded: a failed request stores nothing.
        session.close()
