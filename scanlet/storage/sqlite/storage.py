"""``SqliteStorage``: every repository of the SQLite adapter over one open database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Literal

from scanlet.storage.records import RawScanDescriber
from scanlet.storage.sole import QuietFeed, SoleLeadership
from scanlet.storage.sqlite.analytics import AnalyticsStore
from scanlet.storage.sqlite.audit import AuditStore
from scanlet.storage.sqlite.codes import CodeStore
from scanlet.storage.sqlite.database import Database, open_database
from scanlet.storage.sqlite.domains import DomainStore
from scanlet.storage.sqlite.eventlog import EventLog
from scanlet.storage.sqlite.idempotency import IdempotencyStore
from scanlet.storage.sqlite.keys import KeyStore
from scanlet.storage.sqlite.positions import PositionStore
from scanlet.storage.sqlite.raw_scans import RawScanStore
from scanlet.storage.sqlite.recent import RecentAppends
from scanlet.storage.sqlite.scans import ScanStore
from scanlet.storage.sqlite.sessions import SessionStore
from scanlet.storage.sqlite.users import SignInFailureStore, UserStore
from scanlet.storage.sqlite.webhooks import WebhookStore

__all__ = ("SqliteStorage", "open_sqlite")


class SqliteStorage:
    """The ``Storage`` port on one SQLite file."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # The scans' commits, kept for the followers reading the log's end (recent.py).
        recent = RecentAppends()
        self.events = EventLog(db, recent)
        self.positions = PositionStore(db)
        self.codes = CodeStore(db)
        self.domains = DomainStore(db)
        self.scans = ScanStore(db, recent)
        self.analytics = AnalyticsStore(db)
        self.webhooks = WebhookStore(db)
        self.keys = KeyStore(db)
        self.users = UserStore(db)
        self.audit = AuditStore(db)
        self.sign_in_failures = SignInFailureStore(db)
        self.idempotency = IdempotencyStore(db)

    @property
    def location(self) -> str:
        """The database file."""
        return str(self.db.path)

    @property
    def shared(self) -> bool:
        """One instance per file (``scanlet serve`` holds a lock on it)."""
        return False

    @property
    def created(self) -> bool:
        """Whether opening it created the database's schema."""
        return self.db.created

    def leadership(self, instance: str) -> SoleLeadership:
        """The only instance leads."""
        return SoleLeadership(instance)

    def change_feed(self, instance: str) -> QuietFeed:
        """Nobody else to hear from."""
        return QuietFeed()

    def pool_state(self) -> dict[str, int]:
        """Reader connections (the writer is one more, always open)."""
        return self.db.pool_state()

    def statements_run(self) -> int | None:
        """Not counted: SQLite runs in the process, a statement costs no round trip."""
        return None

    def write_holds(self) -> tuple[int, float] | None:
        """Checkpoints that held writes back to let the WAL start over, and their seconds."""
        return self.db.write_holds, self.db.write_hold_seconds

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
        """WAL checkpoints until cancelled."""
        await self.db.run_checkpoints()

    async def schema_version(self) -> int:
        """The number of the newest migration applied."""
        row = await self.db.fetch_one("SELECT MAX(version) FROM schema_version")
        return int(row[0]) if row and row[0] is not None else 0


@asynccontextmanager
async def open_sqlite(
    path: Path, *, synchronous: Literal["normal", "full"] = "normal", create: bool = True
) -> AsyncIterator[SqliteStorage]:
    """The storage of the SQLite file at ``path``, migrated, closed at the end."""
    async with open_database(path, synchronous=synchronous, create=create) as db:
        yield SqliteStorage(db)
