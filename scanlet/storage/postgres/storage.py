"""``PostgresStorage``: every repository of the PostgreSQL adapter over one database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from scanlet.storage.postgres.analytics import AnalyticsStore
from scanlet.storage.postgres.audit import AuditStore
from scanlet.storage.postgres.cluster import PgChangeFeed, PgLeadership
from scanlet.storage.postgres.codes import CodeStore
from scanlet.storage.postgres.database import PgDatabase, open_pg_database
from scanlet.storage.postgres.domains import DomainStore
from scanlet.storage.postgres.eventlog import EventLog
from scanlet.storage.postgres.idempotency import IdempotencyStore
from scanlet.storage.postgres.keys import KeyStore
from scanlet.storage.postgres.positions import PositionStore
from scanlet.storage.postgres.raw_scans import RawScanStore
from scanlet.storage.postgres.scans import ScanStore
from scanlet.storage.postgres.sessions import SessionStore
from scanlet.storage.postgres.users import SignInFailureStore, UserStore
from scanlet.storage.postgres.webhooks import WebhookStore
from scanlet.storage.records import RawScanDescriber

__all__ = ("PostgresStorage", "open_postgres")


class PostgresStorage:
    """The ``Storage`` port on one PostgreSQL database, shared by any number of instances."""

    def __init__(self, db: PgDatabase) -> None:
        self.db = db
        self.events = EventLog(db)
        self.positions = PositionStore(db)
        self.codes = CodeStore(db)
        self.domains = DomainStore(db)
        self.scans = ScanStore(db)
        self.analytics = AnalyticsStore(db)
        self.webhooks = WebhookStore(db)
        self.keys = KeyStore(db)
        self.users = UserStore(db)
        self.audit = AuditStore(db)
        self.sign_in_failures = SignInFailureStore(db)
        self.idempotency = IdempotencyStore(db)

    @property
    def location(self) -> str:
        """The database URL, without its password."""
        return self.db.shown_url

    @property
    def shared(self) -> bool:
        """Any number of instances may use the database at once."""
        return True

    @property
    def created(self) -> bool:
        """Whether opening it created the database's schema."""
        return self.db.created

    def leadership(self, instance: str) -> PgLeadership:
        """Leadership by a session advisory lock."""
        return PgLeadership(self.db, instance)

    def change_feed(self, instance: str) -> PgChangeFeed:
        """LISTEN/NOTIFY between the instances; it rings the others after each commit of
        this instance that appended to the log."""
        feed = PgChangeFeed(self.db.url, instance)
        self.db.on_append = feed.note_append
        return feed

    def pool_state(self) -> dict[str, int]:
        """The connection pool's state."""
        return self.db.pool_state()

    def statements_run(self) -> int | None:
        """Statements sent to the database server since opening."""
        return self.db.statements

    def write_holds(self) -> tuple[int, float] | None:
        """None: PostgreSQL never holds this instance's writes back for its own WAL."""
        return None

    def raw_scans(self, describe: RawScanDescriber) -> RawScanStore:
        """Raw scans listed as ``describe`` derives them from the stored events."""
        return RawScanStore(self.db, describe)

    def sessions(self, *, max_age: timedelta, idle: timedelta) -> SessionStore:
        """Dashboard sessions lasting ``max_age`` at most and ``idle`` unused."""
        return SessionStore(self.db, max_age=max_age, idle=idle)

    @property
    def write_error(self) -> str | None:
        """Why the last write failed (None after a successful one)."""
        return self.db.write_error

    async def ping(self) -> None:
        """Check that the database answers."""
        await self.db.ping()

    async def probe_write(self) -> None:
        """Commit a tiny write (readiness, while writes fail)."""
        await self.db.probe_write()

    async def run_maintenance(self) -> None:
        """Nothing: PostgreSQL's autovacuum and checkpointer do the upkeep."""

    async def schema_version(self) -> int:
        """The number of the newest migration applied."""
        return await self.db.schema_version()


@asynccontextmanager
async def open_postgres(
    url: str, *, pool_size: int = 10, create: bool = True
) -> AsyncIterator[PostgresStorage]:
    """The storage of the PostgreSQL database at ``url``, migrated, closed at the end."""
    async with open_pg_database(url, pool_size=pool_size, create=create) as db:
        yield PostgresStorage(db)
