"""The event log: append domain events inside a write transaction, read them back by seq.

Storage knows events only as (id, type, slug, times, payload bytes); typing them is the
business of the contexts that publish and follow them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from scanlet.storage.records import NewEvent, StoredEvent
from scanlet.storage.sqlite.database import Database
from scanlet.storage.sqlite.recent import RecentAppends
from scanlet.storage.sqlite.rows_insert import RowsInsert
from scanlet.storage.timefmt import format_time

__all__ = ("EventLog",)


_SELECT = "SELECT seq, id, type, slug, occurred_at, recorded_at, payload FROM events"
#: The commit's recorded-at time is bound once, for every row (see ``RowsInsert``).
_insert_events = RowsInsert(
    "INSERT INTO events (id, type, slug, occurred_at, recorded_at, payload) VALUES",
    6,
    shared=(4,),
)
_NEWEST = "SELECT COALESCE(MAX(seq), 0) FROM events"


def _family(prefix: str) -> str:
    """The predicate of the partial index of the events whose type begins with ``prefix``
    (a family ending in '.'; migration 0020): every type from the prefix up to, not
    including, the prefix with its '.' made '/', the next byte."""
    return f"type >= '{prefix}' AND type < '{prefix[:-1]}/'"


#: The families of events with a partial index of their own (migrations 0011, 0013, 0020),
#: and its predicate, which a query repeats in literal text: the only way SQLite uses it.
_INDEXED_FAMILIES = {prefix: _family(prefix) for prefix in ("code.", "domain.")}
#: A code's history, newest first, through its partial index (events_code_history). The code
#: family is exactly the code event types (a test keeps it so).
_HISTORY = (
    f"{_SELECT} WHERE slug = ? AND {_INDEXED_FAMILIES['code.']} AND seq < ?"
    " ORDER BY seq DESC LIMIT ?"
)


def _stored(row: aiosqlite.Row | tuple[Any, ...]) -> StoredEvent:
    # One writer commits in seq order, so a seq is also the event's position in the log.
    return StoredEvent(row[0], row[1], row[2], row[3], row[4], row[5], bytes(row[6]), row[0])


class EventLog:
    """The ``events`` table; reads past a position that ``recent`` holds start from memory."""

    def __init__(self, db: Database, recent: RecentAppends | None = None) -> None:
        self._db = db
        self._recent = recent if recent is not None else RecentAppends()

    async def append(self, entries: Sequence[NewEvent], recorded_at: datetime) -> int:
        """Append ``entries`` in a transaction of their own; the last one's seq."""
        stamp = format_time(recorded_at)
        return await self._db.write(lambda conn: EventLog.add(conn, entries, stamp))

    @staticmethod
    def add(conn: sqlite3.Connection, events: Sequence[NewEvent], recorded_at: str) -> int:
        """Append ``events`` within the caller's write transaction; returns the last seq."""
        # The payload as a bytearray: CPython 3.11's sqlite3 binds str, int, float and
        # bytearray parameters as they are, but looks bytes up among its adapters first, and
        # the miss raises and clears an AttributeError (a row with a bytes and a None
        # parameter, 4.9 us; with a bytearray and a str, 2.9-3.1 us). Stored as the same BLOB.
        values: list[object] = []
        for e in events:
            values += (e.id, e.type, e.slug, e.occurred_at, bytearray(e.payload))
        _insert_events.flat(conn, values, (recorded_at,))
        row = conn.execute("SELECT last_insert_rowid()").fetchone()
        return int(row[0])

    async def read_after(
        self, position: int, limit: int, *, types: Sequence[str] | None = None
    ) -> list[StoredEvent]:
        """Up to ``limit`` events past ``position`` (here, a seq), in log order.

        Read on the event loop (``Database.read_now``): the newest rows are in SQLite's
        cache, so this takes microseconds, while a reader thread would cost a hop that waits
        for the GIL whenever the loop is busy (a fifth of the server's time under redirect
        load, when the followers read that way). The newest scans come from memory
        (``RecentAppends``) before that."""
        if types is None:
            # The newest commits are in memory (recent.py); the log gives what they lack.
            found = self._recent.after(position, limit)
            if found:
                if len(found) < limit:
                    found += self._read(found[-1].seq, limit - len(found), None)
                return found
        return self._read(position, limit, types)

    def _read(self, seq: int, limit: int, types: Sequence[str] | None) -> list[StoredEvent]:
        """``read_after`` from the table itself."""
        sql, params = self._query(seq, limit, types)
        return self._db.read_now(
            lambda conn: [_stored(row) for row in conn.execute(sql, params).fetchall()]
        )

    @staticmethod
    def _query(seq: int, limit: int, types: Sequence[str] | None) -> tuple[str, list[object]]:
        sql = f"{_SELECT} WHERE seq > ?"
        params: list[object] = [seq]
        if types:
            for family, predicate in _INDEXED_FAMILIES.items():
                if all(t.startswith(family) for t in types):
                    # The very predicate of the family's partial index (events_code_changes,
                    # events_domain_changes): SQLite uses it only for a query that says so
                    # in literal text, not through parameters.
                    sql += f" AND {predicate}"
            sql += f" AND type IN ({','.join('?' * len(types))})"
            params.extend(types)
        sql += " ORDER BY seq LIMIT ?"
        params.append(limit)
        return sql, params

    async def last_seq(self) -> int:
        """The seq of the newest event (0 for an empty log), read on the loop."""
        return self._db.read_now(EventLog.newest_seq)

    async def last_position(self) -> int:
        """The position of the newest event (its seq, here)."""
        return self._db.read_now(EventLog.newest_seq)

    async def lag(self, position: int) -> int:
        """Committed events past ``position`` (seqs are dense but for rolled-back gaps)."""
        return max(0, self._db.read_now(EventLog.newest_seq) - position)

    async def code_history(
        self, slug: str, *, limit: int, before: int | None = None
    ) -> list[StoredEvent]:
        """The code events of ``slug``, newest first, with seqs below ``before``."""
        params = (slug, before if before is not None else 2**63 - 1, limit)
        return [_stored(row) for row in await self._db.fetch_all(_HISTORY, params)]

    def seq_at(self, position: int) -> int:
        """The seq itself: positions are seqs here."""
        return position

    async def position_of(self, seq: int) -> int | None:
        """The position just after the event ``seq``: the seq itself, here, whether or not
        an event has it (a rolled-back write can leave a gap)."""
        return seq

    @staticmethod
    def newest_seq(conn: sqlite3.Connection) -> int:
        """``last_seq`` on a connection of the caller's (inside its transaction, or through
        ``Database.read_now``)."""
        row = conn.execute(_NEWEST).fetchone()
        return int(row[0])
