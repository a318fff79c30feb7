"""A small in-process cache for the public pages: their figures change slowly and anyone may
ask for them, so each app process computes an office's figures at most once per
PUBLIC_CACHE_SECONDS, and renders each page once per language in that time."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from threading import Lock
from typing import TypeVar

T = TypeVar("T")
#: Entries kept at most; past it the cache starts afresh (a city has a few thousand offices).
MAX_ENTRIES = 20_000

_entries: dict[Hashable, tuple[float, object]] = {}
_lock = Lock()


def cached(key: Hashable, ttl_seconds: float, compute: Callable[[], T]) -> T:
    """Return the value kept under ``key`` if younger than ``ttl_seconds``, else compute it.

    Two threads missing at once may both compute; both results are the same figures.
    """
    now = time.monotonic()
    entry = _entries.get(key)
    if entry is not None and entry[0] > now:
        return entry[1]  # type: ignore[return-value]
    value = compute()
    with _lock:
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
        _entries[key] = (now + ttl_seconds, value)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()
