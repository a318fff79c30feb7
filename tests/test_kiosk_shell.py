"""The kiosk page's shell: its service worker route, its version, both languages in the page."""

from __future__ import annotations

import re

from kiosk.views.kiosk_shell import VERSION_PLACEHOLDER


def test_service_worker_is_stamped_and_may_control_the_kiosk(client):
    response = client.get("/kiosk/sw.js")

    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/kiosk"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    assert VERSION_PLACEHOLDER not in body
    version = re.search(r'const VERSION = "([^"]+)";', body)
    assert version and re.fullmatch(r"[\w.]+\+[0-9a-f]{10}", version.group(1))
    # The browser checks for a new version often; an unchanged one costs a 304.
    again = client.get("/kiosk/sw.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_kiosk_page_carries_both_languages_and_its_settings(client, city, device_token):
    client.set_cookie("hailong_device", device_token)

    html = client.get("/kiosk").get_data(as_text=True)

    assert '<html lang="vi">' in html
    assert '<span lang="vi">Rất hài lòng</span><span lang="en">Very satisfied</span>' in html
    assert 'data-min-interval-seconds="5"' in html and 'data-idle-seconds="60"' in html
    assert 'data-sw="/kiosk/sw.js"' in html and 'data-scope="/kiosk"' in html
    # A kiosk page of its own: no shared stylesheet, no script but its modules.
    assert "css/app.css" not in html
    assert "<script>" not in html and "style=" not in html


def test_staff_panel_shows_no_raw_version(client, city, device_token):
    """The cache-naming version (with a digest of the static files) is for machines: it stays
    in a data attribute for the heartbeat; administrators read it on the kiosks page."""
    client.set_cookie("hailong_device", device_token)

    html = client.get("/kiosk").get_data(as_text=True)

    start = html.index('<dialog class="staff-panel"')
    panel = html[start : html.index("</dialog>", start)]
    assert re.search(r'data-version="[\w.]+\+[0-9a-f]{10}"', html)
    assert not re.search(r"\d\+[0-9a-f]{10}", panel)
