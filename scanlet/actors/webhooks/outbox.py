"""The outbox follower: turns committed events into deliveries, in the log's transaction.

It runs on the leading instance only, with the delivery workers: after each batch it starts
the worker of any endpoint it queued for that has none yet, and wakes it.

It follows the event log like a read model: for each batch it writes one outbox row per
(enabled endpoint that wants the event) in the same transaction that stores its position, so
an event is put in the outbox exactly once even across a kill -9, and delivery is then at
least once. An endpoint only receives events committed after it was created.

An endpoint made by a key or user limited to tags carries that limit: it receives only the
events of codes carrying one of its tags, by the code's tags as the codes catalogue has them
when the batch is planned (a deleted code's: those it had), never the events of no code
(orphan scans, ``webhook.disabled``). One limited to domains likewise receives only the
events of codes on those domains (by the code's key); it too needs the codes' tags, to tell
a code's events from those of no code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection

from scanlet.actors.access.roles import within_limits
from scanlet.actors.follower import LogFollower
from scanlet.actors.webhooks.metrics import WebhookMetrics
from scanlet.actors.webhooks.signing import event_body
from scanlet.actors.webhooks.wakeup import ring, worker_name
from scanlet.actors.webhooks.workers import DeliveryWorkers
from scanlet.clock import Clock
from scanlet.storage.ports import EventLogReader, FollowerPositions, WebhookRepository
from scanlet.storage.records import EndpointRow, NewDelivery, StoredEvent

__all__ = ("CodeTags", "OutboxFollower")

#: The tags of some codes by slug (deleted ones': those they had; unknown slugs absent): the
#: codes context's catalogue, handed in by the assembly.
CodeTags = Callable[[Collection[str]], Awaitable[dict[str, tuple[str, ...]]]]


class _TagsNeeded(Exception):
    """A limited endpoint is enabled, and the plan was made without codes' tags."""


class OutboxFollower(LogFollower):
    """Fills the webhook outbox from the event log and wakes the workers concerned."""

    position_name = "webhooks"

    def __init__(
        self,
        log: EventLogReader,
        positions: FollowerPositions,
        store: WebhookRepository,
        clock: Clock,
        metrics: WebhookMetrics,
        workers: DeliveryWorkers,
        code_tags: CodeTags,
    ) -> None:
        super().__init__(log, positions)
        self._workers = workers
        self._code_tags = code_tags
        self._store = store
        self._clock = clock
        self._metrics = metrics
        self._added = 0
        self._woken: set[str] = set()
        #: Whether the last transaction saw an enabled limited endpoint. Starts True:
        #: the first batch reads the tags once rather than planning twice.
        self._limited = True

    async def may_skip(self) -> bool:
        """No endpoint is enabled: the log can be passed over without reading payloads
        (most installations have no webhooks; reading every scan cost 1.5 us a scan)."""
        return not await self._store.has_enabled_endpoints()

    async def skip(self, last: int) -> bool:
        """Still none in the transaction that moves the position."""
        return await self._store.skip_unless_endpoints(self.position_name, self.position, last)

    async def commit(self, events: list[StoredEvent], last: int) -> None:
        """Enqueue a delivery per interested endpoint (the endpoints as the transaction that
        stores the position reads them).

        The codes' tags are read only while a limited endpoint is enabled (as the
        last transaction saw them); one that appears meanwhile makes the transaction roll
        back and run again with the tags, so no event is ever judged without them."""
        try:
            await self._enqueue(events, last, await self._tags(events) if self._limited else None)
        except _TagsNeeded:
            self._limited = True
            await self._enqueue(events, last, await self._tags(events))

    async def _enqueue(
        self, events: list[StoredEvent], last: int, tags: dict[str, tuple[str, ...]] | None
    ) -> None:
        woken: set[str] = set()

        def plan(endpoints: list[EndpointRow]) -> list[NewDelivery]:
            limits = {e.id: None if e.tags is None else frozenset(e.tags) for e in endpoints}
            hosts = {e.id: None if e.domains is None else frozenset(e.domains) for e in endpoints}
            self._limited = any(e.tags is not None or e.domains is not None for e in endpoints)
            if self._limited and tags is None:
                raise _TagsNeeded
            known = tags or {}
            deliveries: list[NewDelivery] = []
            for event in events:
                code = None if event.slug is None else known.get(event.slug)
                wanting = [
                    e
                    for e in endpoints
                    if event.position > e.after_position
                    and e.wants(event.type)
                    and within_limits(limits[e.id], hosts[e.id], event.slug, code)
                ]
                if not wanting:
                    continue
                body = event_body(event)
                deliveries.extend(
                    NewDelivery(e.id, event.seq, event.id, event.type, body) for e in wanting
                )
            woken.clear()
            woken.update(d.endpoint_id for d in deliveries)
            return deliveries

        self._added = await self._store.enqueue(
            self.position_name, self.position, last, plan, self._clock.now()
        )
        self._woken = woken

    async def _tags(self, events: list[StoredEvent]) -> dict[str, tuple[str, ...]]:
        """The tags of the codes ``events`` are about (deleted codes': those they had)."""
        return await self._code_tags({e.slug for e in events if e.slug is not None})

    async def applied(self, events: list[StoredEvent]) -> None:
        """After the commit: count the new rows, and start or wake their endpoints' workers."""
        self._metrics.outbox_depth.inc(self._added)
        for endpoint_id in sorted(self._woken):
            await self._workers.ensure(endpoint_id)
            ring(self.system, worker_name(endpoint_id))
        self._added, self._woken = 0, set()
