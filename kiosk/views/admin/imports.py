"""Importing a whole organisation from a spreadsheet: upload, preview, apply.

The file is kept in the database between the preview and the apply (any app server may serve
either step). Nothing is applied while any row has a problem; the preview lists every one by
row and column.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from kiosk.auth import current_user, manager_required
from kiosk.database import get_session
from kiosk.messages import field_message
from surveys import org_import
from surveys.db import utcnow
from surveys.errors import DomainError
from surveys.models import OrgImport

bp = Blueprint("admin_import", __name__, url_prefix="/admin/import")


class UploadForm(FlaskForm):
    file = FileField(_l("Spreadsheet (CSV or XLSX)"), validators=[FileRequired()])


class ApplyForm(FlaskForm):
    """Only the CSRF token."""


COLUMN_NAMES = {
    "type": _l("type"),
    "code": _l("code"),
    "name": _l("name"),
    "parent": _l("parent"),
    "timezone": _l("timezone"),
    "address": _l("address"),
    "file": _l("file"),
}
#: What a problem in a row means, in the reader's words.
PROBLEMS = {
    "invalid": _l("not valid"),
    "required": _l("missing"),
    "too_long": _l("too long"),
    "already_used": _l("the same code twice in the file"),
    "shared_code": _l("a unit and an office cannot share a code"),
    "unknown_code": _l("no such parent in the file or the city"),
    "cycle": _l("a unit placed under itself"),
    "not_asked": _l("only for offices; leave it empty"),
    "not_in_scope": _l("outside your scope"),
    "invalid_text": _l("characters that cannot be stored"),
}


def _own_import(import_id: int) -> OrgImport:
    found = get_session().get(OrgImport, import_id)
    user = current_user()
    if found is None or (found.created_by_id != user.id and user.role != "admin"):
        abort(404)
    return found


@bp.get("")
@manager_required
def index():
    return render_template("admin/imports/index.html", form=UploadForm())


@bp.post("/upload")
@manager_required
def upload():
    """Keep the uploaded file and show what applying it would do (a larger body limit applies
    to this endpoint: kiosk/boundary.py LARGE_BODIES)."""
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        content = upload.read(org_import.MAX_BYTES + 1)
        try:
            org_import.read_rows(content, upload.filename or "")
        except DomainError as error:
            form.file.errors.append(
                "; ".join(
                    f"{COLUMN_NAMES.get(f, f)}: {PROBLEMS.get(r, field_message(r))}"
                    for f, r in error.fields.items()
                )
            )
        else:
            pending = OrgImport(
                created_at=utcnow(),
                created_by_id=current_user().id,
                filename=(upload.filename or "upload")[:255],
                content=content,
            )
            get_session().add(pending)
            get_session().flush()
            return redirect(url_for(".preview", import_id=pending.id))
    return (
        render_template("admin/imports/index.html", form=form),
        400 if form.errors else 200,
    )


@bp.get("/<int:import_id>")
@manager_required
def preview(import_id: int):
    pending = _own_import(import_id)
    rows = org_import.read_rows(pending.content, pending.filename)
    plan = org_import.plan_import(get_session(), current_user(), rows)
    return render_template(
        "admin/imports/preview.html",
        pending=pending,
        plan=plan,
        form=ApplyForm(),
        columns=COLUMN_NAMES,
        problems=PROBLEMS,
    )


@bp.post("/<int:import_id>/apply")
@manager_required
def apply(import_id: int):
    if not ApplyForm().validate_on_submit():
        abort(400)
    pending = _own_import(import_id)
    if pending.applied_at is not None:
        flash(_("This file was applied already."))
        return redirect(url_for("admin_org.index"))
    rows = org_import.read_rows(pending.content, pending.filename)
    try:
        plan = org_import.apply_import(
            get_session(), current_user(), rows, now=utcnow(), source=pending.filename
        )
    except DomainError:
        return redirect(url_for(".preview", import_id=pending.id))
    pending.applied_at = utcnow()
    flash(
        ngettext(
            "The file was applied: %(num)d change. New offices, counters and officers have "
            "their survey codes: print their posters now.",
            "The file was applied: %(num)d changes. New offices, counters and officers have "
            "their survey codes: print their posters now.",
            plan.changed,
        )
    )
    return redirect(url_for("admin_org.index"))


def _download(content: bytes, name: str, mimetype: str) -> Response:
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/template.<kind>")
@manager_required
def template(kind: str):
    rows = org_import.template_rows()
    if kind == "xlsx":
        return _download(org_import.to_xlsx(rows), "hailong-to-chuc-mau.xlsx", XLSX)
    if kind == "csv":
        return _download(org_import.to_csv(rows), "hailong-to-chuc-mau.csv", "text/csv")
    abort(404)


@bp.get("/export.<kind>")
@manager_required
def export(kind: str):
    rows = org_import.export_rows(get_session(), current_user())
    if kind == "xlsx":
        return _download(org_import.to_xlsx(rows), "hailong-to-chuc.xlsx", XLSX)
    if kind == "csv":
        return _download(org_import.to_csv(rows), "hailong-to-chuc.csv", "text/csv")
    abort(404)
