"""The integrations feature: signed webhooks and the live event stream, installed as a unit.

Starts, in order: the ``webhook-delivery`` supervisor (one worker per endpoint under it), the
``webhooks`` endpoint registry, the ``webhooks-outbox`` log follower with its doorbell, and
the retry timer. Shutdown stops them in reverse; pending deliveries wait in the outbox.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import AsyncExitStack

import structlog
from anyio.abc import TaskGroup

from scanlet.actors.follower import start_doorbell
from scanlet.actors.webhooks.metrics import WebhookMetrics
from scanlet.actors.webhooks.outbox import OutboxFollower
from scanlet.actors.webhooks.policy import RETRY_CAP
from scanlet.actors.webhooks.registry import WebhooksActor, WebhooksClient
from scanlet.actors.webhooks.sender import WebhookSender
from scanlet.actors.webhooks.ssrf import Resolver, system_resolver
from scanlet.actors.webhooks.wakeup import WakeTimer
from scanlet.actors.webhooks.worker import DeliveryDeps
from scanlet.actors.webhooks.workers import DeliveryWorkers
from scanlet.adapters.webhook_http import HttpxSender
from scanlet.assembly.cluster import lead
from scanlet.http.endpoint import Endpoint
from scanlet.http.log_tail import LogTail
from scanlet.http.services import Services
from scanlet.http.stream import StreamConfig, StreamHub, sse_frame, stream_endpoints
from scanlet.http.stream_limits import StreamLimits
from scanlet.http.webhooks_api import webhook_endpoints
from scanlet.runtime import Backoff, ChildSpec, SupervisorRef, SupervisorSpec

__all__ = ("IntegrationsFeature",)

log = structlog.get_logger("scanlet.webhooks")

# Workers crash only on database errors; restart them patiently rather than give up fast.
# A worker ends with its endpoint (deleted, or disabled after failing deliveries): it is then
# forgotten, so a finished worker never counts as a stopped actor against readiness.
_DELIVERY_SUPERVISOR = SupervisorSpec(
    max_restarts=20, within=60.0, backoff=Backoff(min=0.5, max=30.0), forget_stopped=True
)


class IntegrationsFeature:
    """Webhooks (registry, outbox follower, delivery workers) and ``/api/v1/stream``.

    ``sender`` and ``resolver`` replace the real HTTP client and DNS (tests), ``rand`` the
    retry jitter, ``retry_cap`` the longest wait between attempts, ``stream`` the stream's timings.
    """

    name = "integrations"

    def __init__(
        self,
        *,
        sender: WebhookSender | None = None,
        resolver: Resolver | None = None,
        rand: Callable[[], float] | None = None,
        stream: StreamConfig | None = None,
        doorbell_interval: float = 1.0,
        retry_cap: float = RETRY_CAP,
    ) -> None:
        self._sender = sender
        self._resolver = resolver or system_resolver
        self._rand = rand or random.random
        self._stream = stream or StreamConfig()
        self._doorbell_interval = doorbell_interval
        self._retry_cap = retry_cap

    def endpoints(self) -> list[Endpoint]:
        """The webhook and stream routes."""
        return [*webhook_endpoints(), *stream_endpoints()]

    async def start(
        self,
        services: Services,
        supervisor: SupervisorRef,
        stack: AsyncExitStack,
        tasks: TaskGroup,
    ) -> None:
        """Spawn the webhooks actors, the retry timer and the outbox doorbell."""
        settings, system, storage = services.settings, services.system, services.storage
        allow_private = settings.webhook_allow_private
        sender = self._sender or HttpxSender(allow_private=allow_private, resolver=self._resolver)
        stack.push_async_callback(sender.aclose)
        store = storage.webhooks
        metrics = WebhookMetrics(services.registry)
        metrics.outbox_depth.set(await store.outbox_depth())
        timer = WakeTimer(system)
        tasks.start_soon(timer.run)
        deps = DeliveryDeps(
            store=store,
            clock=services.clock,
            sender=sender,
            timer=timer,
            metrics=metrics,
            retry_base=settings.webhook_retry_base,
            rand=self._rand,
            retry_cap=self._retry_cap,
        )
        registry = await supervisor.spawn(
            ChildSpec("webhooks", lambda: WebhooksActor(deps), mailbox_capacity=64)
        )

        async def duty(leading: SupervisorRef, duty_tasks: TaskGroup) -> None:
            supervised = await leading.spawn_supervisor("webhook-delivery", _DELIVERY_SUPERVISOR)
            workers = DeliveryWorkers(deps, system, supervised)
            started = await workers.start_enabled()
            log.info("webhook deliveries resumed", endpoints=started)
            follower = await leading.spawn(
                ChildSpec(
                    "webhooks-outbox",
                    lambda: OutboxFollower(
                        storage.events,
                        storage.positions,
                        store,
                        services.clock,
                        metrics,
                        workers,
                        storage.codes.tags_of,
                    ),
                    mailbox_capacity=2,
                )
            )
            start_doorbell(duty_tasks, follower, system.bus, interval=self._doorbell_interval)

        await tasks.start(lead, services.leadership, supervisor, "webhooks-leader", duty)
        services.webhooks = WebhooksClient(
            registry, store, allow_private=allow_private, resolver=self._resolver
        )
        event_log = storage.events
        tail = LogTail(event_log, system.bus, sse_frame)
        await tasks.start(tail.run)
        services.stream = StreamHub(
            log=event_log,
            tail=tail,
            limits=StreamLimits(
                settings.stream_limit, settings.stream_limit_per_key, services.registry
            ),
            config=self._stream,
        )
