"""The scans actor: appends scans to the event log in group commits.

Each redirect waits for its scan to be durable. Committing once per scan would cap the
server at the disk's fsync rate; instead the actor takes every scan already queued behind the
current one (up to ``max_batch``) and commits them in one transaction, then answers each.
Under light load a batch is one scan and latency is one commit; under heavy load batches grow
by themselves, which is the adaptive group commit the redirect path relies on.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from datetime import date
from typing import Any

import structlog

from scanlet.actors.events import DomainEvent, LogAppended, ScanOrphaned, ScanRecorded, encode_event
from scanlet.actors.scans.messages import (
    DeviceScan,
    IngestEvents,
    IngestResult,
    RecordOrphan,
    RecordScan,
    ScanRequest,
)
from scanlet.actors.scans.metrics import ScanMetrics
from scanlet.actors.scans.privacy import VisitorHasher, anonymize_ip
from scanlet.clock import Clock
from scanlet.ids import new_event_id
from scanlet.runtime import Actor
from scanlet.storage.database import Database
from scanlet.storage.errors import StorageUnavailable
from scanlet.storage.eventlog import EventLog, NewEvent
from scanlet.storage.scans import ScanStore
from scanlet.storage.timefmt import format_time

__all__ = ("ScansActor",)

log = structlog.get_logger("scanlet.scans")

ScansMessage = RecordScan | RecordOrphan | IngestEvents


class _KnownSalts:
    """The salts the actor has loaded, as the hasher's synchronous ``SaltSource``."""

    def __init__(self) -> None:
        self.by_day: dict[date, bytes] = {}

    def salt_for(self, day: date) -> bytes:
        return self.by_day[day]


class _Batch:
    """What one group commit will write, and the reply owed to each message."""

    def __init__(self, size: int) -> None:
        self.events: list[NewEvent] = []
        self.published: list[DomainEvent] = []
        self.counts: dict[str, int] = {}
        self.replies: list[Any] = [None] * size


