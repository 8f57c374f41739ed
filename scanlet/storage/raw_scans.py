"""Raw scans: one row per scan event with its derived facts, for listing, CSV and export.

Filled by the analytics follower next to the rollups. Pages use keyset pagination on
(occurred_at, seq), so a deep page costs the same as the first; streams fetch a bounded batch
per reader borrow, so a slow CSV client never holds a database connection while it reads.
"""

from __future__ import annotations

import base64
import binascii
import sqlite3
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

import aiosqlite
import msgspec

from scanlet.storage.analytics import ScanFact
from scanlet.storage.codes import InvalidCursor
from scanlet.storage.database import Database
from scanlet.storage.timefmt import parse_time

__all__ = ("RawScan", "RawScanPage", "RawScanQuery", "RawScanReadModel", "RawScanStore")

_COLUMNS = (
    "seq, id, slug, orphan, occurred_at, source, ip, visitor, user_agent, referrer,"
    " referrer_host, country, device, os, browser, bot, device_id, data"
)
_data_decoder = msgspec.json.Decoder(dict[str, Any])


class RawScan(msgspec.Struct, frozen=True, kw_only=True):
    """One stored scan as the API and the export show it."""

    seq: int
    id: str
    slug: str
    orphan: bool
    occurred_at: str
    source: str
    ip: str | None
    visitor: str | None
    user_agent: str | None
    referrer: str | None
    referrer_host: str | None
    country: str | None
    device: str
    os: str
    browser: str
    bot: bool
    device_id: str | None
    data: dict[str, Any] | None


class RawScanPage(msgspec.Struct, frozen=True):
    """A page of scans, newest first, and the cursor of the next page (None at the end)."""

    items: list[RawScan]
    next_cursor: str | None


class RawScanQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Which scans: one code's (``slug``), orphans (``orphan``), or all (neither); a time
    range [start, end) as stored time text."""

    slug: str | None = None
    orphan: bool = False
    start: str | None = None
    end: str | None = None


class RawScanReadModel(Protocol):
    """What the scans API and the export need from a raw-scan store."""

    async def page(
        self, query: RawScanQuery, *, limit: int, cursor: str | None = None
    ) -> RawScanPage:
        """One page, newest first."""
        ...

    def stream(
        self, query: RawScanQuery, *, newest_first: bool = True, batch: int = 1000
    ) -> AsyncIterator[list[RawScan]]:
        """Every matching scan, in batches."""
        ...


def _row(row: aiosqlite.Row | tuple[Any, ...]) -> RawScan:
    return RawScan(
        seq=row[0],
        id=row[1],
        slug=row[2],
        orphan=bool(row[3]),
        occurred_at=row[4],
        source=row[5],
        ip=row[6],
        visitor=row[7],
        user_agent=row[8],
        referrer=row[9],
        referrer_host=row[10],
        country=row[11],
        device=row[12],
        os=row[13],
        browser=row[14],
        bot=bool(row[15]),
        device_id=row[16],
        data=_data_decoder.decode(row[17]) if row[17] is not None else None,
    )


def encode_cursor(occurred_at: str, seq: int) -> str:
    """An opaque cursor pointing just past (occurred_at, seq)."""
    return base64.urlsafe_b64encode(f"{occurred_at}|{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    """The (occurred_at, seq) a cursor points past; InvalidCursor if it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        occurred_at, sep, seq = raw.partition("|")
        if not sep or not seq.isdigit():
            raise InvalidCursor()
        parse_time(occurred_at)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor() from None
    return occurred_at, int(seq)


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
    """The ``raw_scans`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    def insert(conn: sqlite3.Connection, facts: Sequence[ScanFact]) -> None:
        """Store ``facts`` within the caller's write transaction (a replay replaces rows)."""
        conn.executemany(
            f"INSERT OR REPLACE INTO raw_scans ({_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    f.seq,
                    f.id,
                    f.slug,
                    int(f.orphan),
                    f.occurred_at,
                    f.source,
                    f.ip,
                    f.visitor,
                    f.user_agent,
                    f.referrer,
                    f.referrer_host,
                    f.country,
                    f.device,
                    f.os,
                    f.browser,
                    int(f.bot),
                    f.device_id,
                    f.data,
                )
                for f in facts
            ],
        )

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
            params.extend(decode_cursor(cursor))
        rows = await self._select(where, params, "DESC", limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1] if more else None
        return RawScanPage(rows, encode_cursor(last.occurred_at, last.seq) if last else None)

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
        sql = (
            f"SELECT {_COLUMNS} FROM raw_scans{clause}"
            f" ORDER BY occurred_at {order}, seq {order} LIMIT ?"
        )
        async with self._db.reader() as conn, conn.execute(sql, [*params, limit]) as cur:
            return [_row(row) for row in await cur.fetchall()]

    async def delete_before(self, cutoff: str, *, batch: int = 500) -> int:
        """Delete up to ``batch`` rows older than ``cutoff``; returns how many went."""

        def delete(conn: sqlite3.Connection) -> int:
            return conn.execute(
                "DELETE FROM raw_scans WHERE seq IN (SELECT seq FROM raw_scans"
                " WHERE occurred_at < ? ORDER BY occurred_at LIMIT ?)",
                (cutoff, batch),
            ).rowcount

        return await self._db.write(delete)

    async def dump(self) -> list[tuple[object, ...]]:
        """Every row, by seq (for tests comparing a rebuild with the incremental path)."""
        async with (
            self._db.reader() as conn,
            conn.execute(f"SELECT {_COLUMNS} FROM raw_scans ORDER BY seq") as cur,
        ):
            return [tuple(row) for row in await cur.fetchall()]
