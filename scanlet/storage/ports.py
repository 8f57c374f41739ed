"""The storage ports: what the contexts and the HTTP layer ask of storage, whatever the engine.

Each Protocol is implemented by the SQLite adapter (``scanlet.storage.sqlite``) and, for
several instances, by the PostgreSQL one. A method that changes a context's tables also
appends that change's events to the log, in one transaction: the context hands in the rows
and the log entries it made, and the adapter decides how to commit them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Protocol

import anyio
from anyio.abc import TaskStatus

from scanlet.storage.records import (
    ApiKey,
    AttemptOutcome,
    AttemptPage,
    AttemptResult,
    AuditEntry,
    CodePage,
    CodeRow,
    CodeTotal,
    DeliveryRow,
    DomainRow,
    EndpointRow,
    HourRow,
    IdempotentReply,
    NewAttempt,
    NewDelivery,
    NewEvent,
    RawScan,
    RawScanDescriber,
    RawScanPage,
    RawScanQuery,
    ScanBatch,
    ScanCommit,
    ScanFact,
    StoredEvent,
    StoredLogo,
    StoredSession,
    UserRow,
)

__all__ = (
    "ALL_CODES",
    "AnalyticsReader",
    "AnalyticsStorage",
    "AnalyticsWriter",
    "ChangeFeed",
    "CodeRepository",
    "Codes",
    "DomainRepository",
    "EventLogReader",
    "EventLogStore",
    "EventLogWriter",
    "FollowerPositions",
    "IdempotencyRepository",
    "KeyRepository",
    "Leadership",
    "PositionMoved",
    "RawScanReader",
    "ScanRepository",
    "SessionRepository",
    "Storage",
    "WebhookRepository",
)


#: The rollups' name for every code together.
ALL_CODES = "*"

#: Which codes a stats read covers: one slug, ``ALL_CODES``, or several slugs summed (a
#: tag-limited view: each code's unique visitors added up, as ``top_codes`` does).
Codes = str | tuple[str, ...]


class PositionMoved(Exception):
    """Raised when a follower's stored position is not the one it applied up to (a
    ``scanlet rebuild`` ran meanwhile): nothing was applied, and the follower reloads it."""


class CodeRepository(Protocol):
    """The codes catalogue (written by the codes context only)."""

    async def all(self) -> list[CodeRow]:
        """Every code, deleted ones included (their slugs stay taken)."""
        ...

    async def get(self, slug: str) -> CodeRow | None:
        """The live code ``slug``, or None."""
        ...

    async def find(self, slug: str) -> CodeRow | None:
        """The code ``slug`` as stored, a deleted one too (its tombstone), or None."""
        ...

    async def page(
        self,
        *,
        limit: int,
        cursor: str | None,
        tag: str | None,
        q: str | None,
        within: Sequence[str] | None = None,
        domain: str | None = None,
        domains: Sequence[str] | None = None,
    ) -> CodePage:
        """A page of live codes, newest first (``within``: only codes with one of those
        tags; ``domain``: only the codes of that host, ``""`` the default domain's;
        ``domains``: only codes on one of those, a domain limit)."""
        ...

    async def tags_of(self, slugs: Collection[str]) -> dict[str, tuple[str, ...]]:
        """The tags of the codes ``slugs`` (deleted ones: the tags they had); slugs of no
        code are absent."""
        ...

    async def slugs_within(
        self, tags: Collection[str] | None, domains: Collection[str] | None = None
    ) -> list[str]:
        """Every code carrying one of ``tags`` (None: any) on one of ``domains`` (None: any;
        ``""`` the default domain), deleted ones by the tags they had, sorted: what a
        limited view spans."""
        ...

    async def create(
        self,
        row: CodeRow,
        entry: NewEvent,
        recorded_at: datetime,
        *,
        origin: str | None = None,
        logo: StoredLogo | None = None,
    ) -> int:
        """Store a new code and its event; the event's seq. An imported code names the item
        it was made of (``origin``) and may come with its logo (whose hash ``row.logo`` is),
        both stored with it in the same transaction."""
        ...

    async def origins(self, origins: Sequence[str]) -> dict[str, str]:
        """The slugs of the codes imports made of ``origins`` (those never imported are
        absent)."""
        ...

    async def update(self, row: CodeRow, entry: NewEvent, recorded_at: datetime) -> int:
        """Overwrite a code's fields and append its event; the event's seq."""
        ...

    async def delete(self, slug: str, at: datetime, entry: NewEvent, recorded_at: datetime) -> int:
        """Turn a code into a tombstone (its logo goes) and append its event; the event's
        seq."""
        ...

    async def set_logo(
        self,
        slug: str,
        logo: StoredLogo | None,
        at: datetime,
        entry: NewEvent,
        recorded_at: datetime,
    ) -> int:
        """Give the code ``slug`` ``logo`` (None: remove its logo), change its ``updated_at``
        to ``at`` and append its event, in one transaction; the event's seq."""
        ...

    async def logo_digest(self, slug: str) -> str | None:
        """The content hash of the live code ``slug``'s logo (None: none, or no such code)."""
        ...

    async def logo(self, slug: str) -> StoredLogo | None:
        """The live code ``slug``'s logo, or None."""
        ...


