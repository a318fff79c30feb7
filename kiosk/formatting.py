"""Numbers and dates on the managers' pages, in the request's language through Babel.

Vietnamese writes a decimal comma and day/month/year (``68,2%``, ``03/12/2026``); English a
decimal point. Templates call these instead of formatting numbers themselves. A page of charts
formats thousands of numbers, so the language's symbols are read from Babel once and reused.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

from babel.dates import format_date as babel_format_date
from babel.numbers import format_percent, get_decimal_symbol, get_group_symbol
from flask import Flask
from flask_babel import get_locale


def _language() -> str:
    return str(get_locale() or "vi")


@lru_cache(maxsize=16)
def _symbols(language: str) -> tuple[str, str, str]:
    # The percent sign and where it goes, from the language's own pattern ("0%" → "%").
    percent = format_percent(0, format="0%", locale=language).replace("0", "", 1)
    return get_decimal_symbol(language), get_group_symbol(language), percent


def _number(value: float, decimals: int, language: str) -> str:
    decimal, group, _percent = _symbols(language)
    # Half to even on the shortest decimal form of the value, as Babel rounds: 80.65 → 80.6.
    quantum = Decimal(1).scaleb(-decimals)
    text = f"{Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_EVEN):,}"
    return text.replace(",", "\0").replace(".", decimal).replace("\0", group)


def percent1(value: float | None) -> str:
    """Format a 0–1 rate as a percentage with one decimal (``68,2%`` in Vietnamese)."""
    if value is None:
        return "–"
    language = _language()
    return _number(value * 100, 1, language) + _symbols(language)[2]


def format_score(value: float | None) -> str:
    """Format a 0–100 mean score (or a difference in points) with one decimal."""
    if value is None:
        return "–"
    return _number(value, 1, _language())


def format_number(value: int | float | None) -> str:
    """Format a count with the language's grouping (``12.345`` in Vietnamese)."""
    if value is None:
        return "–"
    return _number(value, 0, _language())


@lru_cache(maxsize=4096)
def _day(day: date, language: str) -> str:
    if language.startswith("vi"):
        # Babel's short Vietnamese form drops the century; managers write dd/mm/yyyy.
        return babel_format_date(day, format="dd/MM/yyyy", locale=language)
    return babel_format_date(day, format="medium", locale=language)


def short_day(day: date) -> str:
    """Format a day as dd/mm/yyyy in Vietnamese, the language's medium form otherwise."""
    return _day(day, _language())


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        percent1=percent1,
        format_score=format_score,
        format_number=format_number,
        short_day=short_day,
    )
