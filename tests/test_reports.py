"""Summaries over calendar days in the office's time zone (read from the rollups)."""

import uuid
from datetime import date, datetime

import pytest

from surveys.errors import ValidationError
from surveys.insights import office_insight, overview
from surveys.periods import DateRange
from surveys.responses import ResponseInput, submit_response


def rate_at(db, moment_utc: datetime, answer="satisfied", target="COUNTR1"):
    payload = ResponseInput(
        id=uuid.uuid4(), target_code=target, answers={"overall": answer}, submitted_at=moment_utc
    )
    # "now" just after the moment, so the timestamp is a fresh one.
    submit_response(db, payload, now=moment_utc)


def test_local_day_bounds_in_hanoi():
    day = DateRange(date(2026, 3, 1), date(2026, 3, 1))
    start, end = day.utc_bounds("Asia/Ho_Chi_Minh")
    assert start == datetime(2026, 2, 28, 17, 0) and end == datetime(2026, 3, 1, 17, 0)


def test_responses_near_midnight_fall_on_the_local_day(db, city):
    # 16:59:59 UTC is 23:59:59 in Hanoi (1 March); 17:00 UTC is already 2 March there.
    rate_at(db, datetime(2026, 3, 1, 16, 59, 59))
    rate_at(db, datetime(2026, 3, 1, 17, 0, 0), answer="not_satisfied")
    rate_at(db, datetime(2026, 2, 28, 17, 0, 0))  # 00:00 on 1 March in Hanoi
    rate_at(db, datetime(2026, 2, 28, 16, 59, 59), answer="not_satisfied")  # still 28 Feb
    db.commit()
    first = office_insight(
        db, city.office, DateRange(date(2026, 3, 1), date(2026, 3, 1)), min_n=1, min_officer_n=1
    )
    assert first.responses == 2 and first.satisfaction.positives == 2
    second = office_insight(
        db, city.office, DateRange(date(2026, 3, 2), date(2026, 3, 2)), min_n=1, min_officer_n=1
    )
    assert second.responses == 1 and second.satisfaction.positives == 0
    both = office_insight(
        db, city.office, DateRange(date(2026, 2, 28), date(2026, 3, 2)), min_n=1, min_officer_n=1
    )
    assert both.responses == 4


def test_office_in_another_time_zone_uses_its_own_days(db, city):
    city.other_office.timezone = "Europe/Paris"
    db.commit()
    # 23:30 UTC on 1 March is 00:30 on 2 March in Paris but 06:30 on 2 March in Hanoi.
    rate_at(db, datetime(2026, 3, 1, 23, 30), target="COUNTR2")
    rate_at(db, datetime(2026, 3, 1, 22, 30), target="COUNTR2")  # 23:30 on 1 March in Paris
    db.commit()
    march_first = DateRange(date(2026, 3, 1), date(2026, 3, 1))
    assert (
        office_insight(db, city.other_office, march_first, min_n=1, min_officer_n=1).responses == 1
    )
    rows = overview(db, [city.office, city.other_office], march_first, min_n=1)
    assert [(r.office.code, r.counts.n) for r in rows] == [("O1", 0), ("O2", 1)]


def test_empty_period_has_no_rate(db, city):
    summary = office_insight(
        db, city.office, DateRange(date(2026, 1, 1), date(2026, 1, 31)), min_n=10, min_officer_n=30
    )
    assert summary.responses == 0 and summary.satisfaction.rate is None
    assert summary.as_dict()["questions"] == {}


def test_date_range_parsing():
    today = date(2026, 11, 26)
    default = DateRange.parse(None, None, today=today, default_days=30)
    assert (default.start, default.end) == (date(2026, 10, 28), today)
    assert DateRange.parse("2026-01-01", "2026-01-01", today=today).start == date(2026, 1, 1)
    for bad in (("2026-02-30", None), (None, "26/11/2026"), ("", None), (None, "20261126")):
        with pytest.raises(ValidationError):
            DateRange.parse(*bad, today=today)
    # Any real days are a range; one that starts after it ends holds no day.
    reversed_range = DateRange.parse("2026-05-02", "2026-05-01", today=today)
    assert reversed_range.is_empty
    start, end = reversed_range.utc_bounds("Asia/Ho_Chi_Minh")
    assert start == end
    assert DateRange.parse("1990-01-01", "2026-01-01", today=today).start == date(1990, 1, 1)


@pytest.mark.parametrize(
    "start,end",
    [("0001-01-01", "0001-01-01"), ("9999-12-31", "9999-12-31"), (None, "0001-01-05")],
)
def test_the_ends_of_the_calendar_do_not_overflow(start, end):
    period = DateRange.parse(start, end, today=date(2026, 11, 26))
    for zone in ("Asia/Ho_Chi_Minh", "Pacific/Kiritimati", "Etc/GMT+12"):
        low, high = period.utc_bounds(zone)
        assert low <= high
