"""The ``idempotency_keys`` table: answers kept by idempotency key."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from scanlet.storage.records import IdempotentReply
from scanlet.storage.sqlite.database import Database
from scanlet.storage.timefmt import format_time

__all__ = ("IdempotencyStore",)


class IdempotencyStore:
    """The ``IdempotencyRepository`` port on SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def begin(
        self, key: str, fingerprint: str, now: datetime, *, keep: timedelta, stale: timedelta
    ) -> IdempotentReply | None:
        """Claim ``key`` (None) or what is stored under it, in one write transaction."""
        stamp = format_time(now)

        def claim(conn: sqlite3.Connection) -> IdempotentReply | None:
            conn.execute(
                "DELETE FROM idempotency_keys WHERE created_at < ?", (format_time(now - keep),)
            )
            row = conn.execute(
                "SELECT fingerprint, status, body, created_at FROM idempotency_keys WHERE key = ?",
                (key,),
            ).fetchone()
            if row is not None and (row[1] is not None or row[3] >= format_time(now - stale)):
                return IdempotentReply(row[0], row[1], None if row[2] is None else bytes(row[2]))
            conn.execute(
                "INSERT OR REPLACE INTO idempotency_keys (key, fingerprint, status, body,"
                " created_at) VALUES (?, ?, NULL, NULL, ?)",
                (key, fingerprint, stamp),
            )
            return None

        return await self._db.write(claim)

    async def finish(self, key: str, status: int, body: bytes) -> None:
        """Store the answer."""
        await self._db.write(
            lambda conn: conn.execute(
                "UPDATE idempotency_keys SET status = ?, body = ? WHERE key = ?",
                (status, body, key),
            )
        )

    async def release(self, key: str) -> None:
        """Forget an unanswered claim."""
        await self._db.write(
            lambda conn: conn.execute(
                "DELETE FROM idempotency_keys WHERE key = ? AND status IS NULL", (key,)
            )
        )
