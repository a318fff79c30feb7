"""Hài Lòng web layer: the application factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from kiosk import database, errors, i18n, security
from kiosk.config import load_config
from kiosk.extensions import babel, csrf, limiter

PACKAGE_DIR = Path(__file__).resolve().parent


def _asset_dir(name: str) -> str:
    """Return templates/ or static/: inside the installed package, else at the source root."""
    installed = PACKAGE_DIR / name
    return str(installed if installed.is_dir() else PACKAGE_DIR.parent / name)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application; no database query runs here."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=_asset_dir("templates"),
        static_folder=_asset_dir("static"),
    )
    load_config(app, test_config)
    configure_proxy(app)
    database.init_app(app)
    register_extensions(app)
    i18n.init_app(app)
    security.init_app(app)
    register_blueprints(app)
    errors.init_app(app)
    register_cli(app)
    return app


def configure_proxy(app: Flask) -> None:
    hops = int(app.config["PROXY_FIX_X_FOR"])
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_extensions(app: Flask) -> None:
    babel.init_app(app, locale_selector=i18n.select_locale)
    csrf.init_app(app)
    limiter.init_app(app)


def register_blueprints(app: Flask) -> None:
    from kiosk import (
        admin,
        admin_codes,
        admin_kiosks,
        api,
        auth,
        counter,
        dashboard,
        health,
        kiosk_api,
        phone,
        tickets,
    )

    for module in (
        api,
        auth,
        counter,
        dashboard,
        health,
        phone,
        admin,
        admin_kiosks,
        admin_codes,
        kiosk_api,
        tickets,
    ):
        app.register_blueprint(module.bp)
    # JSON endpoints authenticate with bearer tokens, never with cookies alone.
    csrf.exempt(api.bp)
    csrf.exempt(kiosk_api.bp)
    app.jinja_env.globals["current_user"] = auth.current_user


def register_cli(app: Flask) -> None:
    from kiosk import cli

    cli.init_app(app)
