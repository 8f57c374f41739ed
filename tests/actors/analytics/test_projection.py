"""The analytics projection: rollups, uniques, bots, breakdowns, and rebuild equality."""

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanlet.actors.analytics import projection as projection_module
from scanlet.actors.analytics.projection import (
    HOUR_CACHE_SIZE,
    AnalyticsProjection,
    decode_scans,
)
from scanlet.actors.analytics.stats import StatsQuery, compute_stats
from scanlet.actors.events import DomainEvent
from scanlet.adapters.user_agents import describe_agent
from scanlet.storage import rollups
from scanlet.storage.records import NewEvent, RawScanQuery, StoredEvent
from scanlet.storage.sqlite.analytics import AnalyticsStore
from scanlet.storage.sqlite.database import Database
from scanlet.storage.sqlite.eventlog import EventLog
from tests.conftest import AnyStorage, readable

from .conftest import BOT, DESKTOP, PHONE, append, new_event, orphan, rebuild_all, scan

DAY = datetime(2026, 3, 10, tzinfo=UTC)


def stats_query(
    slug: str | None, *, include_bots: bool = False, interval: str = "day"
) -> StatsQuery:
    return StatsQuery(
        slug=slug,
        start=DAY,
        end=DAY + timedelta(days=2),
        interval=interval,  # type: ignore[arg-type]
        tz="UTC",
        include_bots=include_bots,
    )


async def project(storage: AnyStorage, events: list[DomainEvent]) -> None:
    await append(storage, events)
    await readable(storage)  # a rebuild reads up to PostgreSQL's server-wide fence
    await rebuild_all(storage, AnalyticsProjection(describe_agent))


async def test_a_visitor_counts_once_per_day_in_the_hour_of_its_first_scan(
    storage: AnyStorage,
) -> None:
    h10, h11 = DAY + timedelta(hours=10), DAY + timedelta(hours=11)
    await project(
        storage,
        [
            scan("menu", h10, visitor="v1"),
            scan("menu", h11, visitor="v1"),
            scan("menu", h11, visitor="v2"),
            scan("menu", h11 + timedelta(minutes=5), visitor="v1"),
            scan("menu", DAY + timedelta(days=1, hours=3), visitor="v1"),
        ],
    )
    store = storage.analytics
    rows = await store.hours("menu", 0, 10**7)
    assert [(r.hour % 24, r.humans, r.uniques) for r in rows] == [(10, 1, 1), (11, 3, 1), (3, 1, 1)]
    stats = await compute_stats(store, stats_query("menu"))
    assert [(b.scans, b.unique_visitors) for b in stats.series] == [(4, 2), (1, 1)]
    assert (stats.total, stats.unique_visitors) == (5, 3)
    hourly = await compute_stats(store, stats_query("menu", interval="hour"))
    assert len(hourly.series) == 48
    assert sum(b.unique_visitors for b in hourly.series) == hourly.unique_visitors == 3


async def test_bots_are_left_out_of_every_figure_but_bots_unless_asked(
    storage: AnyStorage,
) -> None:
    at = DAY + timedelta(hours=1)
    await project(
        storage,
        [
            scan("menu", at, visitor="h", agent=PHONE),
            scan("menu", at, visitor="b", agent=BOT),
            scan("menu", at, visitor="b", agent=BOT),
        ],
    )
    store = storage.analytics
    human = await compute_stats(store, stats_query("menu"))
    assert (human.total, human.unique_visitors, human.bots) == (1, 1, 2)
    assert human.by_device == {"mobile": 1}
    everyone = await compute_stats(store, stats_query("menu", include_bots=True))
    assert (everyone.total, everyone.unique_visitors, everyone.bots) == (3, 2, 2)
    assert everyone.by_device == {"bot": 2, "mobile": 1}


async def test_breakdowns_and_the_all_codes_view(storage: AnyStorage) -> None:
    at = DAY + timedelta(hours=20)
    await project(
        storage,
        [
            scan("menu", at, referrer="https://www.google.com/x", country="de"),
            scan("menu", at, agent=DESKTOP, visitor="v2", source="link"),
            scan("flyer", at, visitor="v3", source="device", agent=None, ip=None),
            orphan("nope", at),
        ],
    )
    store = storage.analytics
    menu = await compute_stats(store, stats_query("menu"))
    assert menu.by_source == {"link": 1, "qr": 1}
    assert menu.by_device == {"desktop": 1, "mobile": 1}
    assert menu.by_os == {"Windows": 1, "iOS": 1}
    assert menu.by_browser == {"Chrome": 1, "Mobile Safari": 1}
    assert menu.by_referrer == {"direct": 1, "google.com": 1}
    assert menu.by_country == {"DE": 1, "unknown": 1}
    everything = await compute_stats(store, stats_query(None))
    assert everything.total == 3  # orphans are not scans of a code
    assert everything.by_source == {"device": 1, "link": 1, "qr": 1}
    assert [(t.slug, t.scans) for t in everything.top_codes or []] == [("menu", 2), ("flyer", 1)]
    raw = await storage.raw_scans(AnalyticsProjection(describe_agent).raw_scan).dump()
    assert len(raw) == 4


