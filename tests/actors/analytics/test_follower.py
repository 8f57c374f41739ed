"""The analytics follower: exactly once, resumable, rebuildable beside a running follower."""

import time
import uuid
from datetime import UTC, datetime, timedelta
from unittest import mock

import anyio
import anyio.lowlevel
from prometheus_client import CollectorRegistry

from scanlet.actors.analytics.actor import AnalyticsFollower, lag_gauge
from scanlet.actors.analytics.facts import Agent
from scanlet.actors.analytics.projection import AnalyticsProjection
from scanlet.actors.analytics.retention import RetentionPolicy, purge_once
from scanlet.actors.follower import CatchUp
from scanlet.adapters.agent_worker import AgentWorker
from scanlet.adapters.user_agents import describe_agent
from scanlet.runtime import ActorRef, ChildSpec
from scanlet.runtime.testing import running_system
from scanlet.storage import rollups
from scanlet.storage.ports import ALL_CODES
from tests.conftest import AWAKE_AGENT_WORKER, AnyStorage, caught_up, nth_position

from .conftest import append, follower, orphan, rebuild_all, scan

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


async def test_the_follower_applies_each_scan_once_and_reports_no_lag(
    storage: AnyStorage,
) -> None:
    registry = CollectorRegistry()
    gauge = lag_gauge(registry)
    await append(storage, [scan("menu", NOW, visitor=f"v{i}") for i in range(3)])
    async with running_system() as system:
        ref: ActorRef[CatchUp] = await system.spawn(
            ChildSpec(
                "analytics",
                lambda: follower(storage, AnalyticsProjection(describe_agent), gauge),
            )
        )
        assert await caught_up(ref, storage, 3) == await nth_position(storage, 3)
        assert await caught_up(ref, storage, 3) == await nth_position(storage, 3)
    await append(storage, [scan("menu", NOW, visitor="v9")])
    lag = registry.get_sample_value("scanlet_projection_lag_events", {"projection": "analytics"})
    assert lag == 0
    async with running_system() as system:
        ref = await system.spawn(
            ChildSpec(
                "analytics",
                lambda: follower(storage, AnalyticsProjection(describe_agent), gauge),
            )
        )
        assert await caught_up(ref, storage, 4) == await nth_position(storage, 4)
    rows = await storage.analytics.hours("menu", 0, 10**7)
    assert [(r.humans, r.uniques) for r in rows] == [(4, 4)]
    assert len(await storage.raw_scans(AnalyticsProjection(describe_agent).raw_scan).dump()) == 4


async def test_a_rebuild_beside_a_running_follower_never_applies_an_event_twice(
    storage: AnyStorage,
) -> None:
    await append(storage, [scan("menu", NOW, visitor=None) for _ in range(3)])
    async with running_system() as system:
        ref: ActorRef[CatchUp] = await system.spawn(
            ChildSpec("analytics", lambda: follower(storage, AnalyticsProjection(describe_agent)))
        )
        await caught_up(ref, storage, 3)
        await append(storage, [scan("menu", NOW, visitor=None)])
        # The rebuild applies event 4 while the follower still believes it is at 3: its own
        # attempt sees the moved position, rolls back and carries on from 4.
        fourth = await nth_position(storage, 4)  # past the fence, so the rebuild sees it
        assert await rebuild_all(storage, AnalyticsProjection(describe_agent)) == fourth
        assert await caught_up(ref, storage, 4) == await nth_position(storage, 4)
        await append(storage, [scan("menu", NOW, visitor=None)])
        assert await caught_up(ref, storage, 5) == await nth_position(storage, 5)
    after = await storage.analytics.dump()
    assert [r[2] for r in after["analytics_hours"]] == [5, 5]


async def test_retention_deletes_old_raw_scans_in_batches_and_keeps_the_rollups(
    storage: AnyStorage,
) -> None:
    old = [scan("menu", NOW - timedelta(days=40), visitor=None) for _ in range(7)]
    await append(storage, [*old, scan("menu", NOW, visitor=None)])
    policy = RetentionPolicy(30, lambda: NOW)
    await nth_position(storage, 8)  # past the fence, so the rebuild sees them all
    await rebuild_all(storage, AnalyticsProjection(describe_agent))
    assert len(await storage.raw_scans(AnalyticsProjection(describe_agent).raw_scan).dump()) == 8
    assert (
        await purge_once(
            storage.raw_scans(AnalyticsProjection(describe_agent).raw_scan), policy, batch=3
        )
        == 7
    )
    assert [
        row[0]
        for row in await storage.raw_scans(AnalyticsProjection(describe_agent).raw_scan).dump()
    ] == [8]
    rows = await storage.analytics.hours("menu", 0, 10**7)
    assert sum(r.humans for r in rows) == 8
    # A rebuild keeps to the retention window for raw rows, and rebuilds every rollup.
    await rebuild_all(storage, AnalyticsProjection(describe_agent, raw_cutoff=policy.cutoff))
    assert [
        row[0]
        for row in await storage.raw_scans(AnalyticsProjection(describe_agent).raw_scan).dump()
    ] == [8]
    assert sum(r.humans for r in await storage.analytics.hours("menu", 0, 10**7)) == 8


