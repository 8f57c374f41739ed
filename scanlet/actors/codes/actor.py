"""The codes actor: owns the catalogue, its rules, its events and the in-memory index.

Domain refusals (a taken slug, a bad target) are refusals (``refuses``): the asker gets the
``CodeError``, the actor carries on. It reaches its table and the log through the
``CodeRepository`` port only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Sequence
from datetime import datetime
from typing import Any

import msgspec
import structlog

from scanlet.actors.codes.code import Code
from scanlet.actors.codes.decide import compile_router, location_of
from scanlet.actors.codes.domain_book import DomainBook
from scanlet.actors.codes.domain_messages import (
    CreateDomain,
    DeleteDomain,
    DomainChanges,
    NewDomain,
    UpdateDomain,
)
from scanlet.actors.codes.errors import CodeError, CodeNotFound, InvalidField, SlugTaken
from scanlet.actors.codes.index import CodeIndex, Route
from scanlet.actors.codes.keys import code_key, is_domain_key
from scanlet.actors.codes.kinds import VcardContent, content_of, is_tracked
from scanlet.actors.codes.logos import check_stored_logo
from scanlet.actors.codes.messages import (
    CodeChanges,
    CreateCode,
    DeleteCode,
    ImportCode,
    NewCode,
    RefreshCodes,
    SetLogo,
    UpdateCode,
)
from scanlet.actors.codes.origins import OwnOrigins
from scanlet.actors.codes.passwords import hash_password, is_password_hash
from scanlet.actors.codes.payloads import vcard_text
from scanlet.actors.codes.rules import check_code
from scanlet.actors.codes.validation import RESERVED_SLUGS, generate_slug, validate_slug
from scanlet.actors.events import (
    SYSTEM_BY,
    By,
    CodeCreated,
    CodeDeleted,
    CodeUpdated,
    LogAppended,
    log_entry,
)
from scanlet.clock import Clock
from scanlet.ids import new_event_id
from scanlet.runtime import Actor, ActorRef, ActorStopped, MailboxFull
from scanlet.storage.errors import StorageUnavailable
from scanlet.storage.ports import CodeRepository, DomainRepository
from scanlet.storage.records import CodeRow, DomainRow, StoredLogo

__all__ = ("CodesActor", "CodesClient", "route_of")

log = structlog.get_logger("scanlet.codes")

#: The fields whose URLs are the code's routing (checked against own origins when set).
_ROUTING_FIELDS = frozenset({"fallback_url", "rules", "split"})

CodesMessage = (
    CreateCode
    | NewCode
    | ImportCode
    | UpdateCode
    | SetLogo
    | DeleteCode
    | RefreshCodes
    | NewDomain
    | UpdateDomain
    | DeleteDomain
)


def route_of(code: Code) -> Route | None:
    """The index entry for a code; None for a static one (no scan reaches it)."""
    if not code.tracked:
        return None
    card = None
    if isinstance(code.content, VcardContent):
        card = vcard_text(code.content).encode()
    return Route(
        target=code.target,
        # Location headers are ASCII: non-ASCII targets are percent-encoded once, here.
        location=location_of(code.target),
        enabled=code.enabled,
        valid_from=code.valid_from,
        valid_until=code.valid_until,
        max_scans=code.max_scans,
        redirect_status=code.redirect_status,
        router=compile_router(code),
        card=card,
    )


async def _hashed(password: str | None) -> str | None:
    return None if password is None else await hash_password(password)


class CodesActor(Actor[CodesMessage]):
    """Creates, changes and deletes codes; keeps ``index`` current after each commit."""

    def __init__(
        self,
        codes: CodeRepository,
        index: CodeIndex,
        clock: Clock,
        *,
        own_origins: OwnOrigins,
        domains: DomainRepository,
        compact: bool = False,
    ) -> None:
        self._store = codes
        # SCANLET_QR_COMPACT: printed codes name slugs ignoring case (``/Q/SLUG``), so a new
        # slug may not equal a taken one ignoring case, or an old printed code would change
        # meaning (see ``CodeIndex.canonical``).
        self._compact = compact
        self._index = index
        self._clock = clock
        # Where this server answers: no target may point there (a code would loop).
        self._own_origins = own_origins
        self._codes: dict[str, Code] = {}
        self._domains = DomainBook(domains, index, clock, own_origins, self._stored)

    async def on_start(self) -> None:
        """Rebuild the index from storage, so a restart serves exactly what was committed."""
        await self._load_all()

    async def _load_all(self) -> None:
        await self._domains.load_all()
        rows = await self._store.all()
        # Swapped without an await in between: during a restart the redirect path keeps
        # resolving from the old index instead of answering 404 while the rows load.
        self._index.clear()
        self._codes.clear()
        for row in rows:
            if row.deleted:
                self._index.reserve(row.slug)
            else:
                code = self._codes[row.slug] = Code.from_row(row)
                self._index.put(row.slug, route_of(code))
        log.info("codes index loaded", codes=len(self._index))

    # A user's typo is not a crash, and neither is a full disk or a locked file: restarting
    # would not help, and a storm of restarts could take the whole system down. Nothing
    # changes in memory before a commit, so a refused command leaves no trace.
    refuses = (CodeError, StorageUnavailable)

    async def on_message(self, message: CodesMessage) -> CodeRow | DomainRow | None:
        """Apply one command; a refusal raises ``CodeError`` or ``StorageUnavailable``."""
        if isinstance(message, NewDomain):
            return await self._domains.create(message.command, message.by)
        if isinstance(message, UpdateDomain):
            return await self._domains.update(message.host, message.changes, message.by)
        if isinstance(message, DeleteDomain):
            await self._domains.delete(message.host, message.by)
            return None
        if isinstance(message, CreateCode):
            return await self._create(message, SYSTEM_BY)
        if isinstance(message, NewCode):
            return await self._create(message.command, message.by)
        if isinstance(message, ImportCode):
            return await self._create(
                message.code,
                SYSTEM_BY,
                origin=message.origin,
                created_at=message.created_at,
                updated_at=message.updated_at,
                enabled=message.enabled,
                password_hash=message.password_hash,
                logo=message.logo,
                dry_run=message.dry_run,
            )
        if isinstance(message, UpdateCode):
            return await self._update(message.slug, message.changes, message.by)
        if isinstance(message, SetLogo):
            return await self._set_logo(message.slug, message.logo, message.by)
        if isinstance(message, RefreshCodes):
            await self._refresh(message.slugs)
            return None
        await self._delete(message.slug, message.by)
        return None

    async def _refresh(self, slugs: tuple[str, ...]) -> None:
        """Serve ``slugs`` as storage has them now (another instance changed them)."""
        if not slugs:
            await self._load_all()
            return
        for slug in dict.fromkeys(slugs):
            if is_domain_key(slug):
                await self._domains.refresh(slug.removesuffix("/"))
                continue
            row = await self._store.find(slug)
            if row is None:
                continue
            if row.deleted:
                self._codes.pop(slug, None)
                self._index.remove(slug)
            else:
                code = self._codes[slug] = Code.from_row(row)
                self._index.put(slug, route_of(code))

    async def _create(
        self,
        command: CreateCode,
        by: By,
        *,
        origin: str | None = None,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
        enabled: bool = True,
        password_hash: str | None = None,
        logo: StoredLogo | None = None,
        dry_run: bool = False,
    ) -> CodeRow:
        now = self._clock.now()
        if logo is not None:
            check_stored_logo(logo)
        if password_hash is not None and not is_password_hash(password_hash):
            raise InvalidField("password_hash", "must be an argon2id hash (PHC string)")
        # A slug is unique per domain: the code's key is its domain and slug together.
        host = self._index.domains.resolve(command.domain, "domain")
        if command.slug is None:
            slug = code_key(host, generate_slug())
            # Generated slugs never equal a taken one ignoring case: they may all be compact.
            while self._index.taken_ignoring_case(slug):
                slug = code_key(host, generate_slug())
        else:
            slug = code_key(host, validate_slug(command.slug, RESERVED_SLUGS))
            if self._index.is_taken(slug):
                raise SlugTaken(command.slug)
            if self._compact and self._index.taken_ignoring_case(slug):
                raise SlugTaken(command.slug, ignoring_case=True)
        kind = command.kind
        tracked = is_tracked(kind, command.tracked)
        if kind == "url":
            if command.target is None:
                raise InvalidField("target", "is required for a url code")
            if command.content is not None:
                raise InvalidField("content", "must be left out: a url code leads to its target")
            content = None
        elif command.content is None:
            raise InvalidField("content", f"is required for a {kind} code")
        else:
            content = content_of(kind, command.content)
        code = check_code(
            Code(
                slug=slug,
                target="" if command.target is None else command.target,
                kind=kind,
                content=content,
                tracked=tracked,
                title=command.title,
                tags=tuple(command.tags),
                enabled=enabled,
                valid_from=command.valid_from,
                valid_until=command.valid_until,
                max_scans=command.max_scans,
                redirect_status=command.redirect_status,
                created_at=created_at or now,
                updated_at=updated_at or created_at or now,
                fallback_url=command.fallback_url,
                rules=command.rules,
                split=command.split,
                forward_query=command.forward_query,
                password_hash=password_hash or await _hashed(command.password),
                logo=None if logo is None else logo.digest,
            ),
            self._own_origins,
            target_is_new=True,
        )
        row = code.row()
        if dry_run:
            return row
        event = CodeCreated(id=new_event_id(), occurred_at=now, by=by, code=code.state())
        entry = log_entry(event, slug)
        await self._stored(
            self._store.create(row, entry, self._clock.now(), origin=origin, logo=logo)
        )
        self._codes[slug] = code
        self._index.put(slug, route_of(code))
        log.info("code created", slug=slug)
        return row

    async def _update(self, slug: str, changes: CodeChanges, by: By) -> CodeRow:
        current = self._codes.get(slug)
        if current is None:
            raise CodeNotFound(slug)
        now = self._clock.now()
        fields: dict[str, Any] = {
            name: getattr(changes, name)
            for name in changes.__struct_fields__
            if getattr(changes, name) is not msgspec.UNSET
        }
        if "tags" in fields:
            fields["tags"] = tuple(fields["tags"])
        for name in ("kind", "tracked"):
            if name in fields and fields.pop(name) != getattr(current, name):
                raise InvalidField(name, "cannot change: create a new code instead")
        if "content" in fields:
            fields["content"] = content_of(current.kind, fields["content"])
        # Write-only: a password given is a new hash (the same password, a new salt), so
        # setting it is always a change; null removes it.
        password = fields.pop("password", msgspec.UNSET)
        changed = tuple(name for name, value in fields.items() if getattr(current, name) != value)
        if password is not msgspec.UNSET and (password is not None or current.password_hash):
            fields["password_hash"] = await _hashed(password)
            changed = (*changed, "password")
        if not changed:
            return current.row()
        code = check_code(
            msgspec.structs.replace(current, **fields, updated_at=now),
            self._own_origins,
            target_is_new="target" in changed,
            routing_is_new=not _ROUTING_FIELDS.isdisjoint(changed),
        )
        event = CodeUpdated(
            id=new_event_id(), occurred_at=now, by=by, code=code.state(), changed=changed
        )
        row = code.row()
        await self._stored(self._store.update(row, log_entry(event, slug), self._clock.now()))
        self._codes[slug] = code
        self._index.put(slug, route_of(code))
        log.info("code updated", slug=slug, changed=list(changed))
        return row

    async def _set_logo(self, slug: str, logo: StoredLogo | None, by: By) -> CodeRow:
        current = self._codes.get(slug)
        if current is None:
            raise CodeNotFound(slug)
        digest = None if logo is None else check_stored_logo(logo).digest
        if digest == current.logo:
            return current.row()
        now = self._clock.now()
        code = msgspec.structs.replace(current, logo=digest, updated_at=now)
        event = CodeUpdated(
            id=new_event_id(), occurred_at=now, by=by, code=code.state(), changed=("logo",)
        )
        entry = log_entry(event, slug)
        await self._stored(self._store.set_logo(slug, logo, now, entry, self._clock.now()))
        # The redirect index holds nothing of a logo: only the code changes.
        self._codes[slug] = code
        log.info("code logo changed", slug=slug, logo=digest)
        return code.row()

    async def _delete(self, slug: str, by: By) -> None:
        if slug not in self._codes:
            raise CodeNotFound(slug)
        now = self._clock.now()
        event = CodeDeleted(id=new_event_id(), occurred_at=now, by=by, slug=slug)
        await self._stored(self._store.delete(slug, now, log_entry(event, slug), self._clock.now()))
        del self._codes[slug]
        self._index.remove(slug)
        log.info("code deleted", slug=slug)

    async def _stored(self, commit: Awaitable[int]) -> None:
        """Wait for a change and its event to commit, then ring the followers' doorbell
        (they read the event from the log)."""
        last_seq = await commit
        self.system.bus.publish_nowait(LogAppended(last_seq))


class CodesClient:
    """Typed requests to the codes actor: refusals raise ``CodeError`` (or
    ``StorageUnavailable``), a crash ``ActorCrashed``, a full mailbox ``MailboxFull``."""

    def __init__(self, ref: ActorRef[CodesMessage]) -> None:
        self._ref = ref

    async def create(self, command: CreateCode, by: By = SYSTEM_BY) -> CodeRow:
        """Create a code on behalf of ``by`` (InvalidField, SlugTaken on refusal)."""
        return await self._ref.ask(NewCode(command, by), wait=False)

    async def update(self, slug: str, changes: CodeChanges, by: By = SYSTEM_BY) -> CodeRow:
        """Change a code on behalf of ``by`` (CodeNotFound, InvalidField on refusal)."""
        return await self._ref.ask(UpdateCode(slug, changes, by), wait=False)

    async def create_domain(self, command: CreateDomain, by: By = SYSTEM_BY) -> DomainRow:
        """Register a domain on behalf of ``by`` (InvalidField, DomainTaken on refusal)."""
        return await self._ref.ask(NewDomain(command, by), wait=False)

    async def update_domain(
        self, host: str, changes: DomainChanges, by: By = SYSTEM_BY
    ) -> DomainRow:
        """Change a domain on behalf of ``by`` (DomainNotFound, InvalidField on refusal)."""
        return await self._ref.ask(UpdateDomain(host, changes, by), wait=False)

    async def delete_domain(self, host: str, by: By = SYSTEM_BY) -> None:
        """Remove a domain on behalf of ``by`` (DomainNotFound, DomainInUse on refusal)."""
        await self._ref.ask(DeleteDomain(host, by), wait=False)

    def refresh(self, slugs: Sequence[str]) -> None:
        """Have the codes ``slugs`` (all of them, if none) loaded again, without waiting;
        a full mailbox already holds work that reads the catalogue (dropped: counted as a
        dead letter, and the periodic resync picks the change up)."""
        with contextlib.suppress(MailboxFull, ActorStopped):
            self._ref.tell_nowait(RefreshCodes(tuple(slugs)))

    async def import_code(self, command: ImportCode) -> CodeRow:
        """Create an imported code (InvalidField, SlugTaken on refusal)."""
        return await self._ref.ask(command, wait=False)

    async def set_logo(self, slug: str, logo: StoredLogo | None, by: By = SYSTEM_BY) -> CodeRow:
        """Give a code a logo, or remove it (None), on behalf of ``by`` (CodeNotFound,
        InvalidField on refusal)."""
        return await self._ref.ask(SetLogo(slug, logo, by), wait=False)

    async def delete(self, slug: str, by: By = SYSTEM_BY) -> None:
        """Delete a code on behalf of ``by`` (CodeNotFound if there is none)."""
        await self._ref.ask(DeleteCode(slug, by), wait=False)
