"""The PostgreSQL database: a pool of asyncpg connections, write transactions, migrations.

Several Scanlet instances share one database, so unlike SQLite there is no single writer:
each write runs in a transaction on a pooled connection, and PostgreSQL's own locking orders
them. Writers take row locks in a fixed order (sorted keys) so that concurrent group
commits cannot deadlock each other; a deadlock or serialization failure that happens anyway
is retried, since a transaction function can always be run again from its start.

asyncpg rather than psycopg 3: on the scan path's group commit (a batch of events and a
counter upsert per transaction, one connection, same run on this machine) asyncpg carried
1.3 to 2 times as many scans a second (batches of 64: 42.9k against 25.9k; of 256: 49.8k
against 24.7k).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy

from scanlet.config import mask_password
from scanlet.storage.errors import DatabaseMissing, StorageError, StorageUnavailable
from scanlet.storage.migration_files import Migration, migrations_in
from scanlet.storage.timefmt import format_time

__all__ = ("PgDatabase", "numbered", "open_pg_database", "storage_error")

T = TypeVar("T")
log = structlog.get_logger("scanlet.storage")

if TYPE_CHECKING:
    #: A pooled connection, as repositories see one inside a transaction or a read.
    Connection = PoolConnectionProxy[asyncpg.Record]
else:  # the stubs' generics do not exist at run time
    Connection = PoolConnectionProxy

#: How long a request waits for a pooled connection before the database counts as
#: unavailable (503) rather than letting requests queue without bound.
ACQUIRE_TIMEOUT = 5.0
#: Attempts of a transaction that keeps deadlocking or failing to serialize.
WRITE_ATTEMPTS = 5
#: The advisory lock migrations run under, so instances starting together migrate once.
MIGRATION_LOCK = 0x5CA17E7_0001
# SQLSTATE classes that mean "the database cannot do this right now" rather than a bug in a
# statement: connection exceptions, insufficient resources (disk full, too many
# connections), operator intervention (shutdown), system errors.
_UNAVAILABLE_CLASSES = frozenset({"08", "53", "57", "58"})
# Read-only transaction (a standby, or default_transaction_read_only), and "the database
# system is starting up / shutting down" answered at connect.
_UNAVAILABLE_STATES = frozenset({"25006", "57P03"})
_RETRY_STATES = frozenset({"40001", "40P01"})


def _unavailable(exc: BaseException) -> bool:
    if isinstance(exc, OSError | TimeoutError | asyncpg.InterfaceError):
        return True
    if isinstance(exc, asyncpg.PostgresError):
        state = str(getattr(exc, "sqlstate", "") or "")
        return state[:2] in _UNAVAILABLE_CLASSES or state in _UNAVAILABLE_STATES
    return False


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, asyncpg.PostgresError) and getattr(exc, "sqlstate", "") in _RETRY_STATES


def storage_error(exc: BaseException, where: str) -> StorageError:
    """The storage error a driver exception stands for (no driver exception leaves the
    adapter): ``StorageUnavailable`` when the database cannot be reached or written,
    ``StorageError`` for a statement that failed."""
    if _unavailable(exc):
        return StorageUnavailable(f"{where}: {exc}")
    return StorageError(f"{where}: {exc}")


_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)
# Set by ``note_append`` inside a write transaction that appended to the event log.
_appended: ContextVar[list[bool] | None] = ContextVar("scanlet_pg_appended", default=None)


def note_append() -> None:
    """Mark the current write transaction as one that appended to the event log: after its
    commit the database calls its ``on_append`` hook (the change feed's ring)."""
    flag = _appended.get()
    if flag is not None:
        flag[0] = True


class PgDatabase:
    """A pool of connections to one PostgreSQL database."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.shown_url = mask_password(url)
        self.pool_size = pool_size
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None
        #: Why the last write failed (None after a successful one): readiness reports it.
        self.write_error: str | None = None
        #: Called after each commit that appended to the event log.
        self.on_append: Callable[[], None] | None = None
        #: Whether ``open`` created Scanlet's schema (a new database).
        self.created = False
        #: Statements sent to the server since ``open`` (``/metrics``; the per-scan cost
        #: figures in the README come from it).
        self.statements = 0

    async def open(self, *, create: bool = True) -> None:
        """Connect and bring the schema up to date (``create=False``: a database without
        Scanlet's tables is refused with ``DatabaseMissing`` instead of migrated)."""
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=1,
                max_size=self.pool_size,
                # Statements are prepared per connection and cached: the scan path's few
                # statements are parsed once per connection, not once per commit.
                statement_cache_size=256,
                server_settings={"application_name": "scanlet"},
                init=self._count_statements,
                reset=_end_transaction,
            )
        except asyncpg.InvalidCatalogNameError as exc:
            raise StorageUnavailable(
                f"cannot open {self.shown_url}: {exc} (create it first, e.g. with createdb)"
            ) from exc
        except _DRIVER_ERRORS as exc:
            raise StorageUnavailable(f"cannot connect to {self.shown_url}: {exc}") from exc
        try:
            self.created = await self._schema_missing()
            if self.created and not create:
                raise DatabaseMissing(self.shown_url)
            await self._migrate()
        except BaseException:
            await self.close()
            raise

    async def _count_statements(self, conn: asyncpg.Connection[asyncpg.Record]) -> None:
        conn.add_query_logger(self._counted)

    def _counted(self, query: object) -> None:
        self.statements += 1

    async def _schema_missing(self) -> bool:
        found = await self.fetchval("SELECT to_regclass('schema_version') IS NULL")
        return bool(found)

    async def _migrate(self) -> None:
        for migration in migrations_in("scanlet.storage.postgres.migrations"):

            async def apply(conn: Connection, migration: Migration = migration) -> None:
                await _apply(conn, migration)

            await self.write(apply)

    async def close(self) -> None:
        """Close every pooled connection; safe to call twice."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await pool.close()
            except _DRIVER_ERRORS as exc:
                log.warning("closing the pool failed", error=str(exc))
                pool.terminate()

    @property
    def pool(self) -> asyncpg.Pool[asyncpg.Record]:
        """The open pool (StorageUnavailable when closed)."""
        if self._pool is None:
            raise StorageUnavailable("the database is not open")
        return self._pool

    def pool_state(self) -> dict[str, int]:
        """Connections open, idle and allowed at most (for ``/metrics``)."""
        if self._pool is None:
            return {"open": 0, "idle": 0, "max": self.pool_size}
        return {
            "open": self._pool.get_size(),
            "idle": self._pool.get_idle_size(),
            "max": self._pool.get_max_size(),
        }

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """Borrow a pooled connection for a read (errors become storage errors)."""
        try:
            async with self.pool.acquire(timeout=ACQUIRE_TIMEOUT) as conn:
                yield conn
        except _DRIVER_ERRORS as exc:
            raise storage_error(exc, self.shown_url) from exc

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Rows of one query on a pooled connection."""
        async with self.connection() as conn:
            return await conn.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        """The first row of one query, or None."""
        async with self.connection() as conn:
            return await conn.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        """The first value of one query's first row."""
        async with self.connection() as conn:
            return await conn.fetchval(sql, *args)

    async def write(self, transaction: Callable[[Connection], Awaitable[T]]) -> T:
        """Run ``transaction(conn)`` in a transaction on a pooled connection and commit.

        Retried from the start after a deadlock or serialization failure. A driver error
        becomes ``StorageUnavailable`` when the database cannot be reached or written (which
        also sets ``write_error`` until a later write succeeds) and ``StorageError``
        otherwise; whatever else ``transaction`` raises passes through after the rollback.
        """
        attempt = 1
        while True:
            appended = [False]
            token = _appended.set(appended)
            try:
                async with (
                    self.pool.acquire(timeout=ACQUIRE_TIMEOUT) as conn,
                    conn.transaction(),
                ):
                    result = await transaction(conn)
            except _DRIVER_ERRORS as exc:
                if _retryable(exc) and attempt < WRITE_ATTEMPTS:
                    attempt += 1
                    continue
                error = storage_error(exc, self.shown_url)
                if isinstance(error, StorageUnavailable):
                    if self.write_error is None:
                        log.error("database write failed", db=self.shown_url, error=str(exc))
                    self.write_error = str(exc)
                raise error from exc
            finally:
                _appended.reset(token)
            if appended[0] and self.on_append is not None:
                self.on_append()
            if self.write_error is not None:
                log.info("database writes resumed", db=self.shown_url)
                self.write_error = None
            return result

    async def ping(self) -> None:
        """Check that the database answers a trivial query (for readiness)."""
        await self.fetchval("SELECT 1")

    async def probe_write(self) -> None:
        """Commit one tiny row (readiness, while writes fail)."""

        async def touch(conn: Connection) -> None:
            await conn.execute(
                "INSERT INTO write_probe (id, n) VALUES (1, 1)"
                " ON CONFLICT (id) DO UPDATE SET n = write_probe.n + 1"
            )

        await self.write(touch)

    async def schema_version(self) -> int:
        """The number of the newest migration applied."""
        return int(await self.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))


