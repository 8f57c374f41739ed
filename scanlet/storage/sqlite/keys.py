"""The ``api_keys`` table: keys as stored, their secrets only as hashes."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from scanlet.storage.records import ApiKey, AuditEntry
from scanlet.storage.rows import KEY_COLUMNS as _COLUMNS
from scanlet.storage.rows import encode_list
from scanlet.storage.rows import key_row as _key
from scanlet.storage.sqlite.audit import write_audit
from scanlet.storage.sqlite.database import Database
from scanlet.storage.timefmt import format_time

__all__ = ("KeyStore",)


class KeyStore:
    """Keys in the ``api_keys`` table (the ``KeyRepository`` port)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(
        self, row: ApiKey, secret_hash: bytes, *, audit: AuditEntry | None = None
    ) -> None:
        """Store a new key (and ``audit``)."""
        values = (
            row.id,
            row.name,
            row.scope,
            secret_hash,
            row.created_at,
            row.expires_at,
            row.user_id,
            encode_list(row.tags),
            encode_list(row.domains),
        )

        def insert(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO api_keys"
                " (id, name, scope, secret_hash, created_at, expires_at, user_id, tags, domains)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            write_audit(conn, audit)

        await self._db.write(insert)

    async def list(self) -> list[ApiKey]:
        """Every key, oldest first."""
        rows = await self._db.fetch_all(f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at, id")
        return [_key(row) for row in rows]

    async def revoke(self, key_id: str, *, now: datetime, audit: AuditEntry | None = None) -> bool:
        """Revoke a key (and record ``audit``); False when there is no such key."""
        revoked_at = format_time(now)

        def revoke(conn: sqlite3.Connection) -> bool:
            changed = conn.execute(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                (revoked_at, key_id),
            ).rowcount
            if changed > 0:
                write_audit(conn, audit)
            return bool(changed > 0)

        return await self._db.write(revoke)

    async def find(self, key_id: str) -> tuple[ApiKey, bytes] | None:
        """A key and its secret's hash, or None."""
        sql = f"SELECT {_COLUMNS}, secret_hash FROM api_keys WHERE id = ?"
        row = await self._db.fetch_one(sql, (key_id,))
        return None if row is None else (_key(row), bytes(row[9]))
