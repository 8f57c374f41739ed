"""The analytics feature: the follower actor, retention, and the stats and raw-scan routes."""

from __future__ import annotations

from contextlib import AsyncExitStack

import anyio
from anyio.abc import TaskGroup

from scanlet.actors.analytics.actor import AnalyticsFollower, apply_histogram, lag_gauge
from scanlet.actors.analytics.projection import AnalyticsProjection
from scanlet.actors.analytics.retention import RetentionPolicy, run_retention
from scanlet.actors.follower import start_doorbell
from scanlet.adapters.agent_worker import AgentWorker
from scanlet.adapters.geoip import open_countries
from scanlet.adapters.user_agents import describe_agent
from scanlet.assembly.cluster import lead
from scanlet.assembly.projection_worker import ProjectionWorker, worker_wanted
from scanlet.http.endpoint import Endpoint
from scanlet.http.scans_api import scan_endpoints
from scanlet.http.services import Services
from scanlet.http.stats_api import stats_endpoints
from scanlet.runtime import ChildSpec, SupervisorRef

__all__ = ("AnalyticsFeature",)

#: How long a lost lead waits for the projection worker to finish its slice and stop.
STOP_SECONDS = 10.0

#: At most one catch-up of the projection per this many seconds. Each catch-up folds and
#: applies what came in since the last one on the loop, and redirects wait meanwhile: at
#: 50 ms (the followers' default) the whole product's p99 under saturation was 7.98-9.23 ms,
#: at 10 ms 5.21-7.45 ms (eight alternating runs each of bench/redirect.py), for slightly
#: smaller batches' overhead: a median 0.615 of the bare app against 0.635.
CATCH_UP_DEBOUNCE = 0.01


class AnalyticsFeature:
    """Installs the analytics read side into the app."""

    name = "analytics"

    def __init__(self, *, doorbell_interval: float = 1.0, retention_interval: float = 3600.0):
        self.doorbell_interval = doorbell_interval
        self.retention_interval = retention_interval

    def endpoints(self) -> list[Endpoint]:
        """The stats and raw-scan routes."""
        return [*stats_endpoints(), *scan_endpoints()]

    async def start(
        self,
        services: Services,
        supervisor: SupervisorRef,
        stack: AsyncExitStack,
        tasks: TaskGroup,
    ) -> None:
        """Serve the read side; while this instance leads, run the follower (it catches up
        at once, rung on every event) and purge raw scans past their retention."""
        storage = services.storage
        policy = RetentionPolicy(services.settings.raw_retention_days, services.clock.now)
        countries = open_countries(services.settings.geoip_db, stack)
        projection = AnalyticsProjection(describe_agent, countries, policy.cutoff)
        raw_scans = services.raw_scans = storage.raw_scans(projection.raw_scan)
        gauge = lag_gauge(services.registry)
        applies = apply_histogram(services.registry)
        prefetch = None
        if services.settings.agent_worker:
            worker = AgentWorker(registry=services.registry)
            stack.push_async_callback(worker.aclose)
            prefetch = worker.prefetch
        projector = None
        if worker_wanted(services.settings.projection_worker):
            projector = ProjectionWorker(
                services.settings, policy.cutoff, registry=services.registry
            )
            stack.push_async_callback(projector.aclose)

        async def duty(leading: SupervisorRef, duty_tasks: TaskGroup) -> None:
            if projector is not None:
                # A worker serves one term of leadership: a lost lead stops it.
                duty_tasks.start_soon(_stop_at_end, projector)
            ref = await leading.spawn(
                ChildSpec(
                    "analytics",
                    lambda: AnalyticsFollower(
                        storage.events,
                        storage.positions,
                        storage.analytics,
                        projection,
                        gauge,
                        prefetch,
                        None if projector is None else projector.catch_up,
                        applies,
                    ),
                    mailbox_capacity=2,
                )
            )
            start_doorbell(
                duty_tasks,
                ref,
                services.system.bus,
                interval=self.doorbell_interval,
                debounce=CATCH_UP_DEBOUNCE,
            )
            if policy.days is not None:
                duty_tasks.start_soon(
                    lambda: run_retention(raw_scans, policy, interval=self.retention_interval)
                )

        await tasks.start(lead, services.leadership, supervisor, "analytics-leader", duty)


async def _stop_at_end(worker: ProjectionWorker) -> None:
    try:
        await anyio.sleep_forever()
    finally:
        # A slice it is applying is let finish (it commits batch by batch either way).
        with anyio.CancelScope(shield=True), anyio.move_on_after(STOP_SECONDS):
            await worker.stop()
