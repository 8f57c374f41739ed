"""Which storage a process uses: ``open_storage`` picks the adapter for ``SCANLET_DB``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from scanlet.config import Settings
from scanlet.storage.ports import Storage
from scanlet.storage.sqlite.storage import open_sqlite

__all__ = ("open_storage",)


@asynccontextmanager
async def open_storage(settings: Settings, *, create: bool = True) -> AsyncIterator[Storage]:
    """The storage ``settings`` name, migrated and open for the block; with
    ``create=False`` a missing database is refused (``DatabaseMissing``) instead of made."""
    if settings.postgres_url:
        # Imported here: asyncpg and the adapter cost every SQLite process (each CLI
        # command, the projection worker) about 0.1 s of start-up.
        from scanlet.storage.postgres.storage import open_postgres

        async with open_postgres(
            settings.postgres_url, pool_size=settings.pool_size, create=create
        ) as pg:
            yield pg
        return
    async with open_sqlite(settings.db, synchronous=settings.synchronous, create=create) as storage:
        yield storage
