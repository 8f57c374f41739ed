"""The registered domains on SQLite: written by the codes context, each change with its event."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime

from scanlet.storage.records import DomainRow, NewEvent
from scanlet.storage.rows import DOMAIN_COLUMNS, domain_row
from scanlet.storage.sqlite.codes import write_with_event
from scanlet.storage.sqlite.database import Database
from scanlet.storage.timefmt import format_time

__all__ = ("DomainStore",)


class DomainStore:
    """The ``domains`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def all(self) -> list[DomainRow]:
        """Every registered domain."""
        return [
            domain_row(row)
            for row in await self._db.fetch_all(
                f"SELECT {DOMAIN_COLUMNS} FROM domains ORDER BY host"
            )
        ]

    async def find(self, host: str) -> DomainRow | None:
        """The domain ``host``, or None."""
        row = await self._db.fetch_one(
            f"SELECT {DOMAIN_COLUMNS} FROM domains WHERE host = ?", (host,)
        )
        return domain_row(row) if row else None

    async def create(self, row: DomainRow, entry: NewEvent, recorded_at: datetime) -> int:
        """Store a new domain and its event in one transaction; the event's seq."""

        def insert(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"INSERT INTO domains ({DOMAIN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    row.host,
                    row.base_url,
                    row.not_found_url,
                    row.root_url,
                    format_time(row.created_at),
                    format_time(row.updated_at),
                ),
            )

        return await self._with_event(entry, recorded_at, insert)

    async def update(self, row: DomainRow, entry: NewEvent, recorded_at: datetime) -> int:
        """Overwrite a domain's fields and append its event; the event's seq."""

        def change(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE domains SET base_url = ?, not_found_url = ?, root_url = ?, updated_at = ?"
                " WHERE host = ?",
                (
                    row.base_url,
                    row.not_found_url,
                    row.root_url,
                    format_time(row.updated_at),
                    row.host,
                ),
            )

        return await self._with_event(entry, recorded_at, change)

    async def delete(self, host: str, entry: NewEvent, recorded_at: datetime) -> int:
        """Remove a domain and append its event; the event's seq."""
        return await self._with_event(
            entry,
            recorded_at,
            lambda conn: conn.execute("DELETE FROM domains WHERE host = ?", (host,)),
        )

    async def _with_event(
        self, entry: NewEvent, recorded_at: datetime, change: Callable[[sqlite3.Connection], object]
    ) -> int:
        return await write_with_event(self._db, entry, recorded_at, change)
