"""Dashboard sessions in SQLite's ``dashboard_sessions`` (the rules: ``storage.sessions``)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from scanlet.storage.sessions import SessionRow, SessionRules
from scanlet.storage.sqlite.database import Database

__all__ = ("SessionStore",)


class SessionStore(SessionRules):
    """Sessions in ``dashboard_sessions``, lasting ``max_age`` at most and ``idle`` unused."""

    def __init__(self, db: Database, *, max_age: timedelta, idle: timedelta) -> None:
        super().__init__(max_age=max_age, idle=idle)
        self._db = db

    async def _insert(self, digest: bytes, row: SessionRow, *, idle_since: str) -> None:
        def insert(conn: sqlite3.Connection) -> None:
            conn.execute(
                "DELETE FROM dashboard_sessions WHERE expires_at <= ? OR last_seen_at <= ?",
                (row.created_at, idle_since),
            )
            conn.execute(
                "INSERT INTO dashboard_sessions"
                " (token_hash, key_id, user_id, created_at, last_seen_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (digest, *row),
            )

        await self._db.write(insert)

    async def _select(self, digest: bytes) -> SessionRow | None:
        row = await self._db.fetch_one(
            "SELECT key_id, user_id, created_at, last_seen_at, expires_at"
            " FROM dashboard_sessions WHERE token_hash = ?",
            (digest,),
        )
        return None if row is None else SessionRow(*row)

    async def _touch(self, digest: bytes, seen: str) -> None:
        await self._db.write(
            lambda conn: conn.execute(
                "UPDATE dashboard_sessions SET last_seen_at = ? WHERE token_hash = ?",
                (seen, digest),
            )
        )

    async def _delete(self, digest: bytes) -> bool:
        deleted = await self._db.write(
            lambda conn: (
                conn.execute(
                    "DELETE FROM dashboard_sessions WHERE token_hash = ?", (digest,)
                ).rowcount
            )
        )
        return bool(deleted > 0)
