"""The ``audit_log`` table on SQLite: administrative actions, for ``scanlet audit``."""

from __future__ import annotations

import sqlite3

import msgspec

from scanlet.storage.records import AuditEntry
from scanlet.storage.rows import AUDIT_COLUMNS, audit_row
from scanlet.storage.sqlite.database import Database

__all__ = ("AuditStore", "write_audit")


def write_audit(conn: sqlite3.Connection, entry: AuditEntry | None) -> None:
    """Append ``entry`` in the caller's transaction (nothing for None)."""
    if entry is None:
        return
    conn.execute(
        "INSERT INTO audit_log (at, by_kind, by_id, action, subject, detail)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            entry.at,
            entry.by_kind,
            entry.by_id,
            entry.action,
            entry.subject,
            msgspec.json.encode(entry.detail).decode(),
        ),
    )


class AuditStore:
    """Administrative actions in ``audit_log`` (the ``AuditLog`` port)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, entry: AuditEntry) -> None:
        """Append one entry in a transaction of its own."""
        await self._db.write(lambda conn: write_audit(conn, entry))

    async def entries(self, *, since: str | None = None) -> list[AuditEntry]:
        """Every entry at or after ``since``, oldest first."""
        rows = await self._db.fetch_all(
            f"SELECT {AUDIT_COLUMNS} FROM audit_log WHERE at >= ? ORDER BY seq", (since or "",)
        )
        return [audit_row(row) for row in rows]
