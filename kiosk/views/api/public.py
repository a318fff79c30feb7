"""The public figures of an office as open data (no sign-in; the same as /p/CODE)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from kiosk.settings import settings
from kiosk.views.api.openapi import Answer, error, operation
from kiosk.views.api.schemas import PublicOfficeOut
from kiosk.views.public import office_figures

bp = Blueprint("api_public", __name__, url_prefix="/api/v1/public")


@operation(
    method="get",
    path="/public/offices/{code}",
    summary="An office's public figures: satisfaction by month, most frequent reasons",
    description="Open data, no sign-in. No officer, no comment, no figure below MIN_RESPONSES.",
    path_params={"code": "The office's code"},
    security=({},),
    answers={200: Answer("The figures", PublicOfficeOut), 404: error("No such office")},
)
@bp.get("/offices/<code>")
def office(code: str):
    figures = office_figures(code)
    response = jsonify(
        {
            "office": {"code": figures.code, "name": figures.name, "unit": figures.unit},
            "min_responses": figures.min_n,
            "months": [
                {
                    "month": row.month.strftime("%Y-%m"),
                    "n": row.satisfaction.n,
                    "rate": row.satisfaction.rate,
                    "ci_low": row.satisfaction.ci_low,
                    "ci_high": row.satisfaction.ci_high,
                }
                for row in figures.months
            ],
            "reasons": [
                {"key": r.key, "text": {"vi": r.text_vi, "en": r.text_en}, "count": r.count}
                for r in figures.reasons
            ],
            "reasons_n": figures.reasons_n,
            "actions": [
                {
                    "said": a.said,
                    "done": a.done,
                    "published_at": a.published_at.isoformat(timespec="seconds") + "Z",
                }
                for a in figures.actions
            ],
        }
    )
    response.headers["Cache-Control"] = (
        f"public, max-age={int(settings().public_cache.total_seconds())}"
    )
    return response
