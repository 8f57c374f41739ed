"""The registered domains on PostgreSQL: written by the codes context, each change with its
event, and a notice on ``scanlet_codes`` naming the domain's key (``host/``) in the same
transaction, so the other instances reload it as they reload a changed code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from scanlet.storage.postgres.codes import write_with_event
from scanlet.storage.postgres.database import Connection, PgDatabase
from scanlet.storage.records import DomainRow, NewEvent
from scanlet.storage.rows import DOMAIN_COLUMNS, domain_row
from scanlet.storage.timefmt import format_time

__all__ = ("DomainStore",)


class DomainStore:
    """The ``domains`` table."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def all(self) -> list[DomainRow]:
        """Every registered domain."""
        rows = await self._db.fetch(f"SELECT {DOMAIN_COLUMNS} FROM domains ORDER BY host")
        return [domain_row(row) for row in rows]

    async def find(self, host: str) -> DomainRow | None:
        """The domain ``host``, or None."""
        row = await self._db.fetchrow(f"SELECT {DOMAIN_COLUMNS} FROM domains WHERE host = $1", host)
        return domain_row(row) if row else None

    async def create(self, row: DomainRow, entry: NewEvent, recorded_at: datetime) -> int:
        """Store a new domain and its event in one transaction; the event's seq."""

        async def insert(conn: Connection) -> None:
            await conn.execute(
                f"INSERT INTO domains ({DOMAIN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)",
                row.host,
                row.base_url,
                row.not_found_url,
                row.root_url,
                format_time(row.created_at),
                format_time(row.updated_at),
            )

        return await self._with_event(row.host, entry, recorded_at, insert)

    async def update(self, row: DomainRow, entry: NewEvent, recorded_at: datetime) -> int:
        """Overwrite a domain's fields and append its event; the event's seq."""

        async def change(conn: Connection) -> None:
            await conn.execute(
                "UPDATE domains SET base_url = $1, not_found_url = $2, root_url = $3,"
                " updated_at = $4 WHERE host = $5",
                row.base_url,
                row.not_found_url,
                row.root_url,
                format_time(row.updated_at),
                row.host,
            )

        return await self._with_event(row.host, entry, recorded_at, change)

    async def delete(self, host: str, entry: NewEvent, recorded_at: datetime) -> int:
        """Remove a domain and append its event; the event's seq."""

        async def remove(conn: Connection) -> None:
            await conn.execute("DELETE FROM domains WHERE host = $1", host)

        return await self._with_event(host, entry, recorded_at, remove)

    async def _with_event(
        self,
        host: str,
        entry: NewEvent,
        recorded_at: datetime,
        change: Callable[[Connection], Awaitable[None]],
    ) -> int:
        # The domain's key (scanlet.actors.codes.keys): "host/", a code key with no slug.
        return await write_with_event(self._db, f"{host}/", entry, recorded_at, change)
