"""The ``audit_log`` table on SQLite: administrative actions, for ``scanlet audit``."""

from __future__ import annotations

import sqlite3

import msgspec

from scanlet.storage.records import AuditEntry
from scanlet.storage.sqlite.database import Database

__all__ = ("AuditStore", "write_audit")

_decode_detail = msgspec.json.Decoder(dict[str, object])


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
        async with (
            self._db.reader() as conn,
            conn.execute(
                "SELECT seq, at, by_kind, by_id, action, subject, detail FROM audit_log"
                " WHERE at >= ? ORDER BY seq",
                (since or "",),
            ) as cur,
        ):
            rows = await cur.fetchall()
        return [
            AuditEntry(
                seq=row[0],
                at=row[1],
                by_kind=row[2],
                by_id=row[3],
                action=row[4],
                subject=row[5],
                detail=_decode_detail.decode(row[6]),
            )
            for row in rows
        ]
