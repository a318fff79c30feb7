"""Administration: the entry page."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l

from kiosk.auth import current_user, manager_required

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: The administration pages, as (endpoint, label, who sees it), in the order listed.
SECTIONS = [
    ("admin_org.index", _l("Organisation: units, offices, counters, officers"), "manager"),
    ("admin_import.index", _l("Import the organisation from a spreadsheet"), "manager"),
    ("admin_surveys.index", _l("Surveys and their versions"), "admin"),
    ("admin_kiosks.index", _l("Kiosks: pairing, officers on duty, health"), "manager"),
    ("admin_codes.index", _l("Survey codes, QR posters and tickets"), "manager"),
    ("admin_users.index", _l("Users and their access"), "admin"),
    ("admin_audit.index", _l("Audit log"), "admin"),
    ("admin_alert_rules.index", _l("Alert rules per unit and office"), "admin"),
    ("admin_suspect.index", _l("Ratings held for review (over a code's hourly ceiling)"), "admin"),
]


@bp.get("")
@manager_required
def index():
    role = current_user().role
    shown = [(e, label) for e, label, who in SECTIONS if who == "manager" or role == "admin"]
    return render_template("admin/index.html", sections=shown)
