"""Tickets: minting through the API, and the verified survey a ticket opens."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("tickets", __name__)