async def test_every_bucket_is_in_the_series_even_without_scans(storage: AnyStorage) -> None:
    await project(storage, [scan("menu", DAY + timedelta(days=1, hours=5))])
    query = StatsQuery(
        slug="menu",
        start=DAY - timedelta(days=3),
        end=DAY + timedelta(days=3),
        interval="day",
        tz="UTC",
    )
    stats = await compute_stats(storage.analytics, query)
    assert [b.scans for b in stats.series] == [0, 0, 0, 0, 1, 0]
    assert stats.series[0].start == DAY - timedelta(days=3)


# -- incremental == rebuilt --------------------------------------------------------------

SLUGS = st.sampled_from(["a", "b", "c"])
AGENTS = st.sampled_from([PHONE, DESKTOP, BOT, "", None])
REFERRERS = st.sampled_from([None, "https://www.google.com/", "https://t.co/x", "junk"])


@st.composite
def scan_events(draw: st.DrawFn) -> DomainEvent:
    at = DAY + timedelta(minutes=draw(st.integers(0, 60 * 24 * 8)))
    if draw(st.integers(0, 9)) == 0:
        return orphan(draw(SLUGS), at)
    return scan(
        draw(SLUGS),
        at,
        visitor=draw(st.sampled_from([None, "v1", "v2", "v3", "v4"])),
        agent=draw(AGENTS),
        referrer=draw(REFERRERS),
        source=draw(st.sampled_from(["qr", "link", "device", "import"])),
        country=draw(st.sampled_from([None, "DE", "fr", "XX"])),
    )


TABLES = (*rollups.TABLES, "raw_scans")


