"""The endpoint registry: creates and removes endpoints (on any instance).

Creating an endpoint records, in its transaction, the log's last seq: the endpoint receives
the events committed after it. Its secret is returned once, at creation. A bad URL or an
unknown event type is refused by ``WebhooksClient`` before the actor is asked; a storage
fault is the actor's refusal (503), not a crash.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
import structlog

from scanlet.actors.webhooks.signing import EVENT_TYPES, new_secret
from scanlet.actors.webhooks.ssrf import Resolver, UnsafeUrl, vet_url
from scanlet.actors.webhooks.wakeup import worker_name
from scanlet.actors.webhooks.worker import DeliveryDeps
from scanlet.runtime import (
    Actor,
    ActorNotFound,
    ActorRef,
    Asks,
)
from scanlet.storage.errors import StorageUnavailable
from scanlet.storage.ports import WebhookRepository
from scanlet.storage.records import AttemptPage, EndpointRow

__all__ = (
    "MAX_EVENT_TYPES",
    "CreateEndpoint",
    "DeleteEndpoint",
    "InvalidWebhook",
    "WebhooksActor",
    "WebhooksClient",
    "check_event_types",
)

log = structlog.get_logger("scanlet.webhooks")

MAX_EVENT_TYPES = 32


class InvalidWebhook(ValueError):
    """Raised when an endpoint's URL or event types cannot be accepted."""

    def __init__(self, field: str, msg: str) -> None:
        self.field = field
        self.msg = msg
        super().__init__(f"{field}: {msg}")


class CreateEndpoint(msgspec.Struct, Asks[EndpointRow], frozen=True):
    """Register an endpoint (URL already vetted by the client); ``owner``, ``tags`` and
    ``domains`` for one made by a principal limited to tags or domains (see
    ``EndpointRow``)."""

    url: str
    event_types: tuple[str, ...]
    owner: str | None = None
    tags: tuple[str, ...] | None = None
    domains: tuple[str, ...] | None = None


class DeleteEndpoint(msgspec.Struct, Asks[bool], frozen=True):
    """Remove an endpoint, its pending deliveries and its attempts."""

    endpoint_id: str


RegistryMessage = CreateEndpoint | DeleteEndpoint


def check_event_types(types: Sequence[str]) -> tuple[str, ...]:
    """Known event types or ``*``, deduplicated in order; InvalidWebhook otherwise."""
    if not types:
        raise InvalidWebhook("events", "name at least one event type, or * for all")
    if len(types) > MAX_EVENT_TYPES:
        raise InvalidWebhook("events", f"at most {MAX_EVENT_TYPES} event types")
    unknown = [t for t in types if t != "*" and t not in EVENT_TYPES]
    if unknown:
        raise InvalidWebhook(
            "events",
            f"unknown event type {unknown[0]!r}; known: * or {', '.join(EVENT_TYPES)}",
        )
    return tuple(dict.fromkeys(types))


class WebhooksActor(Actor[RegistryMessage]):
    """Creates and deletes endpoints. Their deliveries are the leading instance's work: its
    outbox follower starts a worker for an endpoint once it has queued something for it."""

    def __init__(self, deps: DeliveryDeps) -> None:
        self._deps = deps

    # A storage fault is no bug of this actor: answered (503), not a restart.
    refuses = (StorageUnavailable,)

    async def on_message(self, message: RegistryMessage) -> EndpointRow | bool:
        """Create (returns the row, with its secret) or delete (returns whether it existed)."""
        if isinstance(message, CreateEndpoint):
            return await self._create(message)
        return await self._delete(message.endpoint_id)

    async def _create(self, command: CreateEndpoint) -> EndpointRow:
        now = self._deps.clock.now()
        endpoint_id = "wh_" + secrets.token_hex(8)
        secret = new_secret()

        row = await self._deps.store.create_endpoint(
            EndpointRow(
                id=endpoint_id,
                url=command.url,
                event_types=command.event_types,
                secret=secret,
                created_at=now,
                # Set by the store to the log's end in the transaction that stores it.
                after_position=0,
                owner=command.owner,
                tags=command.tags,
                domains=command.domains,
            )
        )
        log.info("webhook endpoint created", endpoint=row.id, events=list(row.event_types))
        return row

    async def _delete(self, endpoint_id: str) -> bool:
        try:
            worker: ActorRef[Any] | None = self.system.lookup(worker_name(endpoint_id))
        except ActorNotFound:
            worker = None
        if worker is not None:
            await worker.stop()
        existed = await self._deps.store.delete_endpoint(endpoint_id)
        if existed:
            self._deps.metrics.outbox_depth.set(await self._deps.store.outbox_depth())
            log.info("webhook endpoint deleted", endpoint=endpoint_id)
        return existed


class WebhooksClient:
    """What the HTTP layer calls: vets the URL, asks the registry, reads the tables."""

    def __init__(
        self,
        ref: ActorRef[RegistryMessage],
        store: WebhookRepository,
        *,
        allow_private: bool,
        resolver: Resolver,
    ) -> None:
        self._ref = ref
        self.store = store
        self._allow_private = allow_private
        self._resolver = resolver

    async def create(
        self,
        url: str,
        event_types: Sequence[str],
        *,
        owner: str | None = None,
        tags: Iterable[str] | None = None,
        domains: Iterable[str] | None = None,
    ) -> EndpointRow:
        """Create an endpoint (InvalidWebhook on a refused URL or unknown event types);
        with ``tags`` (``domains``), one that receives only events of codes carrying one of
        them (on one of them), made by ``owner``."""
        types = check_event_types(event_types)
        try:
            await vet_url(url, allow_private=self._allow_private, resolver=self._resolver)
        except UnsafeUrl as exc:
            raise InvalidWebhook("url", exc.reason) from None
        tag_limit = None if tags is None else tuple(sorted(tags))
        domain_limit = None if domains is None else tuple(sorted(domains))
        return await self._ref.ask(
            CreateEndpoint(url, types, owner, tag_limit, domain_limit), wait=False
        )

    async def delete(self, endpoint_id: str) -> bool:
        """Remove an endpoint; False if there was none."""
        return await self._ref.ask(DeleteEndpoint(endpoint_id), wait=False)

    async def attempts(
        self, endpoint_id: str, *, limit: int, cursor: str | None = None
    ) -> AttemptPage:
        """Recorded delivery attempts, newest first."""
        return await self.store.attempts(endpoint_id, limit=limit, cursor=cursor)
