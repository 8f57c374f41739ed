"""``ScansClient``: the typed way every entrance hands scans to the scans actor."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence

from scanlet.actors.events import By
from scanlet.actors.scans.messages import (
    DeviceScan,
    ImportedScan,
    ImportScans,
    IngestEvents,
    IngestResult,
    RecordOrphan,
    RecordScan,
    ScansMessage,
)
from scanlet.runtime import ActorRef, MailboxStatistics

__all__ = ("ScansClient",)


class ScansClient:
    """Asks the scans actor without waiting for mailbox room (a full queue is a 503 now,
    not a slow redirect later).

    Besides each method's answer, every call may raise ``MailboxFull`` (too many scans
    waiting), ``StorageUnavailable`` (the batch could not be committed), ``ScanRejected``
    (this scan cannot become an event) or another ``ActorError`` (the actor is restarting,
    stopped or late).
    """

    __slots__ = ("_ref",)

    def __init__(self, ref: ActorRef[ScansMessage]) -> None:
        self._ref = ref

    @property
    def name(self) -> str:
        """The actor's name (for logs and errors)."""
        return self._ref.name

    def statistics(self) -> MailboxStatistics:
        """The actor's mailbox and counters."""
        return self._ref.statistics()

    # Returns the ask itself rather than awaiting it in a coroutine of its own: one frame
    # less on every redirect.
    def record(self, scan: RecordScan) -> Awaitable[bool]:
        """Store a redirect's scan: True once durable, False when the code is used up."""
        return self._ref.ask(scan, wait=False)

    async def record_orphan(self, scan: RecordOrphan) -> None:
        """Store a request for an unknown slug; returns once durable."""
        await self._ref.ask(scan, wait=False)

    async def ingest(self, scans: Sequence[DeviceScan], by: By | None = None) -> list[IngestResult]:
        """Store device scans (posted by ``by``) in one commit; one result per scan, in
        order."""
        return await self._ref.ask(IngestEvents(list(scans), by), wait=False)

    async def import_scans(self, scans: Sequence[ImportedScan]) -> list[bool]:
        """Store imported visits in one commit; per visit whether it is new (False: an
        earlier import stored it)."""
        return await self._ref.ask(ImportScans(list(scans)), wait=False)

    async def stop(self) -> None:
        """Stop the actor for good (tests of what the server does without it)."""
        await self._ref.stop()
