"""Commands the scans actor accepts, and what it answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from scanlet.actors.events import By, Outcome, Source, Via
from scanlet.runtime import Asks

__all__ = (
    "MAX_COUNTRY",
    "MAX_REFERRER",
    "MAX_USER_AGENT",
    "DeviceScan",
    "ImportScans",
    "ImportedScan",
    "IngestEvents",
    "IngestResult",
    "RecordOrphan",
    "RecordScan",
    "ScanRejected",
    "ScanRequest",
    "ScansMessage",
)


class ScanRejected(Exception):
    """Raised to the asker whose scan could not be turned into an event; the other scans of
    its batch are stored as usual."""


#: What a scan keeps of its client's headers, in characters: real browsers send user agents
#: of 100-300 characters and referrers of a URL; a client sending kilobytes of either must not
#: make every stored event (and every follower's read of it) that much bigger.
MAX_USER_AGENT = 512
MAX_REFERRER = 1024
MAX_COUNTRY = 16


class ScanRequest(msgspec.Struct, gc=False):
    """What a request says about a scan before it is judged and stored (the common part).

    One is built per redirect and never serialised: a Struct (built in C, untracked by the
    garbage collector, as nothing it holds can form a cycle) costs a third of a slotted
    class whose ``__init__`` assigns each field.
    """

    slug: str
    source: Source
    at: datetime
    address: str
    user_agent: str | None
    referrer: str | None
    #: The country a trusted proxy reported (SCANLET_COUNTRY_HEADER), as it said it.
    country: str | None = None

    def __post_init__(self) -> None:
        # Cut here, where every entrance builds its scans, so no entrance can store more.
        user_agent, referrer, country = self.user_agent, self.referrer, self.country
        if user_agent and len(user_agent) > MAX_USER_AGENT:
            self.user_agent = user_agent[:MAX_USER_AGENT]
        if referrer and len(referrer) > MAX_REFERRER:
            self.referrer = referrer[:MAX_REFERRER]
        if country and len(country) > MAX_COUNTRY:
            self.country = country[:MAX_COUNTRY]


class RecordScan(ScanRequest, Asks[bool], kw_only=True):
    """Record a redirect's scan; answered ``True`` once durable, ``False`` if used up.

    ``max_scans`` is the code's limit (None: none, or a fallback's scan, which uses none up),
    ``target`` the URL the scan is sent to, ``rule`` what chose it (None: the code's
    target), ``outcome`` whether it is a redirect or a fallback.
    """

    max_scans: int | None
    target: str | None = None
    rule: str | None = None
    outcome: Outcome = "redirect"
    #: The owner's own scan, left out of the figures.
    excluded: bool = False


class RecordOrphan(ScanRequest, Asks[None]):
    """Record a request for an unknown slug; answered ``None`` once durable."""


class DeviceScan(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One event from a scanner device, as posted to ``/api/v1/events``."""

    type: Literal["scan"]
    id: Annotated[str, msgspec.Meta(max_length=64)]
    slug: Annotated[str, msgspec.Meta(max_length=64)]
    occurred_at: datetime
    device_id: Annotated[str, msgspec.Meta(max_length=128)] | None = None
    data: Annotated[dict[str, Any], msgspec.Meta(max_length=32)] | None = None


class IngestEvents(msgspec.Struct, Asks[list["IngestResult"]], frozen=True):
    """Append already-validated device scans; answered with one result per scan, in order.
    ``by`` is who posted them (the key), recorded in each event."""

    scans: list[DeviceScan]
    by: By | None = None


class IngestResult(msgspec.Struct, frozen=True, omit_defaults=True):
    """What happened to one posted event."""

    id: str
    status: Literal["accepted", "duplicate", "rejected"]
    error: str | None = None


class ImportedScan(msgspec.Struct, frozen=True, kw_only=True):
    """One visit brought over from elsewhere (another tool, an archive), with the facts its
    source kept. ``id`` is derived from the source and the visit, so importing it again is
    a duplicate, never a second scan. ``address`` may be a full client address: it is
    stored as a live scan's would be (anonymised unless configured otherwise). The engine
    fills in ``slug`` for a visit of a code (sources name the code by its origin)."""

    id: str
    slug: str
    occurred_at: datetime
    orphan: bool = False
    source: Source = "import"
    via: Via | None = None
    #: The client's address as the source has it, full or anonymised.
    ip: str | None = None
    #: A visitor hash the source made already (an archive of Scanlet's own).
    visitor: str | None = None
    user_agent: str | None = None
    referrer: str | None = None
    country: str | None = None
    bot: bool | None = None
    device_id: str | None = None
    data: dict[str, Any] | None = None
    #: Where the visit was sent and why, and whether it was the owner's own (an archive of
    #: Scanlet's own keeps them; see ``ScanRecorded``).
    target: str | None = None
    rule: str | None = None
    outcome: Outcome = "redirect"
    excluded: bool = False


class ImportScans(msgspec.Struct, Asks[list[bool]], frozen=True):
    """Append imported visits in one commit; answered per visit: True if stored now, False
    if an earlier import stored it already."""

    scans: list[ImportedScan]


#: Everything the scans actor accepts.
ScansMessage = RecordScan | RecordOrphan | IngestEvents | ImportScans
