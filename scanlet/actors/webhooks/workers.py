"""The delivery workers of the instance that leads: one per endpoint with deliveries.

Only the leading instance runs the outbox follower, so only it runs workers: it starts one
for every enabled endpoint when it takes the lead, and the follower starts one for any
endpoint it has just queued deliveries for (created on another instance, say). Any
instance may create or delete endpoints; a worker whose endpoint is gone stops itself.
"""

from __future__ import annotations

import contextlib

from scanlet.actors.webhooks.wakeup import worker_name
from scanlet.actors.webhooks.worker import DeliveryDeps, DeliveryWorker
from scanlet.runtime import (
    ActorNameTaken,
    ActorNotFound,
    ActorSystem,
    ChildSpec,
    Restart,
    SupervisorRef,
)

__all__ = ("DeliveryWorkers",)


class DeliveryWorkers:
    """Starts delivery workers under one supervisor."""

    def __init__(self, deps: DeliveryDeps, system: ActorSystem, supervisor: SupervisorRef) -> None:
        self._deps = deps
        self._system = system
        self._supervisor = supervisor

    async def start_enabled(self) -> int:
        """A worker for every enabled endpoint (pending deliveries resume); how many."""
        endpoints = await self._deps.store.endpoints()
        enabled = [row.id for row in endpoints if row.enabled]
        for endpoint_id in enabled:
            await self.ensure(endpoint_id)
        return len(enabled)

    async def ensure(self, endpoint_id: str) -> None:
        """Start the endpoint's worker unless it runs already."""
        with contextlib.suppress(ActorNotFound):
            if self._system.lookup(worker_name(endpoint_id)).is_alive:
                return
        deps = self._deps
        spec = ChildSpec(
            worker_name(endpoint_id),
            lambda: DeliveryWorker(endpoint_id, deps),
            # Restarted after a crash (a database error), not after it stopped itself
            # because its endpoint was disabled or deleted.
            restart=Restart.TRANSIENT,
            mailbox_capacity=2,
            # A stop cancels an attempt in flight after this: it is simply retried later.
            stop_timeout=2.0,
        )
        with contextlib.suppress(ActorNameTaken):
            await self._supervisor.spawn(spec)
