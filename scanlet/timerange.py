"""The span of time Scanlet accepts from clients, and the one check every entrance calls.

Python's datetimes stop at years 1 and 9999: a client time of ``0001-01-01T00:30:00+01:00``
is a valid RFC 3339 string whose conversion to UTC raises ``OverflowError``, and one such
value once crashed an actor on every try. Every time that comes from outside (request bodies,
query parameters, cursors, CLI flags) passes through ``check_time`` before anything converts,
stores or does arithmetic with it. The bounds leave room on both sides for time-zone offsets
and for the end of a month-long bucket.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec

__all__ = (
    "EARLIEST",
    "LATEST",
    "RANGE_TEXT",
    "TIME_SCHEMA",
    "ClientTime",
    "check_time",
    "time_error",
)

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
RANGE_TEXT = "between 1970-01-01T00:00:00Z and 9000-01-01T00:00:00Z"

#: The accepted span as the OpenAPI document shows it: an RFC 3339 time with an offset whose
#: year is 1970 to 8999 (the pattern reads the year as written; ``time_error`` decides, in
#: UTC, at the edges). Checked against EARLIEST and LATEST in tests/test_timerange.py.
TIME_SCHEMA: dict[str, str] = {
    "type": "string",
    "format": "date-time",
    "pattern": "^(?:19[7-9][0-9]|[2-8][0-9]{3})-",
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
