"""Numbers and dates on the managers' pages, in the request's language through Babel.

Vietnamese writes a decimal comma and day/month/year (``68,2 %``, ``03/12/2026``); English a
decimal point. Templates call these instead of formatting numbers themselves.
"""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask_babel import format_date, format_decimal, format_percent, get_locale


def percent1(value: float | None) -> str:
    """Format a 0–1 rate as a percentage with one decimal (``68,2 %`` in Vietnamese)."""
    if value is None:
        return "–"
    return format_percent(value, format="#,##0.0%")


def format_score(value: float | None) -> str:
    """Format a 0–100 mean score with one decimal."""
    if value is None:
        return "–"
    return format_decimal(value, format="#,##0.0")


def format_number(value: int | float | None) -> str:
    """Format a count with the language's grouping (``12.345`` in Vietnamese)."""
    if value is None:
        return "–"
    return format_decimal(value, format="#,##0")


def short_day(day: date) -> str:
    """Format a day as dd/mm/yyyy in Vietnamese (Babel's short form drops the century), the
    language's medium form otherwise."""
    if str(get_locale() or "vi").startswith("vi"):
        return format_date(day, format="dd/MM/yyyy")
    return format_date(day, format="medium")


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        percent1=percent1,
        format_score=format_score,
        format_number=format_number,
        short_day=short_day,
    )
