"""The analytics projection: scan events in, derived facts and read-model rows out.

Synchronous and free of actors, so the follower, ``scanlet rebuild`` and the property test
all run exactly the same code.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

import msgspec

from scanlet.actors.analytics.facts import (
    CountryLookup,
    NoCountries,
    describe_agent,
    normalize_country,
    referrer_host,
)
from scanlet.actors.events import ScanOrphaned, ScanRecorded, decode_event
from scanlet.storage.analytics import AnalyticsStore, ScanFact
from scanlet.storage.eventlog import StoredEvent
from scanlet.storage.raw_scans import RawScanStore

__all__ = ("SCAN_TYPES", "AnalyticsProjection")

SCAN_TYPES = ("scan.recorded", "scan.orphaned")
_json = msgspec.json.Encoder()


class AnalyticsProjection:
    """Turns stored scan events into rollups and raw-scan rows.

    ``raw_cutoff`` returns the stored-time text before which raw rows are not kept (the
    retention horizon; None keeps everything), so a rebuild does not bring back rows that
    retention deleted. Rollups always take every event.
    """

    def __init__(
        self,
        countries: CountryLookup | None = None,
        raw_cutoff: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.countries = countries or NoCountries()
        self.raw_cutoff = raw_cutoff

    def fact(self, stored: StoredEvent) -> ScanFact | None:
        """The derived facts of one stored event (None for events that are not scans)."""
        event = decode_event(stored.payload)
        if not isinstance(event, ScanRecorded | ScanOrphaned):
            return None
        recorded = isinstance(event, ScanRecorded)
        agent = describe_agent(event.user_agent, expect_agent=event.source != "device")
        country = normalize_country(event.country)
        if country is None and event.ip:
            country = self.countries.country(event.ip)
        data = event.data if isinstance(event, ScanRecorded) else None
        return ScanFact(
            seq=stored.seq,
            id=event.id,
            slug=event.slug,
            orphan=not recorded,
            occurred_at=stored.occurred_at,
            hour=int(event.occurred_at.timestamp()) // 3600,
            source=event.source,
            ip=event.ip,
            visitor=event.visitor,
            user_agent=event.user_agent,
            referrer=event.referrer,
            referrer_host=referrer_host(event.referrer),
            country=country,
            device=agent.device,
            os=agent.os,
            browser=agent.browser,
            bot=agent.bot,
            device_id=event.device_id if isinstance(event, ScanRecorded) else None,
            data=_json.encode(data).decode() if data is not None else None,
        )

    def facts(self, events: Sequence[StoredEvent]) -> list[ScanFact]:
        """The facts of every scan among ``events``, in order."""
        found = (self.fact(stored) for stored in events)
        return [fact for fact in found if fact is not None]

    def apply(self, conn: sqlite3.Connection, events: Sequence[StoredEvent]) -> None:
        """Apply ``events`` within the caller's write transaction."""
        facts = self.facts(events)
        if not facts:
            return
        AnalyticsStore.apply(conn, facts)
        cutoff = self.raw_cutoff()
        kept = facts if cutoff is None else [f for f in facts if f.occurred_at >= cutoff]
        RawScanStore.insert(conn, kept)

    @staticmethod
    def reset(conn: sqlite3.Connection) -> None:
        """Empty every analytics read model, within the caller's transaction."""
        AnalyticsStore.reset(conn)
        RawScanStore.reset(conn)
