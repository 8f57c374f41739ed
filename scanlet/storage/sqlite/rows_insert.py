"""Many rows in one INSERT: what the log and the raw scans append per commit.

``executemany`` runs its statement once per row, and CPython's sqlite3 pays for each run
(reset, bindings cleared, the GIL released and taken back around the step): 64 log rows
cost 10.5 us a row that way against 6.0 us as one ``INSERT ... VALUES (...), (...)``
(measured here inside a transaction). SQLite inserts the listed rows in order, so rowids
(the log's seqs) still follow the rows.

A value every row of a call has in common (the log's recorded-at time) can be bound once
and named by each row: CPython's sqlite3 has SQLite copy every text parameter it binds
(about 800 instructions one). With the log's recorded-at time shared, and its values handed
over flat (``flat``), recording a scan counted 38.9k instructions against 40.0k before
(``bench/catch_up.py``, two runs; its counts repeat within 1.5 %).
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
    ``chunk`` rows a statement; the statement texts made from it, one per number of rows.

    ``shared`` names the columns (indexes among the ``width``) whose value every row of a
    call shares: a call passes those values once, as ``shared``, and rows without them."""

    __slots__ = ("_chunk", "_head", "_shared", "_tail", "_texts", "_width")

    def __init__(
        self,
        head: str,
        width: int,
        tail: str = "",
        chunk: int = CHUNK_ROWS,
        shared: Sequence[int] = (),
    ) -> None:
        if not set(shared) <= set(range(width)) or len(set(shared)) != len(shared):
            raise ValueError(f"shared columns {shared} are not distinct columns of {width}")
        self._head = head
        self._width = width
        self._shared = tuple(shared)
        self._tail = f" {tail}" if tail else ""
        self._chunk = chunk
        self._texts: dict[int, str] = {}

    def _text(self, rows: int) -> str:
        text = self._texts.get(rows)
        if text is None:
            text = self._texts[rows] = f"{self._head} {self._values(rows)}{self._tail}"
        return text

    def _values(self, rows: int) -> str:
        if not self._shared:
            row = "(" + ", ".join("?" * self._width) + ")"
            return ", ".join([row] * rows)
        # Numbered: the shared values are ?1 to ?k, each row's own follow in order.
        own = self._width - len(self._shared)
        numbers = iter(range(len(self._shared) + 1, len(self._shared) + 1 + own * rows))
        shared = {column: index + 1 for index, column in enumerate(self._shared)}
        return ", ".join(
            "("
            + ", ".join(f"?{shared.get(column) or next(numbers)}" for column in range(self._width))
            + ")"
            for _ in range(rows)
        )

    def __call__(
        self,
        conn: sqlite3.Connection,
        rows: Sequence[tuple[object, ...]],
        shared: Sequence[object] = (),
    ) -> None:
        """Insert ``rows``, in order, within the caller's transaction."""
        self.returning(conn, rows, shared)

    def returning(
        self,
        conn: sqlite3.Connection,
        rows: Sequence[tuple[object, ...]],
        shared: Sequence[object] = (),
    ) -> list[tuple[Any, ...]]:
        """Insert ``rows`` as ``self(conn, rows, shared)`` does; the rows a ``RETURNING``
        tail returned (none without one)."""
        return self.flat(conn, list(chain.from_iterable(rows)), shared)

    def flat(
        self, conn: sqlite3.Connection, values: list[object], shared: Sequence[object] = ()
    ) -> list[tuple[Any, ...]]:
        """``returning`` of rows given one after another in ``values`` (each row's own
        values, without the shared ones): a caller that makes the values anyway spares
        a tuple a row."""
        if len(shared) != len(self._shared):
            raise ValueError(f"{len(self._shared)} shared values wanted, {len(shared)} given")
        own = self._width - len(self._shared)
        if len(values) % own:
            raise ValueError(f"{len(values)} values are no whole number of rows of {own}")
        found: list[tuple[Any, ...]] = []
        step = self._chunk * own
        for start in range(0, len(values), step):
            chunk = values[start : start + step]
            params = [*shared, *chunk] if shared else chunk
            found.extend(conn.execute(self._text(len(chunk) // own), params))
        return found