class ScansActor(Actor[ScansMessage]):
    """Records redirect scans, orphan scans and device scans, durably and in batches."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        metrics: ScanMetrics,
        *,
        anonymize: bool = True,
        max_batch: int = 1024,
    ) -> None:
        self._metrics = metrics
        self._db = db
        self._store = ScanStore(db)
        self._clock = clock
        self._anonymize = anonymize
        self._max_batch = max_batch
        self._counts: dict[str, int] = {}
        self._salts = _KnownSalts()
        self._hasher = VisitorHasher(self._salts)

    async def on_start(self) -> None:
        """Load the counters that enforce ``max_scans``."""
        self._counts = await self._store.load_counters()

    async def on_message(self, message: ScansMessage) -> Any:
        """Commit this message together with every message queued behind it."""
        taken = self.take_queued(self._max_batch - 1)
        messages: list[ScansMessage] = [message, *(envelope.message for envelope in taken)]
        try:
            replies = await self._commit(messages)
        except (sqlite3.Error, OSError, StorageUnavailable) as exc:
            # A storage fault is not the actor's bug: answer every waiting request with it
            # (the HTTP layer says 503) instead of crashing into a restart storm.
            log.error("scan batch not stored", error=str(exc), messages=len(messages))
            failure = StorageUnavailable(f"scans could not be stored: {exc}")
            for envelope in taken:
                envelope.fail(failure)
            return failure
        for envelope, reply in zip(taken, replies[1:], strict=True):
            envelope.reply(reply)
        return replies[0]

    async def _commit(self, messages: Sequence[ScansMessage]) -> list[Any]:
        started = time.perf_counter()
        now = self._clock.now()
        today = now.date()
        if today not in self._salts.by_day:
            self._salts.by_day = {today: await self._store.salt_for(today)}
        batch = _Batch(len(messages))
        recorded_at = format_time(now)

        def store(conn: sqlite3.Connection) -> int | None:
            for index, message in enumerate(messages):
                if isinstance(message, RecordScan):
                    batch.replies[index] = self._add_scan(batch, message, today)
                elif isinstance(message, RecordOrphan):
                    self._add_orphan(batch, message, today)
                else:
                    fresh = EventLog.claim_device_ids(conn, [s.id for s in message.scans])
                    batch.replies[index] = self._add_device_scans(batch, message.scans, fresh)
            if not batch.events:
                return None
            last_seq = EventLog.append(conn, batch.events, recorded_at)
            ScanStore.add_to_counters(conn, batch.counts)
            return last_seq

        last_seq = await self._db.write(store)
        for slug, added in batch.counts.items():
            self._counts[slug] = self._counts.get(slug, 0) + added
        metrics = self._metrics
        metrics.batch_size.observe(len(messages))
        metrics.commit_seconds.observe(time.perf_counter() - started)
        recorded = sum(batch.counts.values())
        if recorded:
            metrics.events.labels("recorded").inc(recorded)
        if len(batch.events) > recorded:
            metrics.events.labels("orphaned").inc(len(batch.events) - recorded)
        bus = self.system.bus
        for event in batch.published:
            bus.publish_nowait(event)
        if last_seq is not None:
            bus.publish_nowait(LogAppended(last_seq))
        return batch.replies

    def _who(self, message: ScanRequest, day: date) -> tuple[str | None, str | None]:
        """The stored address (anonymised unless configured otherwise) and the visitor hash."""
        address = message.address
        if not address:
            return None, None
        ip = anonymize_ip(address) if self._anonymize else address
        return ip or None, self._hasher.visitor_hash(day, address, message.user_agent or "")

    def _add_scan(self, batch: _Batch, message: RecordScan, day: date) -> bool:
        slug = message.slug
        counts = batch.counts
        if message.max_scans is not None:
            used = self._counts.get(slug, 0) + counts.get(slug, 0)
            if used >= message.max_scans:
                self._metrics.refused.inc()
                return False
        ip, visitor = self._who(message, day)
        event = ScanRecorded(
            id=new_event_id(),
            occurred_at=message.at,
            slug=slug,
            source=message.source,
            ip=ip,
            visitor=visitor,
            user_agent=message.user_agent,
            referrer=message.referrer,
            country=message.country,
        )
        self._append(batch, event, "scan.recorded", slug)
        counts[slug] = counts.get(slug, 0) + 1
        return True

    def _add_orphan(self, batch: _Batch, message: RecordOrphan, day: date) -> None:
        ip, visitor = self._who(message, day)
        event = ScanOrphaned(
            id=new_event_id(),
            occurred_at=message.at,
            slug=message.slug,
            source=message.source,
            ip=ip,
            visitor=visitor,
            user_agent=message.user_agent,
            referrer=message.referrer,
            country=message.country,
        )
        self._append(batch, event, "scan.orphaned", message.slug)

    def _add_device_scans(
        self, batch: _Batch, scans: Sequence[DeviceScan], fresh: Sequence[bool]
    ) -> list[IngestResult]:
        results: list[IngestResult] = []
        for scan, new in zip(scans, fresh, strict=True):
            if not new:
                results.append(IngestResult(scan.id, "duplicate"))
                continue
            event = ScanRecorded(
                id=scan.id,
                occurred_at=scan.occurred_at,
                slug=scan.slug,
                source="device",
                device_id=scan.device_id,
                data=scan.data,
            )
            self._append(batch, event, "scan.recorded", scan.slug)
            batch.counts[scan.slug] = batch.counts.get(scan.slug, 0) + 1
            results.append(IngestResult(scan.id, "accepted"))
        return results

    @staticmethod
    def _append(batch: _Batch, event: DomainEvent, type_: str, slug: str) -> None:
        batch.events.append(
            NewEvent(event.id, type_, slug, format_time(event.occurred_at), encode_event(event))
        )
        batch.published.append(event)
