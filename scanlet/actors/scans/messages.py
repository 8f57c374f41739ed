"""Commands the scans actor accepts, and what it answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from scanlet.actors.events import Source

__all__ = (
    "DeviceScan",
    "IngestEvents",
    "IngestResult",
    "RecordOrphan",
    "RecordScan",
    "ScanRequest",
)


class ScanRequest:
    """What a request says about a scan before it is judged and stored (the common part).

    A slotted plain class rather than a Struct: one is built per redirect and never
    serialised, and this is the cheapest object Python can make.
    """

    __slots__ = ("address", "at", "country", "referrer", "slug", "source", "user_agent")

    def __init__(
        self,
        slug: str,
        source: Source,
        at: datetime,
        address: str,
        user_agent: str | None,
        referrer: str | None,
        country: str | None = None,
    ) -> None:
        self.slug = slug
        self.source = source
        self.at = at
        self.address = address
        self.user_agent = user_agent
        self.referrer = referrer
        # The country a trusted proxy reported (SCANLET_COUNTRY_HEADER), as it said it.
        self.country = country


class RecordScan(ScanRequest):
    """Record a redirect's scan; answered ``True`` once durable, ``False`` if used up."""

    __slots__ = ("max_scans",)

    def __init__(
        self,
        slug: str,
        source: Source,
        at: datetime,
        address: str,
        user_agent: str | None,
        referrer: str | None,
        max_scans: int | None,
        country: str | None = None,
    ) -> None:
        super().__init__(slug, source, at, address, user_agent, referrer, country)
        self.max_scans = max_scans


class RecordOrphan(ScanRequest):
    """Record a request for an unknown slug; answered ``None`` once durable."""

    __slots__ = ()


class DeviceScan(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One event from a scanner device, as posted to ``/api/v1/events``."""

    type: Literal["scan"]
    id: str
    slug: str
    occurred_at: datetime
    device_id: str | None = None
    data: dict[str, Any] | None = None


class IngestEvents(msgspec.Struct, frozen=True):
    """Append already-validated device scans; answered with one result per scan, in order."""

    scans: list[DeviceScan]


class IngestResult(msgspec.Struct, frozen=True, omit_defaults=True):
    """What happened to one posted event."""

    id: str
    status: Literal["accepted", "duplicate", "rejected"]
    error: str | None = None
