"""What printed material says: public links, QR images and texts in both languages at once."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from kiosk.settings import settings
from surveys.qr import qr_svg

#: Printed matter is read by everyone in front of it: Vietnamese first, then English.
PRINT_LANGUAGES = ("vi", "en")


def survey_url(code: str) -> str:
    return f"{settings().public_base_url}/s/{code}"


def ticket_url(code: str) -> str:
    return f"{settings().public_base_url}/t/{code}"


def typing_url() -> str:
    """Return the page where any printed code can be typed, as people type it."""
    return without_scheme(settings().public_base_url) + "/s"


def without_scheme(url: str) -> str:
    """Return a URL as people type it: no https://."""
    return url.split("://", 1)[-1]


def qr(url: str, label: str) -> Markup:
    """Return the inline SVG QR code of a URL (markup built from escaped values only)."""
    # qr_svg escapes everything it embeds.
    return Markup(qr_svg(url, title=label))


def place_lines(target) -> tuple[str, str]:
    """Return the name printed large for a target, and the line under it."""
    if target.officer is not None:
        return target.officer.name, " · ".join(
            part for part in (target.officer.title, target.office.name) if part
        )
    if target.counter is not None:
        return target.counter.name, target.office.name
    return target.office.name, target.office.address


def grouped(code: str, size: int = 5) -> str:
    """Return a long code in groups, easier to read out and type (separators are ignored)."""
    if len(code) <= 7:
        return code
    return " ".join(code[i : i + size] for i in range(0, len(code), size))


def _texts(kind: str, type_url: str) -> dict[str, str]:
    rate = {
        "office": _("Rate this office"),
        "counter": _("Rate this counter"),
        "officer": _("Rate this officer"),
        "ticket": _("Rate the service of this visit"),
    }[kind]
    return {
        "rate": rate,
        "question": _("How satisfied are you with how you were served?"),
        "scan": _("Scan the QR code with your phone's camera."),
        "type": _("No camera? Open %(url)s and type the code:", url=type_url),
        "anonymous": _("Anonymous, no sign-in, about one minute."),
        "code": _("Code"),
        "valid_until": _("Valid once, until"),
        "badge": _("Rate my service"),
    }


def bilingual_texts(kind: str) -> dict[str, dict[str, str]]:
    """Return the instructions of a poster, card or slip in each print language.

    Rendered with each locale forced, whatever the language of the person printing.
    """
    # One page to type any printed code, survey or ticket: fewer addresses to remember.
    type_url = typing_url()
    texts = {}
    for lang in PRINT_LANGUAGES:
        with force_locale(lang):
            texts[lang] = _texts(kind, type_url)
    return texts
