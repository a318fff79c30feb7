"""Language choice: ?lang= (remembered in a cookie; also set when a user saves their language
on their account page), then Accept-Language, then Vietnamese."""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request, url_for
from flask_babel import format_date, format_datetime, format_percent, get_locale

LANG_COOKIE = "hailong_lang"
#: A language is offered under its own name, whatever the page's language.
LANGUAGE_CHOICES = [("vi", "Tiếng Việt"), ("en", "English")]


#: Shared tablets start in Vietnamese for every citizen, whatever the browser is set to.
SHARED_DEVICE_BLUEPRINTS = {"counter"}


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("lang")
    if request.blueprint in SHARED_DEVICE_BLUEPRINTS:
        return asked if asked in languages else current_app.config["BABEL_DEFAULT_LOCALE"]
    if asked in languages:
        g.remember_lang = asked
        return asked
    remembered = request.cookies.get(LANG_COOKIE)
    if remembered in languages:
        return remembered
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def remember(lang: str) -> None:
    """Keep ``lang`` in this browser's cookie (a user just chose it on their account page)."""
    g.remember_lang = lang


def remember_language(response: Response) -> Response:
    lang = g.pop("remember_lang", None)
    if lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


def current_language() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def lang_url(lang: str) -> str:
    """Return this page's URL in another language (other query arguments kept)."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [lang]
    return (
        url_for(request.endpoint, **(request.view_args or {}), **args)
        if request.endpoint
        else "?lang=" + lang
    )


def percent(value: float | None) -> str:
    """Format a 0–1 rate as a whole percentage in the request's language."""
    if value is None:
        return "–"
    return format_percent(value, format="#,##0%")


def format_day(day) -> str:
    return format_date(day, format="medium")


def init_app(app: Flask) -> None:
    app.after_request(remember_language)
    app.jinja_env.globals.update(
        current_language=current_language,
        lang_url=lang_url,
        percent=percent,
        format_day=format_day,
        # Stored times are UTC; shown in the city's time zone (BABEL_DEFAULT_TIMEZONE).
        format_datetime=format_datetime,
    )
