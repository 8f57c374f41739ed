"""Domain events: the facts every context publishes, as one tagged msgspec union.

Events record facts only (when, which slug, where from, the anonymised address, the visitor
hash, the raw user agent and referrer). What can be derived from them later (device type,
browser, bot or not, referrer domain) belongs to read models, so a better parser means a
rebuild, not a migration of history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from scanlet.actors.codes.routing import Rule, SplitArm
from scanlet.storage.records import SCAN_ORPHANED, SCAN_RECORDED, NewEvent
from scanlet.storage.timefmt import format_time

__all__ = (
    "CODE_EVENT_TYPES",
    "DOMAIN_EVENT_TYPES",
    "SCAN_EVENT_TYPES",
    "SYSTEM_BY",
    "By",
    "CodeCreated",
    "CodeDeleted",
    "CodeState",
    "CodeUpdated",
    "DomainCreated",
    "DomainDeleted",
    "DomainEvent",
    "DomainState",
    "DomainUpdated",
    "LogAppended",
    "Outcome",
    "RedirectStatus",
    "ScanOrphaned",
    "ScanRecorded",
    "Source",
    "Via",
    "WebhookDisabled",
    "decode_event",
    "encode_event",
    "event_data",
    "log_entry",
)

Source = Literal["qr", "link", "device", "import"]
#: How an imported visit came, when its source knew: through the QR image or the link.
Via = Literal["qr", "link"]
#: What a scan led to: ``redirect`` to the code's target, a rule's or a split arm's;
#: ``fallback`` to the fallback URL of a code that is disabled, expired, not yet valid or
#: used up; ``password`` on to the chosen target after the right password; ``card`` the
#: contact card of a tracked vcard code, served as a .vcf file.
Outcome = Literal["redirect", "fallback", "password", "card"]
RedirectStatus = Literal[301, 302, 307, 308]


class By(msgspec.Struct, frozen=True):
    """Who caused an event: a user, an API key, or the system (the command line, the server
    itself), by id. Ids only: an email may change, and events reach every read key."""

    kind: Literal["user", "key", "system"]
    id: str


#: Changes made by the command line or the server itself.
SYSTEM_BY = By("system", "system")


class DomainEvent(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", omit_defaults=True):
    """Base of every event: a unique ``id``, when it happened and who caused it (``by``).

    ``by`` is part of the envelope, like ``id``: events made before accounts, and scans
    (caused by whoever scanned), have none.

    Stored without the fields left at their defaults (their ``null``s were 14 % of a
    redirect's scan with a browser's user agent, 28 % without one): decoding fills them in
    again, and ``event_data`` shows every field to webhooks and streams.
    """

    id: str
    occurred_at: datetime
    by: By | None = None


class CodeState(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a code's owner decides about it."""

    slug: str
    target: str
    title: str | None = None
    tags: tuple[str, ...] = ()
    enabled: bool = True
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_scans: int | None = None
    redirect_status: RedirectStatus = 302
    fallback_url: str | None = None
    rules: tuple[Rule, ...] = ()
    split: tuple[SplitArm, ...] = ()
    forward_query: bool = False
    #: Whether scans must give a password (never the password or its hash).
    has_password: bool = False
    #: The content hash (BLAKE2b-128, hex) of the code's logo, never its bytes; None: none.
    logo: str | None = None
    #: ``url``, or the kind of a code that is not a link, with its content (as the API
    #: shows it) and whether its scans are counted.
    kind: str = "url"
    content: dict[str, Any] | None = None
    tracked: bool = True


class CodeCreated(DomainEvent, frozen=True, kw_only=True, tag="code.created"):
    """A code was created."""

    code: CodeState


class CodeUpdated(DomainEvent, frozen=True, kw_only=True, tag="code.updated"):
    """A code changed; ``code`` is its whole state afterwards, ``changed`` names the fields."""

    code: CodeState
    changed: tuple[str, ...]


class CodeDeleted(DomainEvent, frozen=True, kw_only=True, tag="code.deleted"):
    """A code was deleted; its slug is never given out again."""

    slug: str


