"""Follower positions: the last event-log seq each follower has applied."""

from __future__ import annotations

import sqlite3

from scanlet.storage.ports import PositionMoved
from scanlet.storage.sqlite.database import Database

__all__ = ("PositionStore",)


class PositionStore:
    """The ``follower_positions`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self, name: str) -> int:
        """The last applied seq of follower ``name`` (0 when it has never run)."""
        row = await self._db.fetch_one("SELECT seq FROM follower_positions WHERE name = ?", (name,))
        return int(row[0]) if row else 0

    @staticmethod
    def stored(conn: sqlite3.Connection, name: str) -> int:
        """The position of ``name`` as the caller's transaction sees it."""
        row = conn.execute("SELECT seq FROM follower_positions WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    @staticmethod
    def save(conn: sqlite3.Connection, name: str, seq: int) -> None:
        """Record ``seq`` within the caller's write transaction (with the work it covers)."""
        conn.execute(
            "INSERT INTO follower_positions (name, seq) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
            (name, seq),
        )

    @staticmethod
    def move(conn: sqlite3.Connection, name: str, expected: int, seq: int) -> None:
        """Move ``name`` from ``expected`` to ``seq`` within the caller's write transaction;
        ``PositionMoved`` (nothing changed) if it is elsewhere.

        One statement where the row is there (every batch but a follower's first): the check
        and the save as two cost a catch-up a statement more."""
        if conn.execute(
            "UPDATE follower_positions SET seq = ? WHERE name = ? AND seq = ?",
            (seq, name, expected),
        ).rowcount:
            return
        if PositionStore.stored(conn, name) != expected:
            raise PositionMoved()
        PositionStore.save(conn, name, seq)

    @staticmethod
    def reset(conn: sqlite3.Connection, name: str) -> None:
        """Forget a follower's position (before a rebuild), within the caller's transaction."""
        conn.execute("DELETE FROM follower_positions WHERE name = ?", (name,))
