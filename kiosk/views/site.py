"""What browsers ask for at the site's root whatever page they show: /favicon.ico."""

from __future__ import annotations

from flask import Blueprint, current_app, send_from_directory

bp = Blueprint("site", __name__)

#: A day: the icon changes with a release at most, and a stale one harms nobody.
ICON_MAX_AGE = 86400


@bp.get("/favicon.ico")
def favicon():
    """Serve static/favicon.ico, the 16/32/48 px icon made from static/img/icon.svg."""
    return send_from_directory(
        current_app.static_folder,
        "favicon.ico",
        mimetype="image/vnd.microsoft.icon",
        max_age=ICON_MAX_AGE,
    )
