"""Administration: the entry page."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l

from kiosk.auth import admin_required

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: The administration pages, as (endpoint, label), in the order the entry page lists them.
SECTIONS = [
    ("admin_kiosks.index", _l("Kiosks: pairing, officers on duty, health")),
    ("admin_codes.index", _l("Survey codes, QR posters and tickets")),
    ("admin_suspect.index", _l("Ratings held for review (over a code's hourly ceiling)")),
]


@bp.get("")
@admin_required
def index():
    return render_template("admin/index.html", sections=SECTIONS)
