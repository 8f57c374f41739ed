"""Follower positions on PostgreSQL: (xid, seq) pairs, checked under a row lock.

Several instances may run the same follower for a moment (a hand-over of leadership, or a
``scanlet rebuild`` beside a running server), so every batch checks, holding the position's
row lock, that the stored position is still the one it read from: only one of them
commits a given batch, and the other reloads and carries on from there.
"""

from __future__ import annotations

from scanlet.storage.ports import PositionMoved
from scanlet.storage.postgres.database import Connection, PgDatabase
from scanlet.storage.postgres.eventlog import join_position, split_position

__all__ = ("PositionStore",)


class PositionStore:
    """The ``follower_positions`` table."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def load(self, name: str) -> int:
        """The stored position of follower ``name`` (0 when it has never run)."""
        row = await self._db.fetchrow(
            "SELECT xid, seq FROM follower_positions WHERE name = $1", name
        )
        return join_position(row[0], row[1]) if row else 0

    @staticmethod
    async def claim(conn: Connection, name: str, expected: int) -> None:
        """Lock the position of ``name`` for the caller's transaction; ``PositionMoved``
        unless it is ``expected``.

        The row is made first if missing, so two first batches meet on its lock too (the
        second then finds it moved) instead of both passing an empty check."""
        await conn.execute(
            "INSERT INTO follower_positions (name, xid, seq) VALUES ($1, 0, 0)"
            " ON CONFLICT (name) DO NOTHING",
            name,
        )
        row = await conn.fetchrow(
            "SELECT xid, seq FROM follower_positions WHERE name = $1 FOR UPDATE", name
        )
        if row is None or join_position(row[0], row[1]) != expected:
            raise PositionMoved()

    @staticmethod
    async def save(conn: Connection, name: str, position: int) -> None:
        """Record ``position`` within the caller's transaction (after ``claim``)."""
        xid, seq = split_position(position)
        await conn.execute(
            "UPDATE follower_positions SET xid = $2, seq = $3 WHERE name = $1", name, xid, seq
        )

    @staticmethod
    async def reset(conn: Connection, name: str) -> None:
        """Forget a follower's position (before a rebuild), within the caller's transaction."""
        await conn.execute("DELETE FROM follower_positions WHERE name = $1", name)
