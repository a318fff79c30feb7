"""The password rule: 12 to 128 characters, not one of the passwords people choose most.

Hashing stays scrypt (memory-hard, werkzeug's implementation; see surveys/accounts.py).
The list of common passwords ships with the package (surveys/data/README.md says where it
comes from and under which licence).
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources

from surveys.errors import Reason, ValidationError

MIN_PASSWORD_LENGTH = 12
#: Long enough for any passphrase, short enough that hashing one costs nothing unusual.
MAX_PASSWORD_LENGTH = 128
_EDGES = "0123456789!@#$%^&*()-_=+.,;:?~`'\"[]{}<>/\\| "


@cache
def common_passwords() -> frozenset[str]:
    data = resources.files("surveys").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split("\n")) - {""}


def is_common(password: str) -> bool:
    """Whether a password, or its core without leading/trailing digits and symbols, is common."""
    lowered = password.lower()
    core = lowered.strip(_EDGES)
    listed = common_passwords()
    return lowered in listed or (bool(core) and core in listed) or not core


def check_password(password: str | None, *, field: str = "password") -> None:
    """Raise ValidationError naming ``field`` when a new password breaks the rule."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        reason = Reason.TOO_SHORT
    elif len(password) > MAX_PASSWORD_LENGTH:
        reason = Reason.TOO_LONG
    elif is_common(password):
        reason = Reason.COMMON_PASSWORD
    else:
        return
    raise ValidationError("This password cannot be used.", {field: reason})
