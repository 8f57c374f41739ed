"""RFC 3339 time text as stored and served: UTC, microseconds, a trailing ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

__all__ = ("format_time", "parse_time")

_encode = msgspec.json.Encoder().encode


def format_time(moment: datetime) -> str:
    """``datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)`` -> ``"2026-01-02T03:04:05.000000Z"``.

    A fixed width keeps stored times sortable as text.
    """
    if moment.tzinfo is not UTC:
        offset = moment.utcoffset()
        if offset is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware one")
        moment = moment.astimezone(UTC)
    # This runs for every stored scan: msgspec writes a UTC time as RFC 3339 in C (0.17 us
    # here against 1.1 us for isoformat), with all six fraction digits unless they are all
    # zero (then none: devices' whole-second times); any other width takes the slow path.
    text = _encode(moment)
    if len(text) == 29:  # the quoted "YYYY-MM-DDTHH:MM:SS.ffffffZ"
        return text[1:-1].decode()
    if len(text) == 22:  # the quoted "YYYY-MM-DDTHH:MM:SSZ"
        return f"{text[1:20].decode()}.000000Z"
    return moment.isoformat(timespec="microseconds")[:26] + "Z"


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 time with any offset into an aware UTC datetime."""
    moment = datetime.fromisoformat(text.replace("z", "Z"))
    if moment.tzinfo is None:
        raise ValueError(f"time without an offset: {text!r}")
    return moment.astimezone(UTC)