async def _end_transaction(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """What a connection needs before going back to the pool: no open transaction.

    asyncpg's default reset sends ``RESET ALL``, ``UNLISTEN *``, unlocks advisory locks and
    closes cursors on every release: a round trip per borrow, so one more per group commit
    on the scan path. Pooled connections here keep no session state (LISTEN and the leader's
    lock live on connections of their own, outside the pool), so only an open transaction
    needs ending.
    """
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def _apply(conn: Connection, migration: Migration) -> None:
    """Apply ``migration`` in the caller's transaction unless it already is: the version is
    read under a lock every instance takes, so instances starting together apply it once."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    # Applied unless recorded (not "unless older than the newest"): see ``migration_files``.
    if await conn.fetchval("SELECT 1 FROM schema_version WHERE version = $1", migration.version):
        return
    # Simple-query protocol: a script of several statements, in this transaction.
    await conn.execute(migration.sql)
    stamp = format_time(datetime.now(UTC))
    await conn.execute(
        "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)",
        migration.version,
        migration.name,
        stamp,
    )
    log.info("migration applied", version=migration.version, name=migration.name)


@asynccontextmanager
async def open_pg_database(
    url: str, *, pool_size: int = 10, create: bool = True
) -> AsyncIterator[PgDatabase]:
    """Open (migrating if needed) and finally close a PostgreSQL database."""
    db = PgDatabase(url, pool_size=pool_size)
    await db.open(create=create)
    try:
        yield db
    finally:
        await db.close()


def numbered(sql: str) -> str:
    """``?`` placeholders (as the shared query builders write them) as ``$1``, ``$2``..."""
    counter = iter(range(1, 10_000))
    return re.sub(r"\?", lambda _: f"${next(counter)}", sql)
