"""QR codes for survey links, as inline SVG (screens, print) and PNG (downloads)."""

from __future__ import annotations

import io
from html import escape

import qrcode
import qrcode.constants

#: Error correction M restores up to 15 % of damaged modules: enough for a scuffed counter poster
#: while keeping a short URL at a low version (large modules, easy to scan from a distance).
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
#: The quiet zone the QR specification asks for, in modules.
QUIET_ZONE = 4


def qr_matrix(data: str) -> list[list[bool]]:
    """Return the modules of the QR code of data, quiet zone included (True is dark)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=QUIET_ZONE)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def _path(matrix: list[list[bool]]) -> str:
    """Return an SVG path drawing each horizontal run of dark modules as one rectangle."""
    parts = []
    for y, row in enumerate(matrix):
        x = 0
        width = len(row)
        while x < width:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < width and row[x]:
                x += 1
            parts.append(f"M{start} {y}h{x - start}v1h{start - x}z")
    return "".join(parts)


def qr_svg(data: str, *, title: str | None = None, css_class: str = "qr") -> str:
    """Return the QR code of data as an inline SVG element that scales to its container.

    The drawing is in module units (viewBox), white background, crisp edges, no style attribute,
    so it can sit in a page under a strict Content-Security-Policy and print at any size.
    """
    matrix = qr_matrix(data)
    size = len(matrix)
    label = escape(title if title is not None else data)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" '
        f'viewBox="0 0 {size} {size}" shape-rendering="crispEdges" role="img" '
        f'aria-label="{label}"><title>{label}</title>'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{_path(matrix)}"/></svg>'
    )


def qr_svg_document(data: str) -> str:
    """Return the QR code of data as a standalone SVG file, sized in millimetres for print."""
    svg = qr_svg(data)
    size_mm = len(qr_matrix(data)) * 1  # 1 mm per module: about 3.3 cm for a short URL
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + svg.replace(
        "<svg ", f'<svg width="{size_mm}mm" height="{size_mm}mm" ', 1
    )


def qr_png(data: str, *, box_size: int = 12) -> bytes:
    """Return the QR code of data as a black-and-white PNG.

    The default 12 pixels per module gives a ~40-module code of about 480 px, i.e. 4 cm at 300 dpi.
    """
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=QUIET_ZONE, box_size=box_size)
    code.add_data(data)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(300, 300))
    return buffer.getvalue()
