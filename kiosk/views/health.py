"""Liveness for load balancers: answers 200 only when the database does."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from kiosk.database import get_session
from kiosk.settings import settings

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        get_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        response = jsonify({"status": "error", "database": "unreachable"})
        response.status_code = 503
        response.headers["Retry-After"] = str(settings().retry_after_seconds)
        return response
    return jsonify({"status": "ok"})
