"""Random secrets, their stored hashes, and short public codes."""

from __future__ import annotations

import hashlib
import secrets

#: No 0/O, 1/I/L: a code read off a poster and typed on a phone cannot be mistyped into another.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 7


def new_secret(prefix: str = "") -> str:
    """Return a fresh URL-safe secret with 256 bits of entropy."""
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """Return the SHA-256 hex digest under which a secret is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_code(length: int = CODE_LENGTH) -> str:
    """Return a random public short code (31^7 ≈ 2.8·10^10 possibilities)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalise_code(text: str) -> str:
    """Return a typed code in canonical form: upper case, no spaces or dashes, O→0 style fixes."""
    cleaned = text.strip().upper().replace(" ", "").replace("-", "")
    return cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
