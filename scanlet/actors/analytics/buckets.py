"""Time buckets: local calendar days, weeks and months as runs of UTC hours.

Boundaries are built in local time (``zoneinfo``) and only then converted to UTC, so a day
that loses or gains an hour to daylight saving time is 23 or 25 hours long, as it is on the
wall. Rollups are hourly, so a boundary that is not on a whole UTC hour (zones with :30 or
:45 offsets such as Asia/Kolkata) is moved back to the start of its UTC hour.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = ("INTERVALS", "MAX_BUCKETS", "Interval", "TooManyBuckets", "bucket_bounds")

Interval = Literal["hour", "day", "week", "month"]
INTERVALS: tuple[Interval, ...] = ("hour", "day", "week", "month")
MAX_BUCKETS = 10_000


class TooManyBuckets(ValueError):
    """Raised when a range would need more than ``MAX_BUCKETS`` buckets."""

    def __init__(self) -> None:
        super().__init__(f"the range needs more than {MAX_BUCKETS} buckets; use a longer interval")


def _floor_hour(moment: datetime) -> int:
    return math.floor(moment.timestamp() / 3600)


def _period_start(day: date, interval: Interval) -> date:
    if interval == "week":
        return day - timedelta(days=day.weekday())  # ISO weeks start on Monday
    if interval == "month":
        return day.replace(day=1)
    return day


def _next_period(day: date, interval: Interval) -> date:
    if interval == "week":
        return day + timedelta(days=7)
    if interval == "month":
        return date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return day + timedelta(days=1)


def _local_midnight(day: date, tz: ZoneInfo) -> float:
    # fold=0: a midnight skipped by a DST jump maps to the instant of the jump, which is when
    # that local day really starts; a repeated one maps to its first occurrence.
    return datetime.combine(day, time(), tzinfo=tz).timestamp()


def bucket_bounds(start: datetime, end: datetime, interval: Interval, tz: ZoneInfo) -> list[int]:
    """UTC hour numbers (hours since 1970) of the boundaries of every bucket that overlaps
    [start, end): ``n + 1`` numbers for ``n`` buckets, the first at or before ``start``, the
    last at or after ``end``.

    ``bucket_bounds(2026-03-28T12:00Z, 2026-03-29T22:00Z, "day", Europe/Berlin)`` gives the
    hours of 2026-03-27T23:00Z, 2026-03-28T23:00Z (a 23-hour day: clocks go forward) and
    2026-03-29T22:00Z.
    """
    end_ts = end.timestamp()
    if interval == "hour":
        first, last = _floor_hour(start), math.ceil(end_ts / 3600)
        if last - first > MAX_BUCKETS:
            raise TooManyBuckets()
        return list(range(first, max(last, first + 1) + 1))
    day = _period_start(start.astimezone(tz).date(), interval)
    exact = _local_midnight(day, tz)
    bounds = [math.floor(exact / 3600)]
    while exact < end_ts or len(bounds) < 2:
        day = _next_period(day, interval)
        exact = _local_midnight(day, tz)
        boundary = math.floor(exact / 3600)
        if boundary > bounds[-1]:
            bounds.append(boundary)
        if len(bounds) > MAX_BUCKETS + 1:
            raise TooManyBuckets()
    return bounds
