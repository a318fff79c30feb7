"""Administration of survey codes, QR posters and tickets (issue 4 builds this out)."""

from __future__ import annotations

from flask import Blueprint, render_template

from kiosk.admin import admin_required

bp = Blueprint("admin_codes", __name__, url_prefix="/admin/codes")


@bp.get("")
@admin_required
def index():
    return render_template("admin/codes/index.html")
