"""The responses as people read them: Vietnamese (or English) headers and words, for the CSV
and XLSX exports; ``codes`` keeps the machine keys for programs."""

from __future__ import annotations

import io
from collections.abc import Iterator

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kiosk.i18n import current_language
from surveys import reports
from surveys.errors import Reason, ValidationError
from surveys.insights import OfficeInsight
from surveys.models import Office, User
from surveys.periods import DateRange

HEADERS = {
    "id": _l("Response id"),
    "submitted_at": _l("Answered at"),
    "received_at": _l("Received at"),
    "channel": _l("Channel"),
    "locale": _l("Language"),
    "verified": _l("Verified (ticket)"),
    "office": _l("Office"),
    "counter": _l("Counter"),
    "officer": _l("Officer"),
    "target": _l("Survey code"),
    "survey": _l("Survey"),
    "survey_version": _l("Version"),
}
CHANNELS = {"kiosk": _l("kiosk"), "qr": _l("QR"), "ticket": _l("ticket")}
YES_NO = {"yes": _l("yes"), "no": _l("no")}


def codes_wanted() -> bool:
    """Return whether ?codes=1 asks for machine keys; anything but 0 or 1 is a 400."""
    value = request.args.get("codes")
    if value not in (None, "0", "1"):
        raise ValidationError("codes is 0 or 1.", {"codes": Reason.INVALID})
    return value == "1"


def response_rows(
    session, office: Office, period: DateRange, actor: User, *, codes: bool
) -> Iterator[list[str]]:
    """Yield the export's header and rows; free text masked for all but administrators."""
    rows = reports.response_rows(
        session,
        office,
        period,
        locale=None if codes else current_language(),
        mask=actor.role != "admin",
    )
    if codes:
        yield from rows
        return
    channel, verified = reports.CSV_BASE_COLUMNS.index("channel"), 5
    header = next(rows)
    yield [
        str(HEADERS.get(name, name)) for name in header[: len(reports.CSV_BASE_COLUMNS)]
    ] + header[len(reports.CSV_BASE_COLUMNS) :]
    for row in rows:
        row[channel] = str(CHANNELS.get(row[channel], row[channel]))
        row[verified] = str(YES_NO.get(row[verified], row[verified]))
        yield row


#: More rows than this do not go into a workbook (the CSV has no limit).
XLSX_MAX_ROWS = 200_000


def workbook(rows: Iterator[list[str]], insight: OfficeInsight) -> bytes:
    """Return an XLSX file: one sheet of responses, one of the period's figures."""
    from openpyxl import Workbook

    book = _SafeWorkbook(Workbook(write_only=True))
    sheet = book.create_sheet(_("Responses"))
    for count, row in enumerate(rows):
        if count > XLSX_MAX_ROWS:
            sheet.append([_("More rows than a workbook holds: download the CSV for all of them.")])
            break
        sheet.append([defuse(str(cell)) for cell in row])
    summary = book.create_sheet(_("Summary"))
    language = current_language()
    summary.append([_("Office"), insight.office.name, insight.office.code])
    summary.append(
        [_("From"), insight.period.start.isoformat(), _("To"), insight.period.end.isoformat()]
    )
    summary.append([])
    summary.append([_("Figure"), _("Responses"), _("Satisfied"), _("95%% interval") + " −", "+"])
    summary.append(_rate_row(_("Overall satisfaction"), insight.satisfaction))
    summary.append(_rate_row(_("Previous period"), insight.previous))
    for place in insight.counters:
        summary.append(_rate_row(f"{_('Counter')}: {place.name}", place.satisfaction))
    for place in insight.officers:
        summary.append(_rate_row(f"{_('Officer')}: {place.name}", place.satisfaction))
    summary.append([])
    summary.append(
        [
            _("Survey"),
            _("Version"),
            _("Question"),
            _("Answered"),
            _("Satisfied"),
            _("Mean score"),
            _("Answers"),
        ]
    )
    for head, questions in insight.figures.by_version():
        for question, figures in questions:
            rate = figures.rate(insight.min_n)
            summary.append(
                [
                    head.survey_name(language),
                    head.survey_version,
                    question.text(language),
                    figures.n,
                    rate.rate if figures.has_rate else None,
                    figures.mean_score(insight.min_n),
                    "; ".join(
                        f"{figures.choice_text(k, language)}: {v}"
                        for k, v in figures.counts.items()
                    ),
                ]
            )
    summary.append([])
    summary.append([_("Reason"), _("Times given"), _("About")])
    for reason in insight.figures.reasons.values():
        summary.append(
            [
                reason.text(language),
                reason.n,
                _("the officer who served")
                if reason.is_charged_to_officer
                else _("the process or the premises (not charged to the officer)"),
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


class _SafeWorkbook:
    """A write-only workbook whose sheets drop the control characters XLSX cannot hold (a name
    typed with one would otherwise make the whole export fail)."""

    def __init__(self, book):
        self.book = book

    def create_sheet(self, title: str):
        return _SafeSheet(self.book.create_sheet(title))

    def save(self, target) -> None:
        self.book.save(target)


class _SafeSheet:
    def __init__(self, sheet):
        self.sheet = sheet

    def append(self, row: list) -> None:
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        self.sheet.append(
            [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row]
        )


def _rate_row(label: str, rate) -> list:
    return [label, rate.n, rate.rate, rate.ci_low, rate.ci_high]


def defuse(cell: str) -> str:
    """Stop a spreadsheet from running a citizen's comment as a formula."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
