"""Calendar days in an office's time zone: "today", date ranges, and their UTC bounds.

Every report and export covers inclusive local calendar days (PRODUCT.md, "Date filters").
Timestamps are stored as naive UTC; these helpers are the one place that converts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from surveys.errors import Reason, ValidationError

#: YYYY-MM-DD exactly (what OpenAPI's "format: date" means), not every form ISO 8601 allows.
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: The outermost days whose local midnight still converts to UTC in any time zone.
FIRST_DAY = date.min + timedelta(days=1)
LAST_DAY = date.max - timedelta(days=1)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def to_local(moment: datetime, timezone: str) -> datetime:
    """Return a stored (naive UTC) time as an aware time in ``timezone``."""
    return moment.replace(tzinfo=UTC).astimezone(zone(timezone))


def local_today(timezone: str, now: datetime) -> date:
    """Return the calendar day it is at ``now`` (naive UTC) in ``timezone``."""
    return to_local(now, timezone).date()


def local_midnight_utc(day: date, timezone: str) -> datetime:
    """Return the start of a local calendar day as naive UTC (days are clamped into range)."""
    day = min(max(day, FIRST_DAY), LAST_DAY)
    local = datetime.combine(day, time.min, zone(timezone))
    return local.astimezone(UTC).replace(tzinfo=None)


def parse_day(value: str) -> date | None:
    """Return the date written as YYYY-MM-DD, or None if it is not one."""
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _days_before(day: date, days: int) -> date:
    ordinal = day.toordinal() - days
    return date.fromordinal(max(ordinal, 1))


@dataclass(frozen=True)
class DateRange:
    """Inclusive local calendar days; empty when ``start`` is after ``end``."""

    start: date
    end: date

    @classmethod
    def parse(
        cls, start: str | None, end: str | None, *, today: date, default_days: int = 30
    ) -> DateRange:
        """Parse YYYY-MM-DD bounds; a missing ``to`` is today, a missing ``from`` the day
        ``default_days - 1`` before ``to``. Any valid days are accepted: a range whose start is
        after its end is simply empty. An empty string is not a date (leave the bound out)."""
        errors: dict[str, Reason] = {}
        parsed: dict[str, date] = {}
        for name, value in (("from", start), ("to", end)):
            if value is None:
                continue
            day = parse_day(value)
            if day is None:
                errors[name] = Reason.NOT_A_DATE
            else:
                parsed[name] = day
        if errors:
            raise ValidationError("The date range is not valid.", errors)
        end_day = parsed.get("to", today)
        start_day = parsed.get("from") or _days_before(end_day, default_days - 1)
        return cls(start_day, end_day)

    @classmethod
    def last_days(cls, days: int, *, today: date) -> DateRange:
        return cls(_days_before(today, days - 1), today)

    @property
    def is_empty(self) -> bool:
        return self.start > self.end

    def utc_bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """Return [start, end) in naive UTC for these local calendar days."""
        start = local_midnight_utc(self.start, timezone)
        if self.is_empty:
            return start, start
        if self.end >= LAST_DAY:
            return start, datetime.max
        return start, local_midnight_utc(self.end + timedelta(days=1), timezone)
