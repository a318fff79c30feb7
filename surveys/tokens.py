"""Random secrets, their stored hashes, and short public codes."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata

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


#: What people put between the characters of a code they type or read aloud.
_SEPARATORS = str.maketrans("", "", " -_.\u00a0\t")


def normalise_code(text: str) -> str:
    """Return a typed code in canonical form: full-width forms folded, upper case, no separators.

    Nothing is guessed for 0/O and 1/I/L: no code contains them (see CODE_ALPHABET), so there is
    no letter they could have been a misreading of; mapping them would only turn one unknown
    code into another.
    """
    return unicodedata.normalize("NFKC", text).upper().translate(_SEPARATORS)


def is_code_shaped(text: str, max_length: int = 16) -> bool:
    """Return whether a normalised code could be a code at all (letters and digits, short)."""
    return 0 < len(text) <= max_length and text.isascii() and text.isalnum()
