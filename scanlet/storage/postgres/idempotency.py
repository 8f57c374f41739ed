"""The ``idempotency_keys`` table on PostgreSQL: answers kept by idempotency key.

Two instances claiming one key at once: the row lock of the upsert makes one wait for the
other's commit, then see its claim."""

from __future__ import annotations

from datetime import datetime, timedelta

from scanlet.storage.postgres.database import Connection, PgDatabase
from scanlet.storage.records import IdempotentReply
from scanlet.storage.timefmt import format_time

__all__ = ("IdempotencyStore",)


class IdempotencyStore:
    """The ``IdempotencyRepository`` port on PostgreSQL."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def begin(
        self, key: str, fingerprint: str, now: datetime, *, keep: timedelta, stale: timedelta
    ) -> IdempotentReply | None:
        """Claim ``key`` (None) or what is stored under it, in one transaction."""

        async def claim(conn: Connection) -> IdempotentReply | None:
            await conn.execute(
                "DELETE FROM idempotency_keys WHERE created_at < $1", format_time(now - keep)
            )
            # Claimed when new, or taken over when its claim went stale unanswered.
            claimed = await conn.fetchval(
                "INSERT INTO idempotency_keys (key, fingerprint, status, body, created_at)"
                " VALUES ($1, $2, NULL, NULL, $3)"
                " ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint,"
                " created_at = excluded.created_at"
                " WHERE idempotency_keys.status IS NULL AND idempotency_keys.created_at < $4"
                " RETURNING 1",
                key,
                fingerprint,
                format_time(now),
                format_time(now - stale),
            )
            if claimed is not None:
                return None
            row = await conn.fetchrow(
                "SELECT fingerprint, status, body FROM idempotency_keys WHERE key = $1", key
            )
            assert row is not None
            return IdempotentReply(row[0], row[1], None if row[2] is None else bytes(row[2]))

        return await self._db.write(claim)

    async def finish(self, key: str, status: int, body: bytes) -> None:
        """Store the answer."""

        async def store(conn: Connection) -> None:
            await conn.execute(
                "UPDATE idempotency_keys SET status = $2, body = $3 WHERE key = $1",
                key,
                status,
                body,
            )

        await self._db.write(store)

    async def release(self, key: str) -> None:
        """Forget an unanswered claim."""

        async def forget(conn: Connection) -> None:
            await conn.execute(
                "DELETE FROM idempotency_keys WHERE key = $1 AND status IS NULL", key
            )

        await self._db.write(forget)
