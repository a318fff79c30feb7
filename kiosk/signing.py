"""Signing with SECRET_KEY, accepting SECRET_KEY_FALLBACKS: rotating the key signs nobody out.

Flask's session cookie uses SECRET_KEY_FALLBACKS by itself (Flask 3.1); every other value the
app signs (the phone's answered-codes cookie, the known-browser cookie) goes through here.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import URLSafeTimedSerializer


def secret_keys() -> list[str]:
    """Return the keys that verify a signature, oldest first: the last one signs."""
    return [*current_app.config.get("SECRET_KEY_FALLBACKS", ()), current_app.secret_key]


def serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_keys(), salt=salt)
