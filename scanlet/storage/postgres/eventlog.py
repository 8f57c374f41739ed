"""The event log on PostgreSQL: appended by several instances at once, read in commit order.

A seq alone cannot order the log: two instances take seqs 10 and 11, the one with 11
commits first, and a reader that has passed 11 never goes back for 10. So every event keeps
the id of the transaction that wrote it (``xid``), and the log is read by (xid, seq), only
up to the oldest transaction still running (the snapshot's ``xmin``). A transaction older
than that fence has ended (committed, or rolled back and left nothing); a younger one, still
running or not, sorts after everything a reader has read. So a reader never skips an
event, and never meets one that sorts before what it applied. The cost: while a write
transaction anywhere in the PostgreSQL cluster stays open, readers wait at it; Scanlet's
own transactions last milliseconds.

A position is the pair as one integer, ``xid << 64 | seq``, and 0 is before everything.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from scanlet.storage.postgres.database import Connection, PgDatabase, note_append
from scanlet.storage.records import NewEvent, StoredEvent
from scanlet.storage.timefmt import format_time

#: The code events' types as the history's partial index names them (migration 0003).
CODE_TYPES_SQL = "('code.created', 'code.updated', 'code.deleted')"

__all__ = ("EventLog", "join_position", "split_position")

_SEQ_BITS = 64
_SEQ_MASK = (1 << _SEQ_BITS) - 1
#: The fence, in the reading statement's own snapshot: the oldest transaction of this
#: database still running, else the snapshot's xmax. Every transaction older than it has
#: ended. Transactions of other databases in the same PostgreSQL cluster share the xid
#: space and the snapshot's xip list, but cannot write this log: leaving them out keeps a
#: long transaction elsewhere (a dump, an idle session, another application) from stalling
#: every follower here. A transaction is left out only while pg_stat_activity shows it in
#: another database; one that ended meanwhile stays in, which can only hold the fence back.
LOG_FENCE = (
    "(SELECT COALESCE(min(x::text::bigint),"
    " pg_snapshot_xmax(pg_current_snapshot())::text::bigint)"
    " FROM pg_snapshot_xip(pg_current_snapshot()) AS x"
    " WHERE x::text::bigint % 4294967296 NOT IN ("
    "SELECT backend_xid::text::bigint FROM pg_stat_activity"
    " WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database()))"
)
_COLUMNS = "seq, id, type, slug, occurred_at, recorded_at, payload, xid"


def join_position(xid: int, seq: int) -> int:
    """The position of the event (``xid``, ``seq``)."""
    return (xid << _SEQ_BITS) | seq


def split_position(position: int) -> tuple[int, int]:
    """A position as its (xid, seq) pair."""
    return position >> _SEQ_BITS, position & _SEQ_MASK


def _stored(row: asyncpg.Record) -> StoredEvent:
    return StoredEvent(
        row[0], row[1], row[2], row[3], row[4], row[5], bytes(row[6]), join_position(row[7], row[0])
    )


class EventLog:
    """The ``events`` table."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def append(self, entries: Sequence[NewEvent], recorded_at: datetime) -> int:
        """Append ``entries`` in a transaction of their own; the last one's seq."""
        stamp = format_time(recorded_at)

        async def store(conn: Connection) -> int:
            return await EventLog.add(conn, entries, stamp)

        return await self._db.write(store)

    @staticmethod
    async def add(conn: Connection, events: Sequence[NewEvent], recorded_at: str) -> int:
        """Append ``events`` within the caller's transaction, in order; the last seq.

        One statement whatever the batch size: the columns go as arrays and ``unnest``
        makes the rows (the seqs are drawn in the arrays' order)."""
        seq = await conn.fetchval(
            "WITH added AS (INSERT INTO events (id, type, slug, occurred_at, recorded_at, payload)"
            " SELECT e.id, e.type, e.slug, e.occurred_at, $5, e.payload FROM unnest("
            "$1::text[], $2::text[], $3::text[], $4::text[], $6::bytea[])"
            " WITH ORDINALITY AS e(id, type, slug, occurred_at, payload, n) ORDER BY e.n"
            " RETURNING seq) SELECT max(seq) FROM added",
            [e.id for e in events],
            [e.type for e in events],
            [e.slug for e in events],
            [e.occurred_at for e in events],
            recorded_at,
            [e.payload for e in events],
        )
        note_append()
        return int(seq)

    async def read_after(
        self, position: int, limit: int, *, types: Sequence[str] | None = None
    ) -> list[StoredEvent]:
        """Up to ``limit`` events past ``position`` in commit order, up to the fence."""
        xid, seq = split_position(position)
        sql = f"SELECT {_COLUMNS} FROM events WHERE (xid, seq) > ($1, $2) AND xid < {LOG_FENCE}"
        args: list[object] = [xid, seq]
        if types is not None:
            for family in ("code.", "domain."):
                if all(t.startswith(family) for t in types):
                    # Lets the planner use the family's partial index (events_code_changes,
                    # events_domain_changes).
                    sql += f" AND type LIKE '{family}%'"
            sql += " AND type = ANY($3::text[])"
            args.append(list(types))
        sql += f" ORDER BY xid, seq LIMIT ${len(args) + 1}"
        rows = await self._db.fetch(sql, *args, limit)
        return [_stored(row) for row in rows]

    async def last_seq(self) -> int:
        """The highest seq committed (0 for an empty log)."""
        return int(await self._db.fetchval("SELECT COALESCE(max(seq), 0) FROM events"))

    async def last_position(self) -> int:
        """The fence as a position: every event before it has been committed (or never
        will be), so a reader placed here has seen the whole log so far."""
        return join_position(int(await self._db.fetchval(f"SELECT {LOG_FENCE}")), 0)

    async def code_history(
        self, slug: str, *, limit: int, before: int | None = None
    ) -> list[StoredEvent]:
        """The code events of ``slug``, newest first, with seqs below ``before``."""
        rows = await self._db.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE slug = $1 AND type IN {CODE_TYPES_SQL}"
            " AND seq < $2 ORDER BY seq DESC LIMIT $3",
            slug,
            before if before is not None else 2**63 - 1,
            limit,
        )
        return [_stored(row) for row in rows]

    def seq_at(self, position: int) -> int:
        """The seq half of the (xid, seq) pair."""
        return split_position(position)[1]

    async def position_of(self, seq: int) -> int | None:
        """The position of the event ``seq``, or None when there is none."""
        xid = await self._db.fetchval("SELECT xid FROM events WHERE seq = $1", seq)
        return None if xid is None else join_position(int(xid), seq)

    async def lag(self, position: int) -> int:
        """About how many events lie past ``position``: the seqs drawn since the last event
        before it (seqs are nearly in commit order; two index probes, whatever the lag)."""
        xid, seq = split_position(position)
        row = await self._db.fetchrow(
            "SELECT (SELECT COALESCE(max(seq), 0) FROM events),"
            " (SELECT seq FROM events WHERE (xid, seq) <= ($1, $2)"
            " ORDER BY xid DESC, seq DESC LIMIT 1)",
            xid,
            seq,
        )
        assert row is not None
        return max(0, int(row[0]) - int(row[1] or 0))
