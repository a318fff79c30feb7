"""The JSON API a paired kiosk uses besides posting ratings: heartbeat and officer sign-in."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("kiosk_api", __name__, url_prefix="/api/v1/kiosk")
