"""The contexts a command changes data through, started as the server's assembly starts
them: the same actors over the same storage, so a code made from the shell passes the API's
checks, is refused with the API's reasons and leaves the API's events in the log.

A running server hears of the change by itself: on PostgreSQL through its notices, on
SQLite by its twice-a-second look at the log's code events (``assembly.cluster``).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from scanlet.actors.codes.actor import CodesActor, CodesClient
from scanlet.actors.codes.domain_index import DomainIndex
from scanlet.actors.codes.index import CodeIndex
from scanlet.actors.codes.origins import OwnOrigins
from scanlet.actors.webhooks.metrics import WebhookMetrics
from scanlet.actors.webhooks.registry import WebhooksActor, WebhooksClient
from scanlet.actors.webhooks.ssrf import system_resolver
from scanlet.actors.webhooks.wakeup import WakeTimer
from scanlet.actors.webhooks.worker import DeliveryDeps
from scanlet.adapters.webhook_http import HttpxSender
from scanlet.clock import SystemClock
from scanlet.config import Settings
from scanlet.http.resources import CodeResource, QrLinks, code_resource
from scanlet.observability.logging import configure_logging
from scanlet.runtime import ActorSystem, ChildSpec
from scanlet.storage.opening import open_storage
from scanlet.storage.ports import Storage
from scanlet.storage.records import CodeRow

__all__ = (
    "CodesContext",
    "codes_context",
    "quiet_logs",
    "running_system",
    "webhooks_context",
)


def quiet_logs(settings: Settings) -> None:
    """The actors' log lines are for servers: a command shows only warnings and errors, on
    stderr, so its stdout stays what it prints."""
    configure_logging(settings.log_format, "warning")


@asynccontextmanager
async def running_system(settings: Settings) -> AsyncIterator[tuple[Storage, ActorSystem]]:
    """The database (which must exist) and an actor system on it, for the block."""
    quiet_logs(settings)
    async with (
        open_storage(settings, create=False) as storage,
        ActorSystem(name="scanlet-cli", ask_timeout=settings.ask_timeout) as system,
    ):
        yield storage, system


@dataclass(frozen=True)
class CodesContext:
    """The codes context of one command: the actor's client and the storage it reads."""

    settings: Settings
    storage: Storage
    codes: CodesClient
    #: The actor's index (loaded at its start): which slugs may have compact links.
    index: CodeIndex

    async def resources(self, rows: Iterable[CodeRow]) -> list[CodeResource]:
        """The API's view of ``rows``, scan counters included."""
        listed = list(rows)
        counts = await self.storage.scans.counts_for(row.slug for row in listed)
        links = QrLinks(
            self.index.domains, self.settings.qr_compact, self.index.unique_ignoring_case
        )
        return [code_resource(row, links, counts.get(row.slug, 0)) for row in listed]


@asynccontextmanager
async def codes_context(settings: Settings) -> AsyncIterator[CodesContext]:
    """The codes actor on ``settings``' database, with this server's own origins (a target
    there would loop), for the block."""
    async with running_system(settings) as (storage, system):
        own_origins = OwnOrigins(settings.own_origins)
        index = CodeIndex(DomainIndex(settings.public_base_url))
        ref = await system.spawn(
            ChildSpec(
                name="codes",
                factory=lambda: CodesActor(
                    storage.codes,
                    index,
                    SystemClock(),
                    own_origins=own_origins,
                    domains=storage.domains,
                    compact=settings.qr_compact,
                ),
                mailbox_capacity=16,
            )
        )
        yield CodesContext(settings, storage, CodesClient(ref), index)


@asynccontextmanager
async def webhooks_context(settings: Settings) -> AsyncIterator[tuple[Storage, WebhooksClient]]:
    """The webhook endpoint registry, wired as the integrations feature wires it (the real
    sender and the system's resolver, so a URL is vetted as the API vets it), for the block.
    Deliveries stay the server's: its outbox follower reads the endpoints from storage."""
    async with running_system(settings) as (storage, system):
        allow_private = settings.webhook_allow_private
        sender = HttpxSender(allow_private=allow_private, resolver=system_resolver)
        try:
            deps = DeliveryDeps(
                store=storage.webhooks,
                clock=SystemClock(),
                sender=sender,
                timer=WakeTimer(system),
                metrics=WebhookMetrics(CollectorRegistry()),
                retry_base=settings.webhook_retry_base,
                rand=random.random,
            )
            ref = await system.spawn(
                ChildSpec("webhooks", lambda: WebhooksActor(deps), mailbox_capacity=4)
            )
            yield (
                storage,
                WebhooksClient(
                    ref, storage.webhooks, allow_private=allow_private, resolver=system_resolver
                ),
            )
        finally:
            await sender.aclose()
