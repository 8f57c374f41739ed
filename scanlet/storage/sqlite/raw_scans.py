"""Raw scans: one row per scan event, for listing, CSV and export.

Filled in the analytics follower's transactions, next to the rollups. A row holds only what
listings filter and order by (code, orphan or not, time) and the event's position in the
log; a listing joins the log for the event itself and has the analytics context describe it
(derived facts are worked out when shown, so a better parser changes listings without a
rebuild). Copying every event into a wide row here cost the projection more than its
rollups.

The rows are copied from the log by one ``INSERT ... SELECT`` over the stretch a batch
covers, where the log's columns (type, slug, time) already say all a row holds: built in
Python and bound as parameters, they cost the catch-up 36.6k instructions a scan against
32.8k this way (``bench/catch_up.py``, both in one run), a text parameter alone about 800
(CPython's sqlite3 has SQLite copy every one). What is left of them is SQLite's: without
any raw rows the catch-up counted 24.7k, their two B-tree inserts a scan.

Pages use keyset pagination on (occurred_at, seq), so a deep page costs the same as the
first; streams fetch a bounded batch per reader borrow, so a slow CSV client never holds a
database connection while it reads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator

from scanlet.storage.cursors import decode_cursor, encode_cursor, seq_part, time_part
from scanlet.storage.records import (
    SCAN_ORPHANED,
    SCAN_RECORDED,
    RawScan,
    RawScanDescriber,
    RawScanPage,
    RawScanQuery,
)
from scanlet.storage.sqlite.database import Database

__all__ = ("RawScanStore",)

#: The scans of a stretch of the log as raw rows (a replay replaces them). The type test is
#: spelled out as two comparisons: an IN list costs SQLite a table built for each run.
_COPY_FROM_LOG = (
    "INSERT OR REPLACE INTO raw_scans (seq, slug, orphan, occurred_at)"
    f" SELECT seq, slug, type = '{SCAN_ORPHANED}', occurred_at FROM events"
    f" WHERE seq > ? AND seq <= ? AND (type = '{SCAN_RECORDED}' OR type = '{SCAN_ORPHANED}')"
)


def _where(query: RawScanQuery) -> tuple[list[str], list[object]]:
    where: list[str] = []
    params: list[object] = []
    if query.slug is not None:
        where += ["orphan = 0", "slug = ?"]
        params.append(query.slug)
    elif query.orphan:
        where.append("orphan = 1")
    if query.start is not None:
        where.append("occurred_at >= ?")
        params.append(query.start)
    if query.end is not None:
        where.append("occurred_at < ?")
        params.append(query.end)
    return where, params


class RawScanStore:
    """The ``raw_scans`` table; ``describe`` turns the events it points at into scans."""

    def __init__(self, db: Database, describe: RawScanDescriber) -> None:
        self._db = db
        self._describe = describe

    @staticmethod
    def copy_from_log(conn: sqlite3.Connection, after: int, upto: int, cutoff: str | None) -> None:
        """Store the log's scans with a seq past ``after`` up to ``upto`` (stored at or after
        ``cutoff``, unless None), within the caller's write transaction."""
        if cutoff is None:
            conn.execute(_COPY_FROM_LOG, (after, upto))
        else:
            conn.execute(f"{_COPY_FROM_LOG} AND occurred_at >= ?", (after, upto, cutoff))

    @staticmethod
    def reset(conn: sqlite3.Connection) -> None:
        """Delete every row (before a rebuild), within the caller's transaction."""
        conn.execute("DELETE FROM raw_scans")

    async def page(
        self, query: RawScanQuery, *, limit: int, cursor: str | None = None
    ) -> RawScanPage:
        """One page of matching scans, newest first."""
        where, params = _where(query)
        if cursor is not None:
            where.append("(occurred_at, seq) < (?, ?)")
            occurred_at, seq = decode_cursor(cursor, 2)
            params.extend((time_part(occurred_at), seq_part(seq)))
        rows = await self._select(where, params, "DESC", limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1] if more else None
        return RawScanPage(rows, encode_cursor(last.occurred_at, last.seq) if last else None)

    async def count(self, query: RawScanQuery) -> int:
        """How many scans match, counted on raw_scans' own indexes."""
        where, params = _where(query)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        row = await self._db.fetch_one(f"SELECT count(*) FROM raw_scans{clause}", params)
        return int(row[0]) if row else 0

    async def stream(
        self, query: RawScanQuery, *, newest_first: bool = True, batch: int = 1000
    ) -> AsyncIterator[list[RawScan]]:
        """Every matching scan in batches; a reader is borrowed per batch, not per stream."""
        order, compare = ("DESC", "<") if newest_first else ("ASC", ">")
        after: tuple[str, int] | None = None
        while True:
            where, params = _where(query)
            if after is not None:
                where.append(f"(occurred_at, seq) {compare} (?, ?)")
                params.extend(after)
            rows = await self._select(where, params, order, batch)
            if rows:
                yield rows
            if len(rows) < batch:
                return
            after = (rows[-1].occurred_at, rows[-1].seq)

    async def _select(
        self, where: list[str], params: list[object], order: str, limit: int
    ) -> list[RawScan]:
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        # The page is chosen on raw_scans' own indexes, then each row's event is fetched by
        # its seq (the log's primary key).
        sql = (
            "SELECT r.seq, r.occurred_at, e.payload FROM"
            f" (SELECT seq, occurred_at FROM raw_scans{clause}"
            f" ORDER BY occurred_at {order}, seq {order} LIMIT ?) AS r"
            f" JOIN events AS e ON e.seq = r.seq ORDER BY r.occurred_at {order}, r.seq {order}"
        )
        rows = await self._db.fetch_all(sql, [*params, limit])
        describe = self._describe
        return [describe(seq, occurred_at, payload) for seq, occurred_at, payload in rows]

    async def delete_before(self, cutoff: str, *, batch: int = 500) -> int:
        """Delete up to ``batch`` rows older than ``cutoff``; returns how many went."""

        def delete(conn: sqlite3.Connection) -> int:
            return conn.execute(
                "DELETE FROM raw_scans WHERE (occurred_at, seq) IN (SELECT occurred_at, seq"
                " FROM raw_scans WHERE occurred_at < ? ORDER BY occurred_at, seq LIMIT ?)",
                (cutoff, batch),
            ).rowcount

        return await self._db.write(delete)

    async def dump(self) -> list[tuple[object, ...]]:
        """Every row, by seq (for tests comparing a rebuild with the incremental path)."""
        return [
            tuple(row)
            for row in await self._db.fetch_all(
                "SELECT seq, slug, orphan, occurred_at FROM raw_scans ORDER BY seq"
            )
        ]
