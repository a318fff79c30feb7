"""Administration: the entry page, and the access rule every admin page shares."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from kiosk.auth import current_user

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: The administration pages, as (endpoint, label), in the order the entry page lists them.
SECTIONS = [
    ("admin_kiosks.index", _l("Kiosks: pairing, officers on duty, health")),
    ("admin_codes.index", _l("Survey codes, QR posters and tickets")),
]


def admin_required(view):
    """Let only administrators in; an admin with a scope manages only that part of the tree."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        user = current_user()
        if user is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if user.role != "admin":
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.get("")
@admin_required
def index():
    return render_template("admin/index.html", sections=SECTIONS)
