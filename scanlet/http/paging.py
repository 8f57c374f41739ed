"""Paging a short list held in memory (webhook endpoints, users): the same ``limit`` and
opaque ``cursor`` as the lists the database pages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from starlette.requests import Request

from scanlet.http.params import MAX_CURSOR_LENGTH, query_int, query_str
from scanlet.storage.cursors import InvalidCursor, decode_cursor, encode_cursor

__all__ = ("page_in_memory",)

T = TypeVar("T")


def page_in_memory(
    request: Request, rows: Sequence[T], key: Callable[[T], str]
) -> tuple[list[T], str | None]:
    """The page of ``rows`` (in their order) that the request's ``limit`` and ``cursor`` ask
    for, and the next page's cursor; rows are named in cursors by ``key``."""
    limit = query_int(request, "limit", default=50, low=1, high=1000)
    cursor = query_str(request, "cursor", max_length=MAX_CURSOR_LENGTH)
    if cursor is not None:
        (after,) = decode_cursor(cursor, 1)
        keys = [key(row) for row in rows]
        if after not in keys:
            raise InvalidCursor()
        rows = rows[keys.index(after) + 1 :]
    page = list(rows[:limit])
    return page, (encode_cursor(key(page[-1])) if len(rows) > limit else None)
