"""The analytics projection: scan events in, read-model rows out.

Synchronous and free of actors, so the follower, ``scanlet rebuild`` and the property test
all run exactly the same code.

Per scan, the follower's work is what the redirect path pays for again on the same core, so
it is kept to a decode, one cached lookup and a counter: the derived facts of a (source,
agent, referrer, country) combination are worked out once and shared as a ``Profile`` (QR
traffic repeats the same few hundred agents and referrers), and raw-scan rows hold only the
keys their listings are ordered by. A listing reads the rest from the event log and derives
its facts then (``raw_scan``), so the log is not copied row by row into a second table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from scanlet.actors.analytics.facts import (
    CountryLookup,
    NoCountries,
    describe_agent,
    normalize_country,
    referrer_host,
)
from scanlet.actors.events import ScanOrphaned, ScanRecorded
from scanlet.storage.analytics import AnalyticsStore, Profile, ScanFact
from scanlet.storage.database import Database
from scanlet.storage.eventlog import StoredEvent
from scanlet.storage.raw_scans import RawScan, RawScanKey, RawScanStore

__all__ = ("PROFILE_CACHE_SIZE", "SCAN_TYPES", "AnalyticsProjection")

SCAN_TYPES = ("scan.recorded", "scan.orphaned")
#: Distinct (source, agent, referrer, country) combinations kept; the cache is emptied when
#: full (cheaper on every hit than an LRU's bookkeeping, and refilled within a batch).
PROFILE_CACHE_SIZE = 8192
_scan = msgspec.json.Decoder(ScanRecorded | ScanOrphaned)
_ProfileKey = tuple[str, str | None, str | None, str | None]


class AnalyticsProjection:
    """Turns stored scan events into rollups and raw-scan keys, and raw-scan keys back into
    the scans the API lists.

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
        self._profiles: dict[_ProfileKey, Profile] = {}

    def _country(self, event: ScanRecorded | ScanOrphaned) -> str | None:
        """The proxy's country header if it named one, else the geolocation of the address."""
        country = normalize_country(event.country)
        if country is None and event.ip:
            country = self.countries.country(event.ip)
        return country

    def profile(self, event: ScanRecorded | ScanOrphaned, country: str | None) -> Profile:
        """The (cached) profile of a scan from ``event``'s agent, referrer and source."""
        key = (event.source, event.user_agent, event.referrer, country)
        found = self._profiles.get(key)
        if found is None:
            agent = describe_agent(event.user_agent, expect_agent=event.source != "device")
            found = Profile.of(
                bot=agent.bot,
                source=event.source,
                device=agent.device,
                os=agent.os,
                browser=agent.browser,
                referrer_host=referrer_host(event.referrer),
                country=country,
            )
            if len(self._profiles) >= PROFILE_CACHE_SIZE:
                self._profiles.clear()
            self._profiles[key] = found
        return found

    def apply(self, conn: sqlite3.Connection, events: Sequence[StoredEvent]) -> None:
        """Apply ``events`` (scans among them; others are skipped) within the caller's write
        transaction."""
        facts: list[ScanFact] = []
        keys: list[RawScanKey] = []
        cutoff = self.raw_cutoff()
        for stored in events:
            if stored.type not in SCAN_TYPES:
                continue
            event = _scan.decode(stored.payload)
            recorded = type(event) is ScanRecorded
            if cutoff is None or stored.occurred_at >= cutoff:
                keys.append((stored.seq, event.slug, 0 if recorded else 1, stored.occurred_at))
            if recorded:
                hour = int(event.occurred_at.timestamp()) // 3600
                profile = self.profile(event, self._country(event))
                facts.append(ScanFact(event.slug, hour, event.visitor, profile))
        if facts:
            AnalyticsStore.apply(conn, facts)
        if keys:
            RawScanStore.insert(conn, keys)

    def raw_scan(self, seq: int, occurred_at: str, payload: bytes) -> RawScan:
        """A stored scan event as the raw-scan listing shows it, derived facts included."""
        event = _scan.decode(payload)
        agent = describe_agent(event.user_agent, expect_agent=event.source != "device")
        recorded = isinstance(event, ScanRecorded)
        data: dict[str, Any] | None = event.data if isinstance(event, ScanRecorded) else None
        return RawScan(
            seq=seq,
            id=event.id,
            slug=event.slug,
            orphan=not recorded,
            occurred_at=occurred_at,
            source=event.source,
            ip=event.ip,
            visitor=event.visitor,
            user_agent=event.user_agent,
            referrer=event.referrer,
            referrer_host=referrer_host(event.referrer),
            country=self._country(event),
            device=agent.device,
            os=agent.os,
            browser=agent.browser,
            bot=agent.bot,
            device_id=event.device_id if isinstance(event, ScanRecorded) else None,
            data=data,
        )

    def raw_scans(self, db: Database) -> RawScanStore:
        """A raw-scan store whose listings this projection describes."""
        return RawScanStore(db, self.raw_scan)

    @staticmethod
    def reset(conn: sqlite3.Connection) -> None:
        """Empty every analytics read model, within the caller's transaction."""
        AnalyticsStore.reset(conn)
        RawScanStore.reset(conn)
