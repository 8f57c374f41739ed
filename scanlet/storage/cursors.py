"""Pagination cursors: opaque to clients, and checked part by part when they come back.

A cursor is the base64url text of its parts joined by ``|``. Whatever a client sends back
is decoded here and nowhere else, so a forged one (a 30-digit seq, a time in year 9999)
becomes ``InvalidCursor`` (422) before it reaches a query: SQLite refuses integers past 64
bits with ``OverflowError``, which once answered 500.
"""

from __future__ import annotations

import base64
import binascii

from scanlet.storage.timefmt import parse_time
from scanlet.timerange import time_error

__all__ = ("InvalidCursor", "decode_cursor", "encode_cursor", "seq_part", "time_part")

#: Digits of the largest seq a cursor may carry (SQLite integers are signed 64-bit).
_MAX_SEQ_DIGITS = 18


class InvalidCursor(ValueError):
    """Raised when a pagination cursor was not made by this server."""

    def __init__(self) -> None:
        super().__init__("the cursor is not valid; start again without one")


def encode_cursor(*parts: str | int) -> str:
    """``encode_cursor("2026-01-01T00:00:00.000000Z", 42)`` -> an opaque cursor."""
    text = "|".join(str(part) for part in parts)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, parts: int) -> list[str]:
    """The ``parts`` texts of a cursor (the last may contain ``|``); InvalidCursor if it is
    not shaped like one of ours."""
    if len(cursor) > 512:
        raise InvalidCursor()
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor() from None
    split = text.split("|", parts - 1)
    if len(split) != parts or not all(split):
        raise InvalidCursor()
    return split


def seq_part(text: str) -> int:
    """A cursor part that holds a log seq or a row id."""
    if not text.isascii() or not text.isdigit() or len(text) > _MAX_SEQ_DIGITS:
        raise InvalidCursor()
    return int(text)


def time_part(text: str) -> str:
    """A cursor part that holds a stored time, returned as the same text."""
    try:
        moment = parse_time(text)
    except (ValueError, OverflowError):
        raise InvalidCursor() from None
    if time_error(moment) is not None:
        raise InvalidCursor()
    return text
