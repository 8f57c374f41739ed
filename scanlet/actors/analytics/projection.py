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

import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from scanlet.actors.analytics.facts import (
    AgentDescriber,
    CountryLookup,
    NoCountries,
    normalize_country,
    referrer_host,
)
from scanlet.actors.events import ScanOrphaned, ScanRecorded
from scanlet.storage.records import SCAN_RECORDED, Profile, RawScan, ScanFact, StoredEvent
from scanlet.storage.timefmt import parse_time

__all__ = (
    "FOLDED_TYPES",
    "HOUR_CACHE_SIZE",
    "PROFILE_CACHE_SIZE",
    "AnalyticsProjection",
    "DecodedScan",
    "decode_scans",
    "scan_agents",
)

#: The events the rollups count. Orphan scans have raw rows only, which the writer copies
#: from the log itself.
FOLDED_TYPES = (SCAN_RECORDED,)
#: Distinct (source, agent, referrer, country) combinations kept; the cache is emptied when
#: full (cheaper on every hit than an LRU's bookkeeping, and refilled within a batch).
PROFILE_CACHE_SIZE = 8192
#: Hours remembered (emptied when full): live scans share one or two, an import's visits
#: spread over months of them.
HOUR_CACHE_SIZE = 4096
_scan = msgspec.json.Decoder(ScanRecorded | ScanOrphaned)


class _ScanView(msgspec.Struct):
    """The fields of a scan event the rollups read (decoding only these is cheaper)."""

    type: str
    slug: str
    source: str
    ip: str | None = None
    visitor: str | None = None
    user_agent: str | None = None
    referrer: str | None = None
    country: str | None = None
    bot: bool | None = None
    target: str | None = None
    rule: str | None = None
    excluded: bool = False


_view = msgspec.json.Decoder(_ScanView).decode
#: A scan event with the fields the rollups read: decoded into a view, or a recorded scan
#: itself when the log's reader had it in memory (it has every field the view has).
DecodedScan = tuple[StoredEvent, _ScanView | ScanRecorded]


def decode_scans(events: Sequence[StoredEvent]) -> list[DecodedScan]:
    """The recorded scans among ``events``, decoded for ``fold_decoded`` unless they come
    decoded (read from memory: decoding the payload again cost 0.7 us a scan)."""
    return [
        (
            stored,
            event if isinstance(event := stored.event, ScanRecorded) else _view(stored.payload),
        )
        for stored in events
        if stored.type == SCAN_RECORDED
    ]


def scan_agents(scans: Sequence[DecodedScan]) -> set[tuple[str | None, bool]]:
    """The user agents the fold of ``scans`` describes (text, whether one is expected)."""
    return {(event.user_agent, _expects_agent(event.source)) for _, event in scans}


def _expects_agent(source: str) -> bool:
    """Whether a scan without a user agent is a bot: a browser always sends one, while
    devices send none and imported visits may have lost theirs (their source says if
    they were bots)."""
    return source not in ("device", "import")


def _hour_of(stored_time: str) -> int:
    """Hours since the epoch of a stored (UTC) time."""
    return int(parse_time(stored_time).timestamp()) // 3600


#: A scan's source, agent, referrer, country, bot verdict (an import's), target, rule and
#: whether it is the owner's own.
_ProfileKey = tuple[
    str, str | None, str | None, str | None, bool | None, str | None, str | None, bool
]