async def test_a_batch_of_costly_scans_lets_other_tasks_run_while_it_is_folded(
    storage: AnyStorage,
) -> None:
    # Imported visits bring user agents never parsed before (a parse each, 0.35 ms here):
    # 1 ms each makes one 192-scan batch 192 ms of folding, which must not hold the loop.
    # Each parse notes how often another task has run by then: in one unbroken fold, all
    # of them would see the same count.
    ticks = 0
    seen: list[int] = []

    def slow_agents(user_agent: str | None, *, expect_agent: bool = True) -> Agent:
        time.sleep(0.001)
        seen.append(ticks)
        return describe_agent(user_agent, expect_agent=expect_agent)

    await append(storage, [scan("menu", NOW, visitor=f"v{i}", agent=f"A/{i}") for i in range(192)])
    done = anyio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            await anyio.lowlevel.checkpoint()
            ticks += 1

    async with running_system() as system, anyio.create_task_group() as tasks:
        tasks.start_soon(ticker)
        ref: ActorRef[CatchUp] = await system.spawn(
            ChildSpec("analytics", lambda: follower(storage, AnalyticsProjection(slow_agents)))
        )
        await caught_up(ref, storage, 192)
        done.set()
    rows = await storage.analytics.hours("menu", 0, 10**7)
    assert [(r.humans, r.uniques) for r in rows] == [(192, 192)]
    assert len(seen) == 192
    # One batch (192 < batch_size), folded in slices that end at the first parse past a
    # millisecond (here each parse takes one), with the ticker let in between them.
    assert len(set(seen)) >= 192 // 2, seen


async def test_agents_parsed_by_the_worker_process_give_the_same_read_models(
    storage: AnyStorage,
) -> None:
    # An import's visits: agents never seen, a few of them bots. Followed with the agent
    # worker, then rebuilt without it: the same rollups and raw rows.
    tag = uuid.uuid4().hex
    agents = [f"Mozilla/5.0 (iPhone; CPU iPhone OS 17_{i} like Mac OS X) {tag}" for i in range(40)]
    agents += [f"Googlebot/2.{i} (+http://www.google.com/bot.html) {tag}" for i in range(8)]
    await append(
        storage, [scan("menu", NOW, visitor=f"v{i}", agent=a) for i, a in enumerate(agents)]
    )
    registry = CollectorRegistry()
    worker = AgentWorker(registry=registry, command=AWAKE_AGENT_WORKER)
    try:
        async with running_system() as system:
            ref: ActorRef[CatchUp] = await system.spawn(
                ChildSpec(
                    "analytics",
                    lambda: follower(
                        storage, AnalyticsProjection(describe_agent), prefetch=worker.prefetch
                    ),
                )
            )
            await caught_up(ref, storage, len(agents))
    finally:
        await worker.aclose()
    assert registry.get_sample_value("scanlet_agent_worker_described_total") == len(agents)
    followed = await storage.analytics.dump()
    raw = await storage.raw_scans(AnalyticsProjection(describe_agent).raw_scan).dump()
    rows = await storage.analytics.hours("menu", 0, 10**7)
    assert [(r.humans, r.bots) for r in rows] == [(40, 8)]
    await rebuild_all(storage, AnalyticsProjection(describe_agent))
    assert await storage.analytics.dump() == followed
    assert await storage.raw_scans(AnalyticsProjection(describe_agent).raw_scan).dump() == raw


async def test_rollups_of_more_rows_than_one_statement_holds_add_up(
    storage: AnyStorage,
) -> None:
    # 80 referrers in one hour: 160 breakdown rows an hour (the code's and all codes'), more
    # than one multi-row upsert takes (64), in both batches, the second adding onto the first.
    referrers = [f"https://site{i}.example/" for i in range(80)]
    analytics = follower(storage, AnalyticsProjection(describe_agent))
    for round_ in range(2):
        await append(
            storage,
            [
                scan("menu", NOW, visitor=f"v{round_}-{i}", referrer=r)
                for i, r in enumerate(referrers)
            ],
        )
        await analytics.on_message(CatchUp())
    assert analytics.position == await nth_position(storage, 160)
    hours = await storage.analytics.hours("menu", 0, 10**7)
    assert [(r.humans, r.uniques) for r in hours] == [(160, 160)]
    everything = await storage.analytics.hours(ALL_CODES, 0, 10**7)
    assert [(r.humans, r.uniques) for r in everything] == [(160, 160)]
    hour = int(NOW.timestamp()) // 3600
    for start, end in ((hour, hour + 1), (hour - hour % 24, hour - hour % 24 + 24)):
        found = await storage.analytics.breakdowns("menu", start, end, include_bots=True)
        assert found["referrer"] == {f"site{i}.example": 2 for i in range(80)}


