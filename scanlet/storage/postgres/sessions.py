"""Dashboard sessions in PostgreSQL's ``dashboard_sessions`` (the rules: ``storage.sessions``)."""

from __future__ import annotations

from datetime import timedelta

from scanlet.storage.postgres.database import Connection, PgDatabase
from scanlet.storage.sessions import SessionRow, SessionRules

__all__ = ("SessionStore",)


class SessionStore(SessionRules):
    """Sessions in ``dashboard_sessions``, lasting ``max_age`` at most and ``idle`` unused."""

    def __init__(self, db: PgDatabase, *, max_age: timedelta, idle: timedelta) -> None:
        super().__init__(max_age=max_age, idle=idle)
        self._db = db

    async def _insert(self, digest: bytes, row: SessionRow, *, idle_since: str) -> None:
        async def insert(conn: Connection) -> None:
            await conn.execute(
                "DELETE FROM dashboard_sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
                row.created_at,
                idle_since,
            )
            await conn.execute(
                "INSERT INTO dashboard_sessions"
                " (token_hash, key_id, user_id, created_at, last_seen_at, expires_at)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                digest,
                *row,
            )

        await self._db.write(insert)

    async def _select(self, digest: bytes) -> SessionRow | None:
        row = await self._db.fetchrow(
            "SELECT key_id, user_id, created_at, last_seen_at, expires_at"
            " FROM dashboard_sessions"
            " WHERE token_hash = $1",
            digest,
        )
        return None if row is None else SessionRow(*row)

    async def _touch(self, digest: bytes, seen: str) -> None:
        async def touch(conn: Connection) -> None:
            await conn.execute(
                "UPDATE dashboard_sessions SET last_seen_at = $2 WHERE token_hash = $1",
                digest,
                seen,
            )

        await self._db.write(touch)

    async def _delete(self, digest: bytes) -> bool:
        async def delete(conn: Connection) -> bool:
            status = await conn.execute(
                "DELETE FROM dashboard_sessions WHERE token_hash = $1", digest
            )
            return bool(status != "DELETE 0")

        return await self._db.write(delete)