class DomainRepository(Protocol):
    """The registered domains (written by the codes context only)."""

    async def all(self) -> list[DomainRow]:
        """Every registered domain."""
        ...

    async def find(self, host: str) -> DomainRow | None:
        """The domain ``host``, or None."""
        ...

    async def create(self, row: DomainRow, entry: NewEvent, recorded_at: datetime) -> int:
        """Store a new domain and its event; the event's seq."""
        ...

    async def update(self, row: DomainRow, entry: NewEvent, recorded_at: datetime) -> int:
        """Overwrite a domain's fields and append its event; the event's seq."""
        ...

    async def delete(self, host: str, entry: NewEvent, recorded_at: datetime) -> int:
        """Remove a domain and append its event; the event's seq."""
        ...


class ScanRepository(Protocol):
    """The scans context's tables: scan counters, device event ids, the daily salts."""

    async def load_counters(self) -> dict[str, int]:
        """Every code's scan count."""
        ...

    async def counts_for(self, slugs: Iterable[str]) -> dict[str, int]:
        """Scan counts for ``slugs`` (missing ones have no scans yet)."""
        ...

    async def salt_for(self, day: date) -> bytes:
        """The visitor salt of ``day``, created on first use; older days' salts are
        forgotten after two days."""
        ...

    async def record(self, batch: ScanBatch, recorded_at: datetime) -> ScanCommit:
        """One group commit: claim the device ids, append every new event, add to the
        counters, all in one transaction."""
        ...

    async def claimed(self, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` claimed already (stored by a device ingest or an import): what
        an import's dry run reports as already imported."""
        ...


class EventLogReader(Protocol):
    """The event log as followers and streams read it, in order of ``position``.

    A reader at position P sees, past P, every committed event exactly once, and never an
    event that would later turn out to come before one it has seen (on PostgreSQL it waits
    for transactions still in flight that could commit such an event).
    """

    async def read_after(
        self, position: int, limit: int, *, types: Sequence[str] | None = None
    ) -> list[StoredEvent]:
        """Up to ``limit`` committed events past ``position``, in log order."""
        ...

    async def last_seq(self) -> int:
        """The highest seq committed (0 for an empty log): for lags and doorbells."""
        ...

    async def last_position(self) -> int:
        """The position a reader that has seen every committed event is at."""
        ...

    async def code_history(
        self, slug: str, *, limit: int, before: int | None = None
    ) -> list[StoredEvent]:
        """The code events (created, updated, deleted) of ``slug``, newest first, with seqs
        below ``before`` (the previous page's last)."""
        ...

    async def position_of(self, seq: int) -> int | None:
        """The position of the event ``seq`` (a stream's ``Last-Event-ID``), or None when
        the log cannot place it."""
        ...

    def seq_at(self, position: int) -> int:
        """The seq of the event at ``position`` (a position a reader reached by reading
        events; 0 for the log's start): how people are told where a reader stands."""
        ...

    async def lag(self, position: int) -> int:
        """About how many committed events lie past ``position`` (for the lag gauge)."""
        ...


class EventLogWriter(Protocol):
    """Appending to the log events that change no table of their own (imports, tests)."""

    async def append(self, entries: Sequence[NewEvent], recorded_at: datetime) -> int:
        """Append ``entries`` in one transaction; the last one's seq."""
        ...


class EventLogStore(EventLogReader, EventLogWriter, Protocol):
    """The event log, read and appended to."""


class FollowerPositions(Protocol):
    """Where each log follower keeps how far it applied the log."""

    async def load(self, name: str) -> int:
        """The follower's stored position (0 before its first batch)."""
        ...


class AnalyticsWriter(Protocol):
    """The analytics read models as the projection writes them."""

    async def apply(
        self,
        name: str,
        expected: int,
        position: int,
        facts: Sequence[ScanFact],
        raw_cutoff: str | None,
    ) -> None:
        """Add ``facts`` to the rollups and the log's scans past ``expected`` up to
        ``position`` to the raw scans (those stored at or after ``raw_cutoff``, the
        retention horizon; None for all), and move the follower ``name`` from ``expected``
        to ``position``, in one transaction; ``PositionMoved`` (nothing applied) when the
        stored position is not ``expected``."""
        ...

    async def reset(self, name: str) -> None:
        """Empty every analytics read model and the follower's position (a rebuild)."""
        ...


class AnalyticsReader(Protocol):
    """The rollups as the stats queries read them."""

    async def hours(self, slug: Codes, start: int, end: int) -> list[HourRow]:
        """Rows of ``slug`` (``ALL_CODES`` for all, a tuple for those codes summed) for hours
        in [start, end), ascending (hours without scans absent)."""
        ...

    async def breakdowns(
        self,
        slug: Codes,
        start: int,
        end: int,
        *,
        include_bots: bool,
        include_excluded: bool = False,
    ) -> dict[str, dict[str, int]]:
        """Scans per dimension value over hours [start, end) (own scans when
        ``include_excluded``)."""
        ...

    async def top_codes(
        self,
        start: int,
        end: int,
        *,
        include_bots: bool,
        limit: int,
        include_excluded: bool = False,
        within: tuple[str, ...] | None = None,
    ) -> list[CodeTotal]:
        """The codes (of ``within`` only, when given) with the most scans over hours
        [start, end)."""
        ...


class RawScanReader(Protocol):
    """Raw scans as the scans API, the export and retention use them."""

    async def page(
        self, query: RawScanQuery, *, limit: int, cursor: str | None = None
    ) -> RawScanPage:
        """One page, newest first."""
        ...

    async def count(self, query: RawScanQuery) -> int:
        """How many scans match (an export's progress total; one pass over an index)."""
        ...

    def stream(
        self, query: RawScanQuery, *, newest_first: bool = True, batch: int = 1000
    ) -> AsyncIterator[list[RawScan]]:
        """Every matching scan, in batches."""
        ...

    async def delete_before(self, cutoff: str, *, batch: int = 500) -> int:
        """Delete up to ``batch`` scans stored before ``cutoff``; how many."""
        ...


class WebhookRepository(Protocol):
    """Webhook endpoints, their outbox and their delivery attempts."""

    async def endpoints(self) -> list[EndpointRow]:
        """Every endpoint, oldest first."""
        ...

    async def endpoint(self, endpoint_id: str) -> EndpointRow | None:
        """One endpoint, or None."""
        ...

    async def next_delivery(self, endpoint_id: str) -> DeliveryRow | None:
        """The oldest pending delivery of an endpoint, or None."""
        ...

    async def outbox_depth(self) -> int:
        """Pending deliveries across all endpoints."""
        ...

    async def attempts(
        self, endpoint_id: str, *, limit: int, cursor: str | None = None
    ) -> AttemptPage:
        """Recorded attempts of an endpoint, newest first."""
        ...

    async def has_enabled_endpoints(self) -> bool:
        """Whether any endpoint is enabled (cheap: asked before each outbox batch)."""
        ...

    async def create_endpoint(self, row: EndpointRow) -> EndpointRow:
        """Store a new endpoint that receives the events committed after this moment; the
        row as stored (its ``after_position`` set)."""
        ...

    async def delete_endpoint(self, endpoint_id: str) -> bool:
        """Remove an endpoint with its deliveries and attempts; False if there was none."""
        ...

    async def enqueue(
        self,
        name: str,
        expected: int,
        position: int,
        plan: Callable[[list[EndpointRow]], list[NewDelivery]],
        now: datetime,
    ) -> int:
        """In one transaction: read the enabled endpoints, put what ``plan`` makes of them in
        the outbox, and move the follower ``name`` from ``expected`` to ``position``; how
        many were added. ``PositionMoved`` (nothing done) if it was not at ``expected``."""
        ...

    async def skip_unless_endpoints(self, name: str, expected: int, position: int) -> bool:
        """Move the follower ``name`` from ``expected`` to ``position`` if, in that same
        transaction, no endpoint is enabled; whether it did (``PositionMoved`` as above)."""
        ...

    async def record_attempt(
        self, attempt: NewAttempt, failures: int, outcome: AttemptOutcome
    ) -> AttemptResult:
        """Record an attempt and its consequence in one transaction (nothing if the endpoint
        was deleted meanwhile)."""
        ...


class KeyRepository(Protocol):
    """API keys as stored (their secrets only as hashes)."""

    async def insert(
        self, row: ApiKey, secret_hash: bytes, *, audit: AuditEntry | None = None
    ) -> None:
        """Store a new key (and ``audit``, in the same transaction)."""
        ...

    async def list(self) -> list[ApiKey]:
        """Every key, oldest first."""
        ...

    async def revoke(self, key_id: str, *, now: datetime, audit: AuditEntry | None = None) -> bool:
        """Revoke a key (and record ``audit`` with it); False when there is no such key."""
        ...

    async def find(self, key_id: str) -> tuple[ApiKey, bytes] | None:
        """A key and its secret's hash, or None."""
        ...


class LastOwner(Exception):
    """Raised when a change to the users would leave no enabled owner (nothing is changed)."""


class UserRepository(Protocol):
    """Accounts as stored (their passwords only as argon2id hashes)."""

    async def insert(
        self, row: UserRow, password_hash: str | None, *, audit: AuditEntry | None = None
    ) -> bool:
        """Store a new user (and ``audit``, in the same transaction); False when the email
        is taken."""
        ...

    async def list(self) -> list[UserRow]:
        """Every user, oldest first."""
        ...

    async def get(self, user_id: str) -> UserRow | None:
        """A user by id, or None."""
        ...

    async def find_by_email(self, email: str) -> tuple[UserRow, str | None] | None:
        """A user by (lower-case) email with their password hash, or None."""
        ...

    async def save(
        self,
        row: UserRow,
        *,
        now: datetime,
        password_hash: str | None = None,
        end_sessions: bool = False,
        audit: AuditEntry | None = None,
    ) -> bool:
        """Store the user's role, tags and disabled state (and a new password hash, if one is
        given); with ``end_sessions`` delete every dashboard session of theirs in the same
        transaction. False when there is no such user; ``LastOwner`` when it would leave no
        enabled owner."""
        ...

    async def delete(self, user_id: str, *, now: datetime, audit: AuditEntry | None = None) -> bool:
        """Delete a user with their sessions, revoking their keys (kept, for the record);
        False when there is no such user; ``LastOwner`` as for ``save``."""
        ...


class AuditLog(Protocol):
    """Administrative actions (users, keys, webhooks), oldest first."""

    async def record(self, entry: AuditEntry) -> None:
        """Append one entry."""
        ...

    async def entries(self, *, since: str | None = None) -> list[AuditEntry]:
        """Every entry at or after ``since`` (RFC 3339 text), oldest first."""
        ...


class SignInFailures(Protocol):
    """Failed password sign-ins, by keyed digests of the account and of the address."""

    async def count(self, account: bytes, address: bytes, since: str) -> tuple[int, int]:
        """Failures since ``since`` for the account and for the address."""
        ...

    async def record(self, account: bytes, address: bytes, at: str, *, forget_before: str) -> None:
        """Note a failure at ``at``; rows older than ``forget_before`` are deleted."""
        ...


class SessionRepository(Protocol):
    """Dashboard sessions: the token goes to the browser, only its hash is stored."""

    max_age: timedelta

    async def create(
        self, key_id: str | None, *, now: datetime, user_id: str | None = None
    ) -> tuple[str, StoredSession]:
        """Start a session for ``key_id`` or ``user_id``: its token (for the cookie) and what
        is stored."""
        ...

    async def find(self, token: str, *, now: datetime) -> StoredSession | None:
        """The live session of ``token``, or None (unknown, ended, expired or idle)."""
        ...

    async def end(self, token: str) -> bool:
        """End the session of ``token``; False if there was none."""
        ...


class IdempotencyRepository(Protocol):
    """Answers kept by idempotency key, so that a request sent again is answered, not
    carried out, again."""

    async def begin(
        self, key: str, fingerprint: str, now: datetime, *, keep: timedelta, stale: timedelta
    ) -> IdempotentReply | None:
        """Claim ``key`` for a request (None: go ahead), or what is stored under it. Keys
        older than ``keep`` are forgotten; one claimed but never answered for ``stale``
        (its process died) is claimed afresh."""
        ...

    async def finish(self, key: str, status: int, body: bytes) -> None:
        """Store the answer of the request that claimed ``key``."""
        ...

    async def release(self, key: str) -> None:
        """Give up a claim that will not be answered (the request failed as a whole)."""
        ...


class Leadership(Protocol):
    """Which instance runs the log followers (exactly one at a time per database)."""

    #: This instance's name.
    instance: str
    #: Whether this instance leads now.
    leading: bool
    #: How many times this instance took the lead.
    terms: int

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Contend for the lead (and hold it) until cancelled."""
        ...

    async def wait_leading(self) -> None:
        """Return once this instance leads."""
        ...

    async def wait_lost(self) -> None:
        """Return once this instance, leading, has stopped leading."""
        ...

    async def leader(self) -> str | None:
        """The name of the leading instance, as the database knows it (None: nobody)."""
        ...


class ChangeFeed(Protocol):
    """Notices between the instances sharing a database (none for a single instance)."""

    async def run(
        self,
        on_codes: Callable[[Sequence[str]], None],
        on_log: Callable[[], None],
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Until cancelled: ``on_codes(slugs)`` when another instance changed codes (an
        empty list: some notices may have been missed), ``on_log()`` when another instance
        appended to the log. Commits of this instance that append to the log are announced
        to the others by the adapter itself while this runs."""
        ...


class Storage(Protocol):
    """One backend's repositories over one database, and the database's own operations."""

    @property
    def location(self) -> str:
        """Where the database is, for logs and messages (no password)."""
        ...

    @property
    def shared(self) -> bool:
        """Whether several instances may use this database at once."""
        ...

    @property
    def created(self) -> bool:
        """Whether opening it created the database's schema (a new database)."""
        ...

    def leadership(self, instance: str) -> Leadership:
        """The follower leadership as ``instance`` takes part in it."""
        ...

    def change_feed(self, instance: str) -> ChangeFeed:
        """The notices ``instance`` exchanges with the others."""
        ...

    def pool_state(self) -> dict[str, int]:
        """Database connections: ``open``, ``idle`` and ``max`` (for ``/metrics``)."""
        ...

    def statements_run(self) -> int | None:
        """Statements sent to a database server since opening (None: not counted)."""
        ...

    def write_holds(self) -> tuple[int, float] | None:
        """How many times this instance held its own writes back for the database's upkeep
        (SQLite: a checkpoint letting the WAL start over), and for how many seconds in all;
        None where it never does."""
        ...

    @property
    def events(self) -> EventLogStore:
        """The event log."""
        ...

    @property
    def positions(self) -> FollowerPositions:
        """The log followers' positions."""
        ...

    @property
    def codes(self) -> CodeRepository:
        """The codes catalogue."""
        ...

    @property
    def domains(self) -> DomainRepository:
        """The registered domains."""
        ...

    @property
    def scans(self) -> ScanRepository:
        """The scans context's tables."""
        ...

    @property
    def analytics(self) -> AnalyticsStorage:
        """The analytics read models."""
        ...

    @property
    def webhooks(self) -> WebhookRepository:
        """Webhook endpoints, outbox and attempts."""
        ...

    @property
    def keys(self) -> KeyRepository:
        """API keys."""
        ...

    @property
    def idempotency(self) -> IdempotencyRepository:
        """Answers kept by idempotency key."""
        ...

    def raw_scans(self, describe: RawScanDescriber) -> RawScanReader:
        """Raw scans listed as ``describe`` derives them from the stored events."""
        ...

    @property
    def users(self) -> UserRepository:
        """Accounts."""
        ...

    @property
    def audit(self) -> AuditLog:
        """Administrative actions."""
        ...

    @property
    def sign_in_failures(self) -> SignInFailures:
        """Failed sign-ins, for the lockout."""
        ...

    def sessions(self, *, max_age: timedelta, idle: timedelta) -> SessionRepository:
        """Dashboard sessions lasting ``max_age`` at most and ``idle`` unused."""
        ...

    @property
    def write_error(self) -> str | None:
        """Why the last write failed (None after a successful one)."""
        ...

    async def ping(self) -> None:
        """Check that the database answers (StorageUnavailable if not)."""
        ...

    async def probe_write(self) -> None:
        """Commit a tiny write (readiness, while writes fail): StorageUnavailable if not."""
        ...

    async def run_maintenance(self) -> None:
        """Background upkeep until cancelled (SQLite: WAL checkpoints)."""
        ...

    async def schema_version(self) -> int:
        """The number of the newest migration applied."""
        ...


class AnalyticsStorage(AnalyticsReader, AnalyticsWriter, Protocol):
    """The analytics read models, read and written."""