class ScanRecorded(DomainEvent, frozen=True, kw_only=True, tag=SCAN_RECORDED):
    """Somebody (or some device) scanned a known code."""

    slug: str
    source: Source
    ip: str | None = None
    visitor: str | None = None
    user_agent: str | None = None
    referrer: str | None = None
    device_id: str | None = None
    country: str | None = None
    data: dict[str, Any] | None = None
    # Imported visits only: the source's own verdict on a bot (it saw the request; the
    # user agent alone may not tell) and whether the visit came by QR or link.
    bot: bool | None = None
    via: Via | None = None
    #: The URL the scan was sent to (None: device and imported scans, and scans stored
    #: before routing).
    target: str | None = None
    #: What chose it: ``rules[i]``, ``split[i]`` or ``fallback_url``; None: the code's target.
    rule: str | None = None
    outcome: Outcome = "redirect"
    #: The owner's own scan (``SCANLET_EXCLUDE_FROM``, the exclude-me cookie): redirected
    #: as usual, left out of every figure unless asked for.
    excluded: bool = False


class ScanOrphaned(DomainEvent, frozen=True, kw_only=True, tag=SCAN_ORPHANED):
    """A request asked for a slug that does not exist."""

    slug: str
    source: Source
    ip: str | None = None
    visitor: str | None = None
    user_agent: str | None = None
    referrer: str | None = None
    country: str | None = None
    bot: bool | None = None
    via: Via | None = None


class DomainState(msgspec.Struct, frozen=True, kw_only=True):
    """Everything an admin decides about a registered domain."""

    host: str
    base_url: str
    not_found_url: str | None = None
    root_url: str | None = None


class DomainCreated(DomainEvent, frozen=True, kw_only=True, tag="domain.created"):
    """A domain was registered: codes may live on it."""

    domain: DomainState


class DomainUpdated(DomainEvent, frozen=True, kw_only=True, tag="domain.updated"):
    """A domain changed; ``domain`` is its whole state afterwards, ``changed`` names the
    fields."""

    domain: DomainState
    changed: tuple[str, ...]


class DomainDeleted(DomainEvent, frozen=True, kw_only=True, tag="domain.deleted"):
    """A domain was removed (it had no live codes left)."""

    host: str


#: The events of the codes catalogue (what other instances reload a code on).
CODE_EVENT_TYPES = ("code.created", "code.updated", "code.deleted")
#: The scans: of known codes, and of unknown slugs (orphans).
SCAN_EVENT_TYPES = (SCAN_RECORDED, SCAN_ORPHANED)
#: The events of the registered domains (what other instances reload a domain on).
DOMAIN_EVENT_TYPES = ("domain.created", "domain.updated", "domain.deleted")


class LogAppended(msgspec.Struct, frozen=True):
    """Published once per commit that appended to the event log: a doorbell for followers
    (read models, webhooks, streams), which then read the log itself. Not a domain event."""

    last_seq: int


class WebhookDisabled(DomainEvent, frozen=True, kw_only=True, tag="webhook.disabled"):
    """A webhook endpoint was disabled (it answered 410 Gone, or failed too many times).

    The endpoint is named by id only: its URL may hold a credential and is for admin keys,
    while events reach every read key's stream and every other endpoint. Events stored
    before this still have a ``url``; decoding ignores it (the union does not forbid unknown
    fields), so it is never shown again.
    """

    endpoint_id: str
    reason: str


AnyEvent = (
    CodeCreated
    | CodeUpdated
    | CodeDeleted
    | ScanRecorded
    | ScanOrphaned
    | WebhookDisabled
    | DomainCreated
    | DomainUpdated
    | DomainDeleted
)

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(AnyEvent)
#: Each event class's ``type`` tag, looked up once per class rather than per event.
_TAGS: dict[type, str] = {
    cls: str(cls.__struct_config__.tag)
    for cls in (
        CodeCreated,
        CodeUpdated,
        CodeDeleted,
        ScanRecorded,
        ScanOrphaned,
        WebhookDisabled,
        DomainCreated,
        DomainUpdated,
        DomainDeleted,
    )
}
_COMMON = frozenset({"id", "type", "occurred_at", "by"})


def encode_event(event: DomainEvent) -> bytes:
    """The event as stored in the log (JSON, tagged by ``type``)."""
    return _encoder.encode(event)


def log_entry(event: DomainEvent, slug: str | None = None) -> NewEvent:
    """The event as the log stores it: the one place a domain event becomes a log entry."""
    return NewEvent(
        event.id,
        _TAGS[type(event)],
        slug,
        format_time(event.occurred_at),
        _encoder.encode(event),
        event,
    )


def decode_event(payload: bytes) -> AnyEvent:
    """The typed event for a stored payload."""
    event: AnyEvent = _decoder.decode(payload)
    return event


def event_data(event: DomainEvent) -> dict[str, Any]:
    """The event's own fields, without the envelope ones (``data`` of webhooks and streams);
    every field, defaults included."""
    return {
        name: msgspec.to_builtins(getattr(event, name))
        for name in event.__struct_fields__
        if name not in _COMMON
    }
