"""What ``scanlet import`` runs apart from argument parsing: the codes and scans contexts
started in this process over the configured database, and the import engine fed through
them.

The actors are the server's own (the same rules, ids, anonymisation and commits); the
database is shared with a server that may be running. On PostgreSQL every code created
notifies the running instances, which serve it at once; on SQLite a running server learns
of new codes only when it reloads its index (see the README's "Importing").
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from functools import partial
from pathlib import Path

import anyio
import msgspec
import structlog
from prometheus_client import CollectorRegistry

from scanlet.actors.codes.actor import CodesActor, CodesClient
from scanlet.actors.codes.domain_index import DomainIndex
from scanlet.actors.codes.domain_messages import CreateDomain
from scanlet.actors.codes.index import CodeIndex
from scanlet.actors.codes.messages import ImportCode
from scanlet.actors.codes.origins import OwnOrigins
from scanlet.actors.scans.actor import ScansActor
from scanlet.actors.scans.client import ScansClient
from scanlet.actors.scans.messages import ImportedScan
from scanlet.actors.scans.metrics import ScanMetrics
from scanlet.adapters.import_door import DoorClient, DoorClosed
from scanlet.adapters.qr_images import load_logo
from scanlet.assembly.app import CORE_SUPERVISOR, ROOT_SUPERVISOR
from scanlet.clock import Clock, SystemClock
from scanlet.config import Settings
from scanlet.importing import Conflict, Importer, ImportReport, Pacing, SourceItem
from scanlet.importing.items import SourceLogo
from scanlet.runtime import ActorSystem, ChildSpec
from scanlet.storage.opening import open_storage
from scanlet.storage.ports import CodeRepository, Leadership, ScanRepository
from scanlet.storage.records import CodeRow
from scanlet.storage.serve_lock import is_served
from scanlet.storage.server_key import ensure_server_key

__all__ = ("ContextSink", "ServerDoor", "open_sink", "pacing_for", "run_import")

log = structlog.get_logger("scanlet.import")


class ServerDoor:
    """The import door of a server running on the same SQLite database (see
    ``scanlet.adapters.import_door``), while one is open: visits sent through it are
    committed by that server among its own scans. Looked for again at most every
    ``REOPEN_SECONDS`` while there is none (a server may start in the middle of an import);
    what ``store`` does not answer for is to be committed here instead."""

    REOPEN_SECONDS = 1.0

    def __init__(self, db: Path | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._db = db
        self._clock = clock
        self._client: DoorClient | None = None
        self._looked_at: float | None = None
        #: Requests the server answered.
        self.commits = 0

    @property
    def open(self) -> bool:
        return self._client is not None

    async def store(self, scans: Sequence[ImportedScan]) -> list[bool]:
        """Per visit of the first ``scans`` the server stored, whether it was new: all of
        them, or fewer (none) when they are to be committed here."""
        if self._db is None:
            return []
        if self._client is None:
            now = self._clock()
            if self._looked_at is not None and now - self._looked_at < self.REOPEN_SECONDS:
                return []
            self._looked_at = now
            self._client = await DoorClient.open(self._db)
            if self._client is None:
                return []
        try:
            fresh = await self._client.store(scans)
        except DoorClosed as exc:
            # Nothing lost: visit ids are claimed, so any the server stored without saying
            # are duplicates when committed here.
            log.info("committing the import's visits here", reason=str(exc))
            await self.close()
            return exc.answered
        self.commits += 1
        return fresh

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with anyio.CancelScope(shield=True):
                await client.aclose()


class ContextSink:
    """The ``ImportSink`` on the codes and scans actors of this process; visits go through
    a running server's ``door`` while it is open."""

    def __init__(
        self,
        codes: CodesClient,
        scans: ScansClient,
        index: CodeIndex,
        repository: CodeRepository,
        claims: ScanRepository,
        clock: Clock,
        door: ServerDoor | None = None,
        leadership: Leadership | None = None,
    ) -> None:
        self._codes = codes
        self._scans = scans
        self._index = index
        self._repository = repository
        self._claims = claims
        self._clock = clock
        self.door = door or ServerDoor(None)
        #: Who leads the followers on the database (asked to know whether a server runs).
        self.leadership = leadership

    def is_taken(self, slug: str) -> bool:
        return self._index.is_taken(slug)

    def now(self) -> datetime:
        return self._clock.now()

    async def known(self, origins: Sequence[str]) -> dict[str, str]:
        return await self._repository.origins(origins)

    async def create(self, command: ImportCode, logo: SourceLogo | None = None) -> CodeRow:
        if logo is not None:
            # The API's check of an upload (PNG and JPEG decoded, SVG sanitised): an
            # archive is a file anyone may have edited.
            checked = await anyio.to_thread.run_sync(load_logo, logo.data, logo.media_type)
            command = msgspec.structs.replace(command, logo=checked.stored())
        return await self._codes.import_code(command)

    async def delete(self, slug: str) -> None:
        await self._codes.delete(slug)

    async def create_domain(self, command: CreateDomain) -> None:
        await self._codes.create_domain(command)

    async def store_visits(self, scans: Sequence[ImportedScan]) -> list[bool]:
        answered = await self.door.store(scans)
        if len(answered) == len(scans):
            return answered
        return answered + await self._scans.import_scans(scans[len(answered) :])

    async def stored(self, ids: Sequence[str]) -> set[str]:
        return await self._claims.claimed(ids)