class AnalyticsProjection:
    """Turns stored scan events into rollup facts, and raw scans back into the scans the API
    lists.

    ``raw_cutoff`` returns the stored-time text before which raw rows are not kept (the
    retention horizon; None keeps everything), so a rebuild does not bring back rows that
    retention deleted: the follower hands it to the writer with each batch. Rollups always
    take every event.
    """

    def __init__(
        self,
        agents: AgentDescriber,
        countries: CountryLookup | None = None,
        raw_cutoff: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.agents = agents
        self.countries = countries or NoCountries()
        self.raw_cutoff = raw_cutoff
        self._geolocate = not isinstance(self.countries, NoCountries)
        self._profiles: dict[_ProfileKey, Profile] = {}
        # One object per distinct profile: the rollups count a batch per (code, hour,
        # profile object), so agents that differ only in their text (an import's visits,
        # phones a version apart) share their counters instead of each expanding into a
        # breakdown row per dimension.
        self._shared: dict[tuple[int, tuple[tuple[str, str], ...]], Profile] = {}
        # Hours since the epoch by their stored text's first 13 characters, kept across
        # calls: live scans share an hour over many catch-ups (and slices of one), and an
        # hour worked out again for each step of 8 scans (a parse and a timestamp), as the
        # fold once went, cost as much as 60 us a catch-up.
        self._hours: dict[str, int] = {}

    def _country(self, country: str | None, ip: str | None) -> str | None:
        """The proxy's country header if it named one, else the geolocation of the address."""
        found = normalize_country(country)
        if found is None and ip:
            found = self.countries.country(ip)
        return found

    def _profile(self, key: _ProfileKey) -> Profile:
        """The (cached) profile of a scan: its source, agent, referrer, country (as the
        header gave it or as resolved by ``_country``: normalising is idempotent), ``bot``
        as an import's source judged it (None to judge by the user agent), target and
        rule."""
        source, agent, referrer, country, bot, target, rule, own = key
        found = self._profiles.get(key)
        if found is None:
            described = self.agents(agent, expect_agent=_expects_agent(source))
            found = Profile.of(
                bot=described.bot if bot is None else bot,
                source=source,
                device=described.device,
                os=described.os,
                browser=described.browser,
                referrer_host=referrer_host(referrer),
                country=normalize_country(country),
                target=target,
                rule=rule,
                own=own,
            )
            if len(self._profiles) >= PROFILE_CACHE_SIZE:
                self._profiles.clear()
                self._shared.clear()
            found = self._shared.setdefault((found.bot, found.dimensions), found)
            self._profiles[key] = found
        return found

    def fold(self, events: Sequence[StoredEvent]) -> list[ScanFact]:
        """What ``events`` (recorded scans among them; others are skipped) add to the
        rollups: one fact per recorded scan. The raw scans are no part of it: the writer
        copies them from the log (``AnalyticsWriter.apply``)."""
        return self.fold_decoded(decode_scans(events))

    def fold_decoded(
        self, scans: Sequence[DecodedScan], until: float | None = None
    ) -> list[ScanFact]:
        """``fold`` of recorded scans decoded already (``decode_scans``), one fact a scan in
        their order. With ``until`` (a ``time.perf_counter()`` value), it stops early at
        the first scan that took a profile or an hour not cached (an agent's parse, a time's)
        once that time has passed: the facts of the scans folded so far."""
        facts: list[ScanFact] = []
        profiles = self._profiles
        hours = self._hours
        if len(hours) >= HOUR_CACHE_SIZE:
            hours.clear()
        geolocate = self._geolocate
        for stored, event in scans:
            occurred_at = stored.occurred_at
            # Without geolocation the country is the header's, so the raw header can key the
            # cache (it is normalised when the profile is made); with it, resolve it first.
            country = self._country(event.country, event.ip) if geolocate else event.country
            key = (
                event.source,
                event.user_agent,
                event.referrer,
                country,
                event.bot,
                event.target,
                event.rule,
                event.excluded,
            )
            profile = profiles.get(key)
            missed = profile is None
            if profile is None:
                profile = self._profile(key)
            # The stored time is UTC text, so its first 13 characters name the hour.
            hour = hours.get(occurred_at[:13])
            if hour is None:
                missed = True
                hour = hours[occurred_at[:13]] = _hour_of(occurred_at)
            facts.append((event.slug, hour, event.visitor, profile))
            if missed and until is not None and time.perf_counter() > until:
                break
        return facts

    def raw_scan(self, seq: int, occurred_at: str, payload: bytes) -> RawScan:
        """A stored scan event as the raw-scan listing shows it, derived facts included."""
        event = _scan.decode(payload)
        agent = self.agents(event.user_agent, expect_agent=_expects_agent(event.source))
        recorded = isinstance(event, ScanRecorded)
        # Where a redirect's scan went and why: nothing for orphans and device scans.
        routed = event if isinstance(event, ScanRecorded) and event.source != "device" else None
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
            country=self._country(event.country, event.ip),
            device=agent.device,
            os=agent.os,
            browser=agent.browser,
            bot=agent.bot if event.bot is None else event.bot,
            device_id=event.device_id if isinstance(event, ScanRecorded) else None,
            data=data,
            target=routed.target if routed else None,
            # The code's own target is named "target"; scans stored before routing have none.
            rule=(routed.rule or "target") if routed and routed.target else None,
            outcome=routed.outcome if routed else None,
            excluded=routed.excluded if routed else False,
        )
