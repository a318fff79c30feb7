"""The public pages: every office of the city, and each office's figures (no sign-in, no
JavaScript, cached)."""

from __future__ import annotations

from flask import Blueprint, make_response, render_template

from kiosk import public_cache
from kiosk.database import get_session
from kiosk.i18n import current_language
from kiosk.settings import settings
from surveys import public
from surveys.db import utcnow

bp = Blueprint("public", __name__, url_prefix="/p")


def office_figures(code: str) -> public.PublicOffice:
    """Return an office's public figures, computed at most once per PUBLIC_CACHE_SECONDS."""
    config = settings()
    key = ("office", code.strip().upper())
    return public_cache.cached(
        key,
        config.public_cache.total_seconds(),
        lambda: public.public_office(get_session(), code, now=utcnow(), min_n=config.min_responses),
    )


def _cacheable(html: str):
    response = make_response(html)
    seconds = int(settings().public_cache.total_seconds())
    response.headers["Cache-Control"] = f"public, max-age={seconds}"
    response.vary.add("Cookie")
    response.vary.add("Accept-Language")
    return response


@bp.get("")
def index():
    config = settings()
    lang = current_language()
    html = public_cache.cached(
        ("index", lang),
        config.public_cache.total_seconds(),
        lambda: render_template("public/index.html", offices=public.public_offices(get_session())),
    )
    return _cacheable(html)


@bp.get("/<code>")
def office(code: str):
    figures = office_figures(code)
    lang = current_language()
    html = public_cache.cached(
        ("office-page", figures.code, lang),
        settings().public_cache.total_seconds(),
        lambda: render_template("public/office.html", office=figures, lang=lang),
    )
    return _cacheable(html)
