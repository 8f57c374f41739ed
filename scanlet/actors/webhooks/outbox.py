"""The outbox follower: turns committed events into deliveries, in the log's transaction.

It follows the event log like a read model: for each batch it writes one outbox row per
(enabled endpoint that wants the event) in the same transaction that stores its position, so
an event is put in the outbox exactly once even across a kill -9, and delivery is then at
least once. An endpoint only receives events committed after it was created.
"""

from __future__ import annotations

import sqlite3

from scanlet.actors.follower import LogFollower
from scanlet.actors.webhooks.metrics import WebhookMetrics
from scanlet.actors.webhooks.signing import event_body
from scanlet.actors.webhooks.wakeup import ring, worker_name
from scanlet.clock import Clock
from scanlet.storage.records import NewDelivery, StoredEvent
from scanlet.storage.sqlite.database import Database
from scanlet.storage.sqlite.webhooks import WebhookStore

__all__ = ("OutboxFollower",)


class OutboxFollower(LogFollower):
    """Fills ``webhook_outbox`` from the event log and wakes the workers concerned."""

    position_name = "webhooks"

    def __init__(self, db: Database, clock: Clock, metrics: WebhookMetrics) -> None:
        super().__init__(db)
        self._clock = clock
        self._metrics = metrics
        self._added = 0
        self._woken: set[str] = set()

    def can_skip_now(self) -> bool:
        """No endpoint is enabled: the log can be passed over without reading payloads
        (most installations have no webhooks; reading every scan cost 1.5 us a scan)."""
        return not self.db.read_now(WebhookStore.enabled_endpoints)

    def can_skip(self, conn: sqlite3.Connection) -> bool:
        """Still none in the transaction that moves the position. An endpoint created later
        starts after the log's end at its creation (``after_seq``), so it misses nothing."""
        return not WebhookStore.enabled_endpoints(conn)

    def apply(self, conn: sqlite3.Connection, events: list[StoredEvent]) -> None:
        """Enqueue a delivery per interested endpoint (read in this same transaction)."""
        self._added, self._woken = 0, set()
        endpoints = WebhookStore.enabled_endpoints(conn)
        if not endpoints:
            return
        deliveries: list[NewDelivery] = []
        for event in events:
            wanting = [e for e in endpoints if event.seq > e.after_seq and e.wants(event.type)]
            if not wanting:
                continue
            body = event_body(event)
            deliveries.extend(
                NewDelivery(e.id, event.seq, event.id, event.type, body) for e in wanting
            )
        WebhookStore.enqueue(conn, deliveries, self._clock.now())
        self._added = len(deliveries)
        self._woken = {d.endpoint_id for d in deliveries}

    async def applied(self, events: list[StoredEvent]) -> None:
        """After the commit: count the new rows and wake their endpoints' workers."""
        self._metrics.outbox_depth.inc(self._added)
        for endpoint_id in sorted(self._woken):
            ring(self.system, worker_name(endpoint_id))
        self._added, self._woken = 0, set()