async def apply_through_stores(
    events: list[StoredEvent], cuts: list[int], turns: list[int]
) -> dict[str, list[tuple[object, ...]]]:
    """The tables once ``events`` are applied in batches cut at ``cuts`` (each taken modulo
    the events' count) as the follower stores them (``AnalyticsStore.apply``, which holds
    the visitor sets' state between batches), two stores on one database taking turns as
    ``turns`` says (as the server and the projection worker do: a store whose turn follows
    the other's reads the state from the tables)."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "scanlet.db")
        await db.open()
        try:
            entries = [NewEvent(e.id, e.type, e.slug, e.occurred_at, e.payload) for e in events]
            await db.write(lambda conn: EventLog.add(conn, entries, "t"))
            stores = (AnalyticsStore(db), AnalyticsStore(db))
            projection = AnalyticsProjection(describe_agent)
            bounds = sorted({0, len(events), *(c % (len(events) + 1) for c in cuts)})
            for n, (a, b) in enumerate(pairwise(bounds)):
                store = stores[turns[n % len(turns)] if turns else 0]
                await store.apply("analytics", a, b, projection.fold(events[a:b]), None)
            return {
                t: sorted(tuple(row) for row in await db.fetch_all(f"SELECT * FROM {t}"))
                for t in TABLES
            }
        finally:
            await db.close()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(scan_events(), max_size=60),
    st.lists(st.integers(0, 100), max_size=8),
    st.sampled_from([1, 5, 20, rollups.KEPT_SCANS]),
    st.lists(st.integers(0, 1), max_size=4),
)
def test_applying_the_log_in_any_batches_equals_a_rebuild_in_one(
    events: list[DomainEvent], cuts: list[int], kept_scans: int, turns: list[int]
) -> None:
    stored = []
    for seq, event in enumerate(events, start=1):
        row = new_event(event)
        stored.append(
            StoredEvent(seq, row.id, row.type, row.slug, row.occurred_at, "t", row.payload, seq)
        )
    # Late and imported scans' days keep their visitor sets for ``kept_scans`` scans: the
    # small figures make sets go between batches, and the decision must not move with them.
    # One store holds the visitor sets' state from batch to batch; two taking turns read it
    # from the tables each batch; the drawn turns mix both.
    with mock.patch.object(rollups, "KEPT_SCANS", kept_scans):
        rebuilt = asyncio.run(apply_through_stores(stored, [], [0]))
        for batched_by in ([0], [0, 1], turns):
            assert asyncio.run(apply_through_stores(stored, cuts, batched_by)) == rebuilt
    # One raw row per scan of either kind, as the log has it.
    assert rebuilt["raw_scans"] == sorted(
        (e.occurred_at, e.seq, e.slug, int(e.type == "scan.orphaned"))
        for e in stored
        if e.type in ("scan.recorded", "scan.orphaned")
    )
    totals = [row for row in rebuilt["analytics_hours"] if row[0] == "*"]
    humans = sum(int(str(row[2])) for row in totals)
    bots = sum(int(str(row[3])) for row in totals)
    assert humans + bots == sum(1 for e in stored if e.type == "scan.recorded")


class ByAddress:
    """A geolocation adapter that knows two networks."""

    def country(self, ip: str) -> str | None:
        return {"203.0.113.0": "DE", "198.51.100.0": "JP"}.get(ip)


async def test_countries_come_from_the_header_else_the_address_per_scan(
    storage: AnyStorage,
) -> None:
    at = DAY + timedelta(hours=9)
    events: list[DomainEvent] = [
        scan("menu", at, ip="203.0.113.0"),
        scan("menu", at, ip="198.51.100.0"),  # same agent and referrer, another country
        scan("menu", at, ip="198.51.100.0", country="fr"),  # a trusted header wins
        scan("menu", at, ip="192.0.2.0"),  # unknown to the database
    ]
    await append(storage, events)
    await readable(storage)
    projection = AnalyticsProjection(describe_agent, ByAddress())
    await rebuild_all(storage, projection)
    stats = await compute_stats(storage.analytics, stats_query("menu"))
    assert stats.by_country == {"DE": 1, "FR": 1, "JP": 1, "unknown": 1}
    listed = await storage.raw_scans(projection.raw_scan).page(RawScanQuery(slug="menu"), limit=10)
    assert sorted(str(item.country) for item in listed.items) == ["DE", "FR", "JP", "None"]


def test_agents_whose_facts_are_the_same_share_one_profile() -> None:
    # Two phones a patch version apart are the same device, system and browser: one profile,
    # so a batch of them is counted under one key. A desktop, or the same phone from a link,
    # is another profile.
    at = DAY + timedelta(hours=9)
    patched = PHONE.replace("17_2", "17_2_1")
    events: list[DomainEvent] = [
        scan("menu", at, agent=PHONE),
        scan("menu", at, agent=patched),
        scan("menu", at, agent=DESKTOP),
        scan("menu", at, agent=PHONE, source="link"),
    ]
    stored = [
        StoredEvent(seq, row.id, row.type, row.slug, row.occurred_at, "t", row.payload, seq)
        for seq, row in enumerate(map(new_event, events), start=1)
    ]
    facts = AnalyticsProjection(describe_agent).fold(stored)
    phone, patched_phone, desktop, linked = (profile for _, _, _, profile in facts)
    assert describe_agent(patched, expect_agent=True) == describe_agent(PHONE, expect_agent=True)
    assert phone is patched_phone
    assert desktop.dimensions != phone.dimensions
    assert linked.dimensions != phone.dimensions


def test_the_hours_a_fold_works_out_are_remembered_across_calls_and_bounded() -> None:
    """A batch may fold in several calls (slices, catch-ups): the hour of a stored time is
    kept between calls, and the memory is emptied once it holds HOUR_CACHE_SIZE hours."""
    start = datetime(2026, 3, 1, tzinfo=UTC)
    hours = [start + timedelta(hours=n, minutes=n % 60) for n in range(HOUR_CACHE_SIZE + 10)]
    stored = [
        StoredEvent(seq, row.id, row.type, row.slug, row.occurred_at, "t", row.payload, seq)
        for seq, row in enumerate((new_event(scan("menu", at)) for at in hours), start=1)
    ]
    projection = AnalyticsProjection(describe_agent)
    folded: list[int] = []
    with mock.patch(
        "scanlet.actors.analytics.projection._hour_of", wraps=projection_module._hour_of
    ) as worked_out:
        for step in range(0, len(stored), 8):
            folded += [hour for _, hour, _, _ in projection.fold(stored[step : step + 8])]
            # The same hours again: remembered, not worked out again.
            projection.fold(stored[step : step + 8])
        # Each hour once, but the step that filled the memory: its second fold found it
        # emptied (HOUR_CACHE_SIZE is a multiple of the step).
        assert worked_out.call_count == len(hours) + 8
    assert folded == [int(at.timestamp()) // 3600 for at in hours]
    assert len(projection._hours) <= HOUR_CACHE_SIZE


def test_a_fold_given_a_deadline_stops_only_after_a_scan_not_cached() -> None:
    # Past its deadline, a fold ends at the first scan whose profile or hour it had to work
    # out (a parse can take a third of a millisecond), and not before: cached scans cost
    # well under a microsecond each.
    at = DAY + timedelta(hours=9)
    events: list[DomainEvent] = [
        *(scan("menu", at, visitor=f"v{i}") for i in range(3)),
        scan("menu", at, agent=DESKTOP),
        *(scan("menu", at, visitor=f"w{i}") for i in range(3)),
    ]
    stored = [
        StoredEvent(seq, row.id, row.type, row.slug, row.occurred_at, "t", row.payload, seq)
        for seq, row in enumerate(map(new_event, events), start=1)
    ]
    scans = decode_scans(stored)
    projection = AnalyticsProjection(describe_agent)
    # The first scan works out its profile and hour: the fold stops right after it.
    assert len(projection.fold_decoded(scans, until=0.0)) == 1
    # The next two are cached, the desktop is not: it ends the fold.
    assert len(projection.fold_decoded(scans[1:], until=0.0)) == 3
    # With everything cached, the deadline never stops it; without one, nothing does.
    assert len(projection.fold_decoded(scans, until=0.0)) == len(scans)
    assert projection.fold_decoded(scans) == projection.fold_decoded(scans, until=0.0)
