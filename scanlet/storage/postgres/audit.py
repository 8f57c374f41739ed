"""The ``audit_log`` table on PostgreSQL: administrative actions, for ``scanlet audit``."""

from __future__ import annotations

import msgspec

from scanlet.storage.postgres.database import Connection, PgDatabase
from scanlet.storage.records import AuditEntry
from scanlet.storage.rows import AUDIT_COLUMNS, audit_row

__all__ = ("AuditStore", "write_audit")


async def write_audit(conn: Connection, entry: AuditEntry | None) -> None:
    """Append ``entry`` in the caller's transaction (nothing for None)."""
    if entry is None:
        return
    await conn.execute(
        "INSERT INTO audit_log (at, by_kind, by_id, action, subject, detail)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        entry.at,
        entry.by_kind,
        entry.by_id,
        entry.action,
        entry.subject,
        msgspec.json.encode(entry.detail).decode(),
    )


class AuditStore:
    """Administrative actions in ``audit_log`` (the ``AuditLog`` port)."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def record(self, entry: AuditEntry) -> None:
        """Append one entry in a transaction of its own."""

        async def record(conn: Connection) -> None:
            await write_audit(conn, entry)

        await self._db.write(record)

    async def entries(self, *, since: str | None = None) -> list[AuditEntry]:
        """Every entry at or after ``since``, oldest first."""
        rows = await self._db.fetch(
            f"SELECT {AUDIT_COLUMNS} FROM audit_log WHERE at >= $1 ORDER BY seq",
            since or "",
        )
        return [audit_row(row) for row in rows]
