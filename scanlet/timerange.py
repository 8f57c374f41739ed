"""The span of time Scanlet accepts from clients, and the one check every entrance calls.

Python's datetimes stop at years 1 and 9999: a client time of ``0001-01-01T00:30:00+01:00``
is a valid RFC 3339 string whose conversion to UTC raises ``OverflowError``, and one such
value once crashed an actor on every try. Every time that comes from outside (request bodies,
query parameters, cursors, CLI flags) passes through ``check_time`` before anything converts,
stores or does arithmetic with it. The bounds leave room on both sides for time-zone offsets
and for the end of a month-long bucket.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import available_timezones

import msgspec

__all__ = (
    "EARLIEST",
    "LATEST",
    "RANGE_TEXT",
    "TIME_SCHEMA",
    "ClientTime",
    "check_time",
    "time_error",
    "time_zones",
)

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
RANGE_TEXT = "between 1970-01-01T00:00:00Z and 9000-01-01T00:00:00Z"

# An RFC 3339 date-time whose year is 1970 to 8999, spelled out as a pattern: JSON Schema
# treats "format" as a note, so the pattern alone must say what a valid time looks like.
# Years, months and days are only the real ones (29 February in leap years); the pattern
# reads the year as written, and ``time_error`` decides, in UTC, at the edges of the span.
_YEAR = "(?:19[7-9][0-9]|[2-8][0-9]{3})"
_LEAP_YEAR = (
    "(?:19(?:7[26]|8[048]|9[26])|[2-8][0-9](?:0[48]|[2468][048]|[13579][26])"
    "|(?:[2468][048]|[357][26])00)"
)
_DATE = (
    f"(?:{_YEAR}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
    f"|{_LEAP_YEAR}-02-29)"
)
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?"
_OFFSET = "(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"

#: The accepted span as the OpenAPI document shows it. Checked against ``time_error`` in
#: tests/test_timerange.py.
TIME_SCHEMA: dict[str, str] = {
    "type": "string",
    "format": "date-time",
    "pattern": f"^{_DATE}[Tt]{_TIME}{_OFFSET}$",
    "description": f"An RFC 3339 time with an offset, {RANGE_TEXT}.",
}
#: A time in a request body, documented with ``TIME_SCHEMA`` (``check_times`` enforces it).
ClientTime = Annotated[
    datetime,
    msgspec.Meta(
        extra_json_schema={"pattern": TIME_SCHEMA["pattern"]},
        description=TIME_SCHEMA["description"],
    ),
]


def time_error(value: datetime) -> str | None:
    """Why ``value`` is not an acceptable client time, or None when it is.

    Comparing aware datetimes never overflows (it subtracts offsets as timedeltas), so this is
    safe for any value msgspec or ``fromisoformat`` can produce.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        return "needs an offset, e.g. 2026-01-01T00:00:00Z"
    if not EARLIEST <= value <= LATEST:
        return f"must be {RANGE_TEXT}"
    return None


def check_time(value: datetime) -> datetime:
    """``value`` in UTC; ValueError with the reason when it is out of range or naive."""
    error = time_error(value)
    if error is not None:
        raise ValueError(error)
    return value.astimezone(UTC)


@functools.cache
def time_zones() -> frozenset[str]:
    """The IANA time zone names in this server's tz database: what a ``tz`` (of stats, of a
    routing schedule) accepts, and what the OpenAPI document lists."""
    return frozenset({"UTC", *available_timezones()})
