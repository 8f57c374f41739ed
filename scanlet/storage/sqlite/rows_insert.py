"""Many rows in one INSERT: what the log and the raw scans append per commit.

``executemany`` runs its statement once per row, and CPython's sqlite3 pays for each run
(reset, bindings cleared, the GIL released and taken back around the step): 64 log rows
cost 10.5 us a row that way against 6.0 us as one ``INSERT ... VALUES (...), (...)``
(measured here inside a transaction). SQLite inserts the listed rows in order, so rowids
(the log's seqs) still follow the rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from itertools import chain
from typing import Any

__all__ = ("CHUNK_ROWS", "RowsInsert")

#: Rows in one statement at most: every size up to it is a statement of its own in the
#: connection's cache (the writer keeps room for them), and 64 rows of 6 values stay far
#: below SQLite's limit on parameters.
CHUNK_ROWS = 64


class RowsInsert:
    """``head`` (``INSERT INTO t (a, b) VALUES``, or with ``OR REPLACE``) for rows of
    ``width`` values, then ``tail`` (an ``ON CONFLICT`` or ``RETURNING`` clause), up to
    ``chunk`` rows a statement; the statement texts made from it, one per number of rows."""

    __slots__ = ("_chunk", "_head", "_row", "_tail", "_texts")

    def __init__(self, head: str, width: int, tail: str = "", chunk: int = CHUNK_ROWS) -> None:
        self._head = head
        self._row = "(" + ", ".join("?" * width) + ")"
        self._tail = f" {tail}" if tail else ""
        self._chunk = chunk
        self._texts: dict[int, str] = {}

    def _text(self, rows: int) -> str:
        text = self._texts.get(rows)
        if text is None:
            values = ", ".join([self._row] * rows)
            text = self._texts[rows] = f"{self._head} {values}{self._tail}"
        return text

    def __call__(self, conn: sqlite3.Connection, rows: Sequence[tuple[object, ...]]) -> None:
        """Insert ``rows``, in order, within the caller's transaction."""
        self.returning(conn, rows)

    def returning(
        self, conn: sqlite3.Connection, rows: Sequence[tuple[object, ...]]
    ) -> list[tuple[Any, ...]]:
        """Insert ``rows`` as ``self(conn, rows)`` does; the rows a ``RETURNING`` tail
        returned (none without one)."""
        found: list[tuple[Any, ...]] = []
        size = self._chunk
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            found.extend(conn.execute(self._text(len(chunk)), list(chain.from_iterable(chunk))))
        return found
