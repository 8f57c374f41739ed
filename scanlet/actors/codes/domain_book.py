"""The codes actor's domains: registering, changing and removing them, and loading them.

Part of the codes actor (it runs in the actor's handler, one command at a time), kept in a
module of its own: a domain's removal is judged against the live codes the actor holds, and
a code's domain against the domains held here, with no race between the two.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec
import structlog

from scanlet.actors.codes.domain_messages import CreateDomain, DomainChanges
from scanlet.actors.codes.domains import Domain, check_domain, normal_host
from scanlet.actors.codes.errors import DomainInUse, DomainNotFound, DomainTaken
from scanlet.actors.codes.index import CodeIndex
from scanlet.actors.codes.keys import code_key
from scanlet.actors.codes.origins import OwnOrigins
from scanlet.actors.events import By, DomainCreated, DomainDeleted, DomainUpdated, log_entry
from scanlet.clock import Clock
from scanlet.ids import new_event_id
from scanlet.storage.ports import DomainRepository
from scanlet.storage.records import DomainRow

__all__ = ("DomainBook",)

log = structlog.get_logger("scanlet.codes")


class DomainBook:
    """Registered domains: the actor's own copy, the index the scan path reads, and the own
    origins no target may point at (a code redirecting to one of its own domains loops)."""

    def __init__(
        self,
        store: DomainRepository,
        index: CodeIndex,
        clock: Clock,
        own_origins: OwnOrigins,
        stored: Callable[[Awaitable[int]], Awaitable[None]],
    ) -> None:
        self._store = store
        self._index = index
        self._clock = clock
        self._own = own_origins
        self._stored = stored
        self._domains: dict[str, Domain] = {}

    async def load_all(self) -> None:
        """Serve the domains storage has (on start, and when changes may have gone unheard)."""
        domains = [Domain.from_row(row) for row in await self._store.all()]
        for domain in self._domains.values():
            self._own.discard(domain.base_url)
        self._domains = {domain.host: domain for domain in domains}
        self._index.domains.replace_all(domains)
        for domain in domains:
            self._own.add(domain.base_url)

    async def refresh(self, host: str) -> None:
        """Serve the domain ``host`` as storage has it now (another instance changed it)."""
        row = await self._store.find(host)
        self._forget(host)
        if row is not None:
            self._remember(Domain.from_row(row))

    def _remember(self, domain: Domain) -> None:
        self._domains[domain.host] = domain
        self._index.domains.put(domain)
        self._own.add(domain.base_url)

    def _forget(self, host: str) -> None:
        old = self._domains.pop(host, None)
        if old is not None:
            self._own.discard(old.base_url)
        self._index.domains.remove(host)

    async def create(self, command: CreateDomain, by: By) -> DomainRow:
        """Register a domain (InvalidField, DomainTaken on refusal)."""
        host = normal_host(command.host)
        if host in self._domains or host == self._index.domains.default_host:
            raise DomainTaken(host)
        now = self._clock.now()
        domain = check_domain(
            Domain(
                host=host,
                base_url=f"https://{host}" if command.base_url is None else command.base_url,
                not_found_url=command.not_found_url,
                root_url=command.root_url,
                created_at=now,
                updated_at=now,
            )
        )
        event = DomainCreated(id=new_event_id(), occurred_at=now, by=by, domain=domain.state())
        row = domain.row()
        entry = log_entry(event, code_key(host, ""))
        await self._stored(self._store.create(row, entry, self._clock.now()))
        self._remember(domain)
        log.info("domain created", host=host)
        return row

    async def update(self, host: str, changes: DomainChanges, by: By) -> DomainRow:
        """Change a domain (DomainNotFound, InvalidField on refusal)."""
        current = self._domains.get(host)
        if current is None:
            raise DomainNotFound(host)
        fields = {
            name: getattr(changes, name)
            for name in changes.__struct_fields__
            if getattr(changes, name) is not msgspec.UNSET
        }
        changed = tuple(name for name, value in fields.items() if getattr(current, name) != value)
        if not changed:
            return current.row()
        now = self._clock.now()
        domain = check_domain(msgspec.structs.replace(current, **fields, updated_at=now))
        event = DomainUpdated(
            id=new_event_id(), occurred_at=now, by=by, domain=domain.state(), changed=changed
        )
        row = domain.row()
        entry = log_entry(event, code_key(host, ""))
        await self._stored(self._store.update(row, entry, self._clock.now()))
        self._forget(host)
        self._remember(domain)
        log.info("domain updated", host=host, changed=list(changed))
        return row

    async def delete(self, host: str, by: By) -> None:
        """Remove a domain that has no live codes (DomainNotFound, DomainInUse)."""
        if host not in self._domains:
            raise DomainNotFound(host)
        live = self._index.live_on(host)
        if live:
            raise DomainInUse(host, live)
        now = self._clock.now()
        event = DomainDeleted(id=new_event_id(), occurred_at=now, by=by, host=host)
        entry = log_entry(event, code_key(host, ""))
        await self._stored(self._store.delete(host, entry, self._clock.now()))
        self._forget(host)
        log.info("domain deleted", host=host)
