"""The ``api_keys`` table on PostgreSQL: keys as stored, their secrets only as hashes."""

from __future__ import annotations

from datetime import datetime

from scanlet.storage.postgres.audit import write_audit
from scanlet.storage.postgres.database import Connection, PgDatabase
from scanlet.storage.records import ApiKey, AuditEntry
from scanlet.storage.rows import KEY_COLUMNS, encode_list, key_row
from scanlet.storage.timefmt import format_time

__all__ = ("KeyStore",)


class KeyStore:
    """Keys in the ``api_keys`` table (the ``KeyRepository`` port)."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def insert(
        self, row: ApiKey, secret_hash: bytes, *, audit: AuditEntry | None = None
    ) -> None:
        """Store a new key (and ``audit``)."""

        async def insert(conn: Connection) -> None:
            await conn.execute(
                "INSERT INTO api_keys"
                " (id, name, scope, secret_hash, created_at, expires_at, user_id, tags, domains)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
            await write_audit(conn, audit)

        await self._db.write(insert)

    async def list(self) -> list[ApiKey]:
        """Every key, oldest first."""
        rows = await self._db.fetch(f"SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, id")
        return [key_row(row) for row in rows]

    async def revoke(self, key_id: str, *, now: datetime, audit: AuditEntry | None = None) -> bool:
        """Revoke a key (and record ``audit``); False when there is no such key."""

        async def revoke(conn: Connection) -> bool:
            status = await conn.execute(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
                key_id,
                format_time(now),
            )
            if status == "UPDATE 0":
                return False
            await write_audit(conn, audit)
            return True

        return await self._db.write(revoke)

    async def find(self, key_id: str) -> tuple[ApiKey, bytes] | None:
        """A key and its secret's hash, or None."""
        row = await self._db.fetchrow(
            f"SELECT {KEY_COLUMNS}, secret_hash FROM api_keys WHERE id = $1", key_id
        )
        return None if row is None else (key_row(row), bytes(row[9]))
