"""Response headers: a strict Content-Security-Policy, the usual hardening, HSTS when
configured, and ``Cache-Control: no-store`` on anything a signed-in person or token sees."""

from __future__ import annotations

from flask import Flask, Response, g, request

from kiosk.settings import settings

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


def set_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault(
        "Permissions-Policy", "camera=(self), microphone=(), geolocation=()"
    )
    hsts = settings().hsts_seconds
    if hsts > 0:
        response.headers.setdefault(
            "Strict-Transport-Security", f"max-age={hsts}; includeSubDomains"
        )
    if _is_personal():
        # Staff pages and API answers may hold personal data: no cache, shared or private,
        # may keep them (the back button after sign-out shows nothing).
        response.headers["Cache-Control"] = "no-store"
    return response


def _is_personal() -> bool:
    """Whether this request was answered for a signed-in user, a token, or a sign-in step."""
    if g.get("user") is not None or g.get("user_session") is not None:
        return True
    if request.path.startswith(("/login", "/account", "/admin", "/dashboard")):
        return True
    return request.path.startswith("/api/") and "Authorization" in request.headers


def init_app(app: Flask) -> None:
    app.after_request(set_security_headers)
