"""Administration of counter kiosks (issue 3 builds this out)."""

from __future__ import annotations

from flask import Blueprint, render_template

from kiosk.admin import admin_required

bp = Blueprint("admin_kiosks", __name__, url_prefix="/admin/kiosks")


@bp.get("")
@admin_required
def index():
    return render_template("admin/kiosks/index.html")
