"""Named server-side secrets (the dashboard's session signing key) in ``server_secrets``.

A secret is created on first use from the OS CSPRNG and kept in the database, so sessions
survive a restart and every process on the same file signs with the same key. It is never
shown by the API or the CLI.
"""

from __future__ import annotations

import secrets
import sqlite3
from datetime import datetime
from typing import Protocol

from scanlet.storage.database import Database
from scanlet.storage.timefmt import format_time

__all__ = ("SecretStore", "ServerSecrets")


class SecretStore(Protocol):
    """Where long-lived server secrets are kept (another engine implements the same)."""

    async def get_or_create(self, name: str, *, size: int, now: datetime) -> bytes:
        """The secret called ``name``, created with ``size`` random bytes if there is none."""
        ...


class ServerSecrets:
    """The ``server_secrets`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_or_create(self, name: str, *, size: int = 32, now: datetime) -> bytes:
        """The secret called ``name``; created in the same write transaction that looks for
        it, so two processes starting together still agree on one value."""
        created_at = format_time(now)

        def load_or_create(conn: sqlite3.Connection) -> bytes:
            row = conn.execute(
                "SELECT value FROM server_secrets WHERE name = ?", (name,)
            ).fetchone()
            if row is not None:
                return bytes(row[0])
            value = secrets.token_bytes(size)
            conn.execute(
                "INSERT INTO server_secrets (name, value, created_at) VALUES (?, ?, ?)",
                (name, value, created_at),
            )
            return value

        return await self._db.write(load_or_create)
