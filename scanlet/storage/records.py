"""The records every storage adapter reads and writes: what crosses the storage ports.

Plain data (msgspec structs and a few tuples), the same for SQLite and PostgreSQL. Typing an
event or deciding a domain rule is the business of the contexts; these are rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec

__all__ = (
    "BOT",
    "DIMENSIONS",
    "HUMAN",
    "OWN",
    "SCAN_ORPHANED",
    "SCAN_RECORDED",
    "ApiKey",
    "AttemptOutcome",
    "AttemptPage",
    "AttemptResult",
    "AttemptRow",
    "CodePage",
    "CodeRow",
    "CodeTotal",
    "CreatedKey",
    "DeliveryRow",
    "DeviceEntry",
    "DomainRow",
    "EndpointDisable",
    "EndpointRow",
    "HourRow",
    "IdempotentReply",
    "LogPosition",
    "NewAttempt",
    "NewDelivery",
    "NewEvent",
    "Profile",
    "RawScan",
    "RawScanDescriber",
    "RawScanPage",
    "RawScanQuery",
    "ScanBatch",
    "ScanCommit",
    "ScanFact",
    "StoredEvent",
    "StoredLogo",
    "StoredSession",
)


# --- The event log -------------------------------------------------------------------------


class NewEvent(msgspec.Struct, frozen=True):
    """An event about to be appended."""

    id: str
    type: str
    slug: str | None
    occurred_at: str
    payload: bytes
    #: The domain event ``payload`` encodes, when the appender has it: kept in memory with
    #: the commit (``RecentAppends``), so this process's followers need not decode it again.
    event: Any = None


class StoredEvent(msgspec.Struct, frozen=True):
    """An event as committed: its ``seq`` (unique, what streams and webhooks call it) and
    its ``position``, the key the log is read in order by.

    On SQLite, with one writer, the two are the same number. On PostgreSQL, where several
    instances commit at once, a lower seq can commit after a higher one; the position there
    orders events by the transaction that committed them (see ``LogPosition``).
    """

    seq: int
    id: str
    type: str
    slug: str | None
    occurred_at: str
    recorded_at: str
    payload: bytes
    position: int
    #: The decoded ``payload`` when it was read from this process's memory (None from the
    #: database): what ``NewEvent.event`` held.
    event: Any = None


#: Where a reader of the log has got to: an opaque integer that only grows in the order the
#: log is read. 0 is before the first event. Followers store it with their work.
LogPosition = int


# --- Scans ---------------------------------------------------------------------------------


class DeviceEntry:
    """One event of a device batch (or an import's): its id (claimed once, ever), its log
    entry, and whether it adds to its code's scan counter (an orphan scan does not)."""

    __slots__ = ("counted", "entry", "id", "slug")

    def __init__(self, event_id: str, slug: str, entry: NewEvent, *, counted: bool = True) -> None:
        self.id = event_id
        self.slug = slug
        self.entry = entry
        self.counted = counted


class ScanBatch:
    """What one group commit of the scans context writes.

    ``entries`` are redirect and orphan scans, ``counts`` the recorded scans among them per
    code; each of ``devices`` is one posted batch, whose events are stored only if their ids
    were never seen (and then counted). A slotted plain class: one is made per commit.
    """

    __slots__ = ("counts", "devices", "entries")

    def __init__(self) -> None:
        self.entries: list[NewEvent] = []
        self.counts: dict[str, int] = {}
        self.devices: list[list[DeviceEntry]] = []


class ScanCommit:
    """What a group commit did: the last seq it appended (None: nothing), for each device
    batch whether each event was new (True) or a duplicate (False), and what it added to each
    code's counter (new device events included).

    ``totals``: where other instances add to the same counters (a shared database), each
    counter this commit touched as it stands after it, every instance's scans included;
    None where this instance is the only writer and its own sums are exact."""

    __slots__ = ("counts", "fresh", "last_seq", "totals")

    def __init__(
        self,
        last_seq: int | None,
        fresh: list[list[bool]],
        counts: dict[str, int],
        totals: dict[str, int] | None = None,
    ) -> None:
        self.last_seq = last_seq
        self.fresh = fresh
        self.counts = counts
        self.totals = totals


# --- Idempotent requests -------------------------------------------------------------------


class IdempotentReply(msgspec.Struct, frozen=True):
    """What is stored under an idempotency key: the request's fingerprint and, once it was
    answered, the answer's status and body (both None while it is being handled)."""

    fingerprint: str
    status: int | None
    body: bytes | None


# --- Codes ---------------------------------------------------------------------------------


class CodeRow(msgspec.Struct, frozen=True, kw_only=True):
    """One code as stored."""

    slug: str
    target: str
    title: str | None
    tags: tuple[str, ...]
    enabled: bool
    valid_from: datetime | None
    valid_until: datetime | None
    max_scans: int | None
    redirect_status: int
    created_at: datetime
    updated_at: datetime
    deleted: bool = False
    #: The code's routing (fallback, rules, split, query forwarding) as JSON; None: none.
    routing: str | None = None
    #: The argon2id hash of the code's password (never the password); None: none.
    password_hash: str | None = None
    #: The content hash of the code's logo (its bytes are a ``StoredLogo``); None: none.
    logo: str | None = None
    #: The kind, content and tracking of a code that is not a link, as JSON; None: a url code.
    content: str | None = None


class StoredLogo(msgspec.Struct, frozen=True):
    """A code's logo as stored: checked (and for SVG sanitised) before it got here."""

    media_type: str
    #: BLAKE2b-128 of ``data``, hex: what the code's events and the QR image's ETag name.
    digest: str
    data: bytes


class DomainRow(msgspec.Struct, frozen=True, kw_only=True):
    """One registered domain as stored (the default domain has no row)."""

    host: str
    base_url: str
    not_found_url: str | None
    root_url: str | None
    created_at: datetime
    updated_at: datetime


class CodePage(msgspec.Struct, frozen=True):
    """One page of a listing and the cursor for the next (None at the end)."""

    items: list[CodeRow]
    next_cursor: str | None


# --- API keys ------------------------------------------------------------------------------


class ApiKey(msgspec.Struct, frozen=True):
    """A key as listed: never its secret."""

    id: str
    name: str
    scope: str
    created_at: str
    expires_at: str | None
    revoked: bool
    #: The user the key belongs to (None: a key made before accounts, acting by its scope).
    user_id: str | None = None
    #: Only codes with one of these tags (empty: every code the user may see).
    tags: tuple[str, ...] = ()
    #: Only codes on these hosts (empty: every domain the user may see).
    domains: tuple[str, ...] = ()


class CreatedKey(msgspec.Struct, frozen=True):
    """A newly created key together with its token, which is shown only this once."""

    key: ApiKey
    token: str


# --- Dashboard sessions --------------------------------------------------------------------


class StoredSession(msgspec.Struct, frozen=True):
    """A live session: ``id`` is the hex SHA-256 of its token (the token is never stored)."""

    id: str
    #: Who signed in: a key (the API-key sign-in) or a user (email and password).
    key_id: str | None
    created_at: str
    expires_at: str
    user_id: str | None = None


# --- Accounts ------------------------------------------------------------------------------


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """An administrative action: when, by whom (``by_kind`` user, key or system, and id),
    what (``user.created``, ``key.revoked``, ...), on what, and details (never a secret)."""

    at: str
    by_kind: str
    by_id: str
    action: str
    subject: str
    detail: dict[str, Any] = {}
    #: Its place in the audit log (0 before it is stored).
    seq: int = 0


class UserRow(msgspec.Struct, frozen=True):
    """An account as listed: never its password or its hash."""

    id: str
    email: str
    role: str
    created_at: str
    disabled: bool
    #: Only codes with one of these tags (empty: every code).
    tags: tuple[str, ...] = ()
    #: Only codes on these hosts (empty: every domain).
    domains: tuple[str, ...] = ()


# --- Analytics rollups ---------------------------------------------------------------------

DIMENSIONS = ("source", "device", "os", "browser", "referrer", "country", "target", "rule")
#: How much of a breakdown value is kept: a target URL is kept longer than a browser name,
#: so two targets that differ late (a campaign parameter) stay apart.
_KEPT = {"target": 512}


#: The classes a scan is counted in: a person's, a bot's, or the owner's own (excluded).
HUMAN, BOT, OWN = 0, 1, 2


class Profile:
    """How the rollups count one kind of scan: its class (``HUMAN``, ``BOT`` or ``OWN``,
    see ``SCANLET_EXCLUDE_FROM``), and its breakdown values.

    Scans from the same agent, referrer, source and country share one profile object (the
    projection caches them), so a batch is counted per (code, hour, profile) and expanded
    into breakdown rows once per distinct key rather than once per scan. Hashed by
    identity: two equal profiles that are different objects are only two counter keys whose
    sums land in the same rows.
    """

    __slots__ = ("bot", "dimensions", "imported")

    def __init__(
        self, bot: bool, dimensions: tuple[tuple[str, str], ...], own: bool = False
    ) -> None:
        #: The class index: an own scan counts as own even when its agent looks like a bot.
        self.bot = OWN if own else int(bot)
        #: (dimension, value) pairs in ``DIMENSIONS`` order, values cut to 128 characters
        #: (targets to 512); ``target`` and ``rule`` only for scans that were sent somewhere.
        self.dimensions = dimensions
        #: Whether the scan came in by ``scanlet import`` (whose visits arrive out of time
        #: order, so the visitor sets of their days are kept longer: see ``rollups``).
        self.imported = bool(dimensions) and dimensions[0] == ("source", "import")

    @classmethod
    def of(
        cls,
        *,
        bot: bool,
        source: str,
        device: str,
        os: str,
        browser: str,
        referrer_host: str | None,
        country: str | None,
        target: str | None = None,
        rule: str | None = None,
        own: bool = False,
    ) -> Profile:
        """A profile from derived facts; missing referrers and countries get a name. A scan
        with no ``target`` (a device's, or one stored before routing) has no target or rule
        breakdown."""
        values = [source, device, os, browser, referrer_host or "direct", country or "unknown"]
        if target is not None:
            values += [target, rule or "target"]
        return cls(
            bot,
            tuple(
                (dim, value[: _KEPT.get(dim, 128)])
                for dim, value in zip(DIMENSIONS, values, strict=False)
            ),
            own,
        )


#: One scan of a code as the rollups need it: (slug, hour, visitor, profile). A plain tuple:
#: one is made per scan and unpacked once, and a tuple is the cheapest thing to do that with.
ScanFact = tuple[str, int, str | None, Profile]


class HourRow(msgspec.Struct, frozen=True):
    """One code's counters for one UTC hour (``own``: excluded scans, see
    ``SCANLET_EXCLUDE_FROM``)."""

    hour: int
    humans: int
    bots: int
    uniques: int
    bot_uniques: int
    own: int = 0
    own_uniques: int = 0


class CodeTotal(msgspec.Struct, frozen=True):
    """A code's scans and unique visitors over a range (for ``top_codes``)."""

    slug: str
    scans: int
    unique_visitors: int


# --- Raw scans -----------------------------------------------------------------------------

#: The log's types of the scan events (the ``tag`` of ``ScanRecorded`` and ``ScanOrphaned``):
#: a raw scan row is made from either, straight from the log's columns, by each adapter.
SCAN_RECORDED = "scan.recorded"
SCAN_ORPHANED = "scan.orphaned"

#: Turns a stored scan event (seq, occurred_at, payload) into the scan a listing shows.
RawScanDescriber = Callable[[int, str, bytes], "RawScan"]


class RawScan(msgspec.Struct, frozen=True, kw_only=True):
    """One stored scan as the API and the export show it."""

    seq: int
    id: str
    slug: str
    orphan: bool
    occurred_at: str
    source: str
    ip: str | None
    visitor: str | None
    user_agent: str | None
    referrer: str | None
    referrer_host: str | None
    country: str | None
    device: str
    os: str
    browser: str
    bot: bool
    device_id: str | None
    data: dict[str, Any] | None
    #: Where the scan was sent and what chose it (``rules[i]``, ``split[i]``,
    #: ``fallback_url``, ``target``); None for orphans, device scans and older scans.
    target: str | None = None
    rule: str | None = None
    outcome: str | None = None
    #: An own scan (``SCANLET_EXCLUDE_FROM`` or the dashboard's exclude-me cookie).
    excluded: bool = False


class RawScanPage(msgspec.Struct, frozen=True):
    """A page of scans, newest first, and the cursor of the next page (None at the end)."""

    items: list[RawScan]
    next_cursor: str | None


class RawScanQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Which scans: one code's (``slug``), orphans (``orphan``), or all (neither); a time
    range [start, end) as stored time text."""

    slug: str | None = None
    orphan: bool = False
    start: str | None = None
    end: str | None = None


# --- Webhooks ------------------------------------------------------------------------------


class EndpointRow(msgspec.Struct, frozen=True, kw_only=True):
    """One webhook endpoint as stored (with its secret: never serve this struct as is)."""

    id: str
    url: str
    event_types: tuple[str, ...]
    secret: str
    created_at: datetime
    #: The log's position when the endpoint was created: it receives the events after it.
    after_position: int
    failures: int = 0
    disabled_at: datetime | None = None
    disabled_reason: str | None = None
    #: The account that made it (a user's id, or a key's for a key of nobody); None for
    #: endpoints of every code, which only unlimited admins see.
    owner: str | None = None
    #: Only events of codes carrying one of these tags are delivered (its maker's tag limit);
    #: None: every event it subscribed to.
    tags: tuple[str, ...] | None = None
    #: Only events of codes on these domains (its maker's domain limit, the default domain
    #: as ``""``); None: codes of every domain.
    domains: tuple[str, ...] | None = None

    @property
    def enabled(self) -> bool:
        """True until the endpoint was disabled."""
        return self.disabled_at is None

    def wants(self, event_type: str) -> bool:
        """True if this endpoint subscribed to ``event_type`` (or to everything, ``*``)."""
        return "*" in self.event_types or event_type in self.event_types


class NewDelivery(msgspec.Struct, frozen=True):
    """A delivery about to be put in the outbox."""

    endpoint_id: str
    event_seq: int
    event_id: str
    event_type: str
    body: bytes


class DeliveryRow(msgspec.Struct, frozen=True, kw_only=True):
    """One pending delivery in the outbox."""

    id: int
    endpoint_id: str
    event_seq: int
    event_id: str
    event_type: str
    body: bytes
    created_at: datetime
    attempts: int
    next_attempt_at: datetime


class NewAttempt(msgspec.Struct, frozen=True, kw_only=True):
    """One delivery attempt about to be recorded."""

    endpoint_id: str
    delivery_id: int
    event_id: str
    event_type: str
    attempt: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float
    outcome: str


class AttemptRow(msgspec.Struct, frozen=True, kw_only=True):
    """One recorded delivery attempt."""

    id: int
    delivery_id: int
    event_id: str
    event_type: str
    attempt: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float
    outcome: str


class AttemptPage(msgspec.Struct, frozen=True):
    """A page of attempts, newest first, and the cursor of the next page (None at the end)."""

    items: list[AttemptRow]
    next_cursor: str | None


class EndpointDisable(msgspec.Struct, frozen=True):
    """An endpoint to disable with an attempt: when, why, and the event that says so."""

    at: datetime
    reason: str
    entry: NewEvent


class AttemptOutcome(msgspec.Struct, frozen=True):
    """What an attempt leads to: retried at ``due``, the endpoint disabled, or (neither)
    the delivery done with (delivered or given up)."""

    due: datetime | None = None
    disable: EndpointDisable | None = None


class AttemptResult(msgspec.Struct, frozen=True):
    """What recording an attempt changed: deliveries taken out of the outbox, and the seq of
    the ``webhook.disabled`` event if one was appended."""

    removed: int
    last_seq: int | None = None
