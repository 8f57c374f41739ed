"""The SQLite database: one writer connection, a small pool of readers, WAL mode.

SQLite allows one writer at a time; funnelling every write through one connection (owned by
whichever actor writes) avoids ``SQLITE_BUSY`` between our own writers, while WAL lets the
readers run beside it without blocking.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

import aiosqlite
import anyio

from scanlet.storage.errors import StorageUnavailable
from scanlet.storage.migrations import apply_migrations

__all__ = ("Database", "open_database")

BUSY_TIMEOUT_MS = 5000


async def _connect(path: Path, synchronous: str, *, readonly: bool) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    conn.row_factory = sqlite3.Row
    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA foreign_keys = ON")
    if not readonly:
        await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
    return conn


class Database:
    """A writer connection and a pool of reader connections onto one SQLite file."""

    def __init__(
        self,
        path: Path,
        *,
        synchronous: Literal["normal", "full"] = "normal",
        readers: int = 2,
    ) -> None:
        self.path = path
        self.synchronous = synchronous
        self._reader_count = readers
        self._writer: aiosqlite.Connection | None = None
        self._readers: list[aiosqlite.Connection] = []
        self._free_readers: list[aiosqlite.Connection] = []
        self._reader_slots = anyio.Semaphore(readers)
        self._write_lock = anyio.Lock()

    @property
    def writer(self) -> aiosqlite.Connection:
        """The one connection that writes; only the owner of a write path may use it."""
        if self._writer is None:
            raise StorageUnavailable("the database is not open")
        return self._writer

    async def open(self) -> None:
        """Open the connections and bring the schema up to date."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = await _connect(self.path, self.synchronous, readonly=False)
            await apply_migrations(self._writer)
            for _ in range(self._reader_count):
                reader = await _connect(self.path, self.synchronous, readonly=True)
                self._readers.append(reader)
                self._free_readers.append(reader)
        except (sqlite3.Error, OSError) as exc:
            await self.close()
            raise StorageUnavailable(f"cannot open {self.path}: {exc}") from exc

    async def close(self) -> None:
        """Close every connection; safe to call twice."""
        for conn in [*self._readers, *([self._writer] if self._writer else [])]:
            with anyio.CancelScope(shield=True):
                await conn.close()
        self._readers.clear()
        self._free_readers.clear()
        self._writer = None

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[aiosqlite.Connection]:
        """Borrow a reader connection for the duration of a query."""
        if not self._readers:
            raise StorageUnavailable("the database is not open")
        async with self._reader_slots:
            conn = self._free_readers.pop()
            try:
                yield conn
            finally:
                self._free_readers.append(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run a write transaction on the writer connection, one at a time.

        Several actors share the writer; the lock keeps their transactions from interleaving
        and ``BEGIN IMMEDIATE`` takes SQLite's write lock up front, so a conflict with another
        process shows at the start (after the busy timeout), never half-way through.
        """
        conn = self.writer
        async with self._write_lock:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                with anyio.CancelScope(shield=True):
                    await conn.execute("ROLLBACK")
                raise
            with anyio.CancelScope(shield=True):
                await conn.execute("COMMIT")

    async def ping(self) -> None:
        """Check that the database answers a trivial query (for readiness)."""
        try:
            async with self.reader() as conn:
                await conn.execute("SELECT 1")
        except sqlite3.Error as exc:
            raise StorageUnavailable(str(exc)) from exc


@asynccontextmanager
async def open_database(
    path: Path, *, synchronous: Literal["normal", "full"] = "normal", readers: int = 2
) -> AsyncIterator[Database]:
    """Open (creating and migrating if needed) and finally close a database."""
    db = Database(path, synchronous=synchronous, readers=readers)
    await db.open()
    try:
        yield db
    finally:
        await db.close()