async def in_slices(folding: AnalyticsFollower, *, batch_size: int) -> int:
    """Catch ``folding`` up one batch of ``batch_size`` events a message; how many it took."""
    folding.batch_size = batch_size
    folding.batches_per_message = 1
    slices = 0
    while True:
        slices += 1
        await folding.on_message(CatchUp())
        if not folding.more:
            return slices


async def test_raw_scans_come_from_the_log_one_row_a_scan_of_either_kind_in_any_batches(
    storage: AnyStorage,
) -> None:
    """The writer copies each batch's stretch of the log into the raw scans: batches of 3
    events here, so every stretch begins and ends at a scan of either kind, and a scan
    stored before the retention cutoff gets no row."""
    events = [
        scan("menu", NOW),
        orphan("nope", NOW + timedelta(seconds=1)),
        scan("poster", NOW - timedelta(days=40)),
        scan("menu", NOW + timedelta(seconds=2)),
        orphan("gone", NOW + timedelta(seconds=3)),
        orphan("gone", NOW + timedelta(seconds=4)),
        scan("poster", NOW + timedelta(seconds=5)),
    ]
    await append(storage, events)
    await nth_position(storage, len(events))  # past the fence: every event is readable
    projection = AnalyticsProjection(
        describe_agent, raw_cutoff=RetentionPolicy(30, lambda: NOW).cutoff
    )
    assert await in_slices(follower(storage, projection), batch_size=3) == 3
    rows = await storage.raw_scans(projection.raw_scan).dump()
    assert [(slug, orphaned) for _, slug, orphaned, _ in rows] == [
        ("menu", 0),
        ("nope", 1),
        ("menu", 0),
        ("gone", 1),
        ("gone", 1),
        ("poster", 0),
    ]
    # The rollups count the recorded scans only, the one before the cutoff included.
    assert sum(r.humans for r in await storage.analytics.hours(ALL_CODES, 0, 10**7)) == 4


async def test_batches_on_the_visitor_sets_the_store_holds_equal_a_rebuild(
    storage: AnyStorage,
) -> None:
    """The store keeps the visitor sets' clock and days between batches instead of reading
    them: batches of two, with live, late and imported scans whose days' sets are kept and
    pruned between them (three scans kept), leave the tables as a rebuild in one does."""
    day = timedelta(days=1)
    events = [
        scan("menu", NOW - 6 * day, visitor="a"),
        scan("menu", NOW - 5 * day, visitor="a"),
        scan("menu", NOW, visitor="a"),
        # A day never seen before gets a set, kept while its imports keep coming.
        scan("menu", NOW - 4 * day, visitor="b", source="import"),
        scan("poster", NOW, visitor="b"),
        orphan("gone", NOW),
        scan("menu", NOW - 4 * day, visitor="c", source="import"),
        scan("menu", NOW - 5 * day, visitor="c"),  # late, its set gone: not a new visitor
        scan("menu", NOW + day, visitor="a"),
        scan("poster", NOW + day, visitor="a"),
        scan("poster", NOW + day, visitor="c"),
        scan("menu", NOW - 4 * day, visitor="d", source="import"),  # three scans on: gone
        scan("menu", NOW + 2 * day, visitor="b"),
    ]
    await append(storage, events)
    await nth_position(storage, len(events))
    projection = AnalyticsProjection(describe_agent)
    with mock.patch.object(rollups, "KEPT_SCANS", 3):
        slices = await in_slices(follower(storage, projection), batch_size=2)
        batched = await storage.analytics.dump()
        await rebuild_all(storage, projection)
        rebuilt = await storage.analytics.dump()
    assert slices == 7
    assert batched == rebuilt
    first = int(NOW.timestamp()) // 86400 - 6
    by_day = {
        r.hour // 24 - first: (r.humans, r.uniques)
        for r in await storage.analytics.hours("menu", 0, 10**7)
    }
    assert by_day == {0: (1, 1), 1: (2, 1), 2: (3, 2), 6: (1, 1), 7: (1, 1), 8: (1, 1)}
    # Every day out of the window had its set pruned, the imported one at its last import.
    days = {
        int(str(row[0])) - first: (row[1], bool(row[2]))
        for row in rebuilt["analytics_visitor_days"]
    }
    assert days == {
        0: (None, True),
        1: (None, True),
        2: (5, True),
        6: (None, False),
        7: (None, False),
        8: (None, False),
    }
