"""Raw scans on PostgreSQL: keys for listing, export and retention (see the SQLite adapter
for the design: a narrow row per scan, copied from the log in the projection's transaction,
the event read from the log when listed)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from scanlet.storage.cursors import decode_cursor, encode_cursor, seq_part, time_part
from scanlet.storage.postgres.database import Connection, PgDatabase, numbered
from scanlet.storage.postgres.eventlog import split_position
from scanlet.storage.records import (
    SCAN_ORPHANED,
    SCAN_RECORDED,
    RawScan,
    RawScanDescriber,
    RawScanPage,
    RawScanQuery,
)

__all__ = ("RawScanStore",)


def _where(query: RawScanQuery) -> tuple[list[str], list[object]]:
    where: list[str] = []
    params: list[object] = []
    if query.slug is not None:
        where += ["NOT orphan", "slug = ?"]
        params.append(query.slug)
    elif query.orphan:
        where.append("orphan")
    if query.start is not None:
        where.append("occurred_at >= ?")
        params.append(query.start)
    if query.end is not None:
        where.append("occurred_at < ?")
        params.append(query.end)
    return where, params


class RawScanStore:
    """The ``raw_scans`` table; ``describe`` turns the events it points at into scans."""

    def __init__(self, db: PgDatabase, describe: RawScanDescriber) -> None:
        self._db = db
        self._describe = describe

    @staticmethod
    async def copy_from_log(conn: Connection, after: int, upto: int, cutoff: str | None) -> None:
        """Store the log's scans at positions past ``after`` up to ``upto`` (stored at or
        after ``cutoff``, unless None), within the caller's transaction (a replay replaces
        rows)."""
        # (xid, seq) pairs compared as rows: the log's commit-order index serves the range.
        await conn.execute(
            "INSERT INTO raw_scans (seq, slug, orphan, occurred_at)"
            f" SELECT seq, slug, type = '{SCAN_ORPHANED}', occurred_at FROM events"
            " WHERE (xid, seq) > ($1, $2) AND (xid, seq) <= ($3, $4)"
            f" AND type IN ('{SCAN_RECORDED}', '{SCAN_ORPHANED}')"
            " AND ($5::text IS NULL OR occurred_at >= $5)"
            " ON CONFLICT (occurred_at, seq) DO UPDATE SET slug = excluded.slug,"
            " orphan = excluded.orphan",
            *split_position(after),
            *split_position(upto),
            cutoff,
        )

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
        found = await self._db.fetchval(
            numbered(f"SELECT count(*) FROM raw_scans{clause}"), *params
        )
        return int(found)

    async def stream(
        self, query: RawScanQuery, *, newest_first: bool = True, batch: int = 1000
    ) -> AsyncIterator[list[RawScan]]:
        """Every matching scan in batches; a connection is borrowed per batch."""
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
        sql = (
            "SELECT r.seq, r.occurred_at, e.payload FROM"
            f" (SELECT seq, occurred_at FROM raw_scans{clause}"
            f" ORDER BY occurred_at {order}, seq {order} LIMIT ?) AS r"
            f" JOIN events AS e ON e.seq = r.seq ORDER BY r.occurred_at {order}, r.seq {order}"
        )
        rows = await self._db.fetch(numbered(sql), *params, limit)
        describe = self._describe
        return [describe(seq, occurred_at, bytes(payload)) for seq, occurred_at, payload in rows]

    async def delete_before(self, cutoff: str, *, batch: int = 500) -> int:
        """Delete up to ``batch`` rows older than ``cutoff``; returns how many went."""

        async def delete(conn: Connection) -> int:
            status = await conn.execute(
                "DELETE FROM raw_scans WHERE (occurred_at, seq) IN (SELECT occurred_at, seq"
                " FROM raw_scans WHERE occurred_at < $1 ORDER BY occurred_at, seq LIMIT $2)",
                cutoff,
                batch,
            )
            return int(status.rsplit(" ", 1)[1])

        return await self._db.write(delete)

    async def dump(self) -> list[tuple[object, ...]]:
        """Every row, by seq (tests compare a rebuild with the incremental path)."""
        rows = await self._db.fetch(
            "SELECT seq, slug, orphan::int, occurred_at FROM raw_scans ORDER BY seq"
        )
        return [tuple(row.values()) for row in rows]
