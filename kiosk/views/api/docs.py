"""The API's own description: GET /api/v1/openapi.json."""

from __future__ import annotations

from flask import Blueprint, jsonify

from kiosk.settings import settings
from kiosk.views.api.openapi import openapi_document

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")


@bp.get("/openapi.json")
def openapi():
    config = settings()
    return jsonify(
        openapi_document(config.public_base_url, ticket_max=config.ticket_max_per_request)
    )