@asynccontextmanager
async def open_sink(settings: Settings, clock: Clock | None = None) -> AsyncIterator[ContextSink]:
    """The codes and scans contexts on ``settings``' (existing) database, for the block."""
    clock = clock or SystemClock()
    async with AsyncExitStack() as stack:
        storage = await stack.enter_async_context(open_storage(settings, create=False))
        # The server's key: the visitor hashes an import makes need it (as live ones do).
        server_key, _ = ensure_server_key(settings.server_key_file)
        system = await stack.enter_async_context(
            ActorSystem(
                name="scanlet-import",
                supervisor=ROOT_SUPERVISOR,
                ask_timeout=max(settings.ask_timeout, 60.0),
                registry=CollectorRegistry(),
                metric_prefix="scanlet",
            )
        )
        core = await system.spawn_supervisor("core", CORE_SUPERVISOR)
        index = CodeIndex(DomainIndex(settings.public_base_url))
        own_origins = OwnOrigins(settings.own_origins)
        codes_ref = await core.spawn(
            ChildSpec(
                name="codes",
                factory=lambda: CodesActor(
                    storage.codes, index, clock, own_origins=own_origins, domains=storage.domains
                ),
            )
        )
        metrics = ScanMetrics(CollectorRegistry())
        scans_ref = await core.spawn(
            ChildSpec(
                name="scans",
                factory=lambda: ScansActor(
                    storage.scans, clock, metrics, server_key, anonymize=settings.anonymize_ip
                ),
                max_attempts=1,
            )
        )
        door = ServerDoor(settings.db if settings.backend == "sqlite" else None)
        stack.push_async_callback(door.close)
        yield ContextSink(
            CodesClient(codes_ref),
            ScansClient(scans_ref),
            index,
            storage.codes,
            storage.scans,
            clock,
            door,
            storage.leadership("import"),
        )
        await system.shutdown(settings.shutdown_timeout)


def pacing_for(
    settings: Settings, door: ServerDoor | None = None, leadership: Leadership | None = None
) -> Pacing:
    """When an import into ``settings``' database paces its commits.

    SQLite: while a server holds the database's serve lock and its ``door`` is not open
    (through the door, the server makes the commits). Its group commits wait for the one
    write lock an import's commit holds, and wait on its event loop, so its redirects
    wait too; with no server, nobody waits and the pauses would only halve the import.

    PostgreSQL: while an instance serves the database (one of them always holds the lead,
    which ``leadership`` asks the database about; without it, always). A commit there
    locks only the rows it writes, but every commit flushes the WAL, and the scans' flushes
    carried the import's rows and their rollups: unpaced, the server's redirect p99 rose
    1.3-3.3 ms above the same run's control phase, paced it stayed within 0.5 ms of it
    (bench/import.py, 30k visits, Shlink and archive, two runs each). Commits keep their
    size: waiting for the flush holds nobody else up.
    """
    if settings.backend == "postgresql":
        if leadership is None:
            return Pacing.always(fit_commits=False)
        return Pacing(partial(_led, leadership), fit_commits=False)
    return Pacing(partial(_served, door, settings.db))


async def _led(leadership: Leadership) -> bool:
    return await leadership.leader() is not None


async def _served(door: ServerDoor | None, db: Path) -> bool:
    # A question to the serve lock's file, not the database's: microseconds, on the loop.
    return (door is None or not door.open) and is_served(db)


async def run_import(
    settings: Settings,
    items: AsyncIterable[SourceItem],
    *,
    on_conflict: Conflict,
    dry_run: bool,
    progress: Callable[[int, int], None],
    total: Callable[[int], None] = lambda codes: None,
    read: Callable[[int, int | None], None] = lambda done, size: None,
) -> ImportReport:
    """Import ``items`` into ``settings``' database; the report of what happened."""
    async with open_sink(settings) as sink:
        importer = Importer(
            sink,
            on_conflict=on_conflict,
            dry_run=dry_run,
            progress=progress,
            total=total,
            read=read,
            pacing=pacing_for(settings, sink.door, sink.leadership),
        )
        report = await importer.run(items)
        report.server_commits = sink.door.commits
        return report
