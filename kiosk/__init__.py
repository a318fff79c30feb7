"""Hài Lòng web layer: the application factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from kiosk import boundary, database, errors, formatting, i18n, ratelimit, security, settings
from kiosk.config import load_config
from kiosk.extensions import babel, csrf

PACKAGE_DIR = Path(__file__).resolve().parent


def _asset_dir(name: str) -> str:
    """Return templates/ or static/: inside the installed package, else at the source root."""
    installed = PACKAGE_DIR / name
    return str(installed if installed.is_dir() else PACKAGE_DIR.parent / name)


class HaiLong(Flask):
    """Flask, with the one transaction boundary of every request."""

    def dispatch_request(self):
        """Run the view, then commit its work once, or roll it back (kiosk/database.py)."""
        response = self.make_response(super().dispatch_request())
        database.finish_request(response)
        return response


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application; no database query runs here."""
    app = HaiLong(
        __name__,
        instance_relative_config=True,
        template_folder=_asset_dir("templates"),
        static_folder=_asset_dir("static"),
    )
    load_config(app, test_config)
    settings.init_app(app)
    configure_proxy(app)
    database.init_app(app)
    # Before the extensions: CSRF protection reads the form, and the boundary must first raise
    # the body limit of the few forms allowed more than MAX_CONTENT_LENGTH.
    boundary.init_app(app)
    register_extensions(app)
    i18n.init_app(app)
    formatting.init_app(app)
    security.init_app(app)
    register_blueprints(app)
    ratelimit.init_app(app)
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


def register_blueprints(app: Flask) -> None:
    from kiosk import auth
    from kiosk.views import BLUEPRINTS, JSON_BLUEPRINTS

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    # JSON endpoints authenticate with bearer tokens, never with cookies alone.
    for blueprint in JSON_BLUEPRINTS:
        csrf.exempt(blueprint)
    app.jinja_env.globals["current_user"] = auth.current_user


def register_cli(app: Flask) -> None:
    from kiosk import cli

    cli.init_app(app)
