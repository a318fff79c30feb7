"""The audit log for administrators: filter by days, actor and action; export as CSV."""

from __future__ import annotations

import codecs
import csv
import io

from flask import Blueprint, Response, render_template, request, stream_with_context

from kiosk.auth import admin_required
from kiosk.database import get_session
from kiosk.settings import settings
from kiosk.views.api.org import audit_filter
from kiosk.views.api.schemas import MAX_ID
from surveys import audit
from surveys.errors import ValidationError

# Rules under /admin rather than a /admin/audit prefix: a prefix joins with "/", which made
# the export /admin/audit/.csv, a "hidden file" path that common proxy rules refuse.
bp = Blueprint("admin_audit", __name__, url_prefix="/admin")
PAGE = 100


def _filter():
    """Return (filter, error) from the query string; a bad day shows the error, not a 400."""
    args = {k: v for k, v in request.args.items() if v}
    try:
        return audit_filter(args), None
    except ValidationError as error:
        return audit.AuditFilter(
            actor=args.get("actor"), action=args.get("action"), timezone=settings().default_timezone
        ), error


@bp.get("/audit")
@admin_required
def index():
    db = get_session()
    where, error = _filter()
    before = request.args.get("before", type=int)
    if before is not None and not 1 <= before <= MAX_ID:
        before = None  # not a page of ours (and too large an integer for the database)
    entries = audit.entries(db, where, limit=PAGE, before_id=before)
    return render_template(
        "admin/audit/index.html",
        entries=entries,
        actions=audit.actions(db),
        values={k: v for k, v in request.args.items() if k != "before" and v},
        date_error=error,
        next_before=entries[-1].id if len(entries) == PAGE else None,
    )


@bp.get("/audit.csv")
@admin_required
def export():
    db = get_session()
    where, _error = _filter()
    rows = audit.csv_rows(db, where)

    def generate():
        yield codecs.BOM_UTF8.decode()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in rows:
            writer.writerow([("'" + c) if c[:1] in ("=", "+", "-", "@") else c for c in row])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="hailong-audit.csv"',
            "Cache-Control": "no-store",
        },
    )
