"""A batch whose rollups touch many rows is stored in parts: each its own transaction with
its own position, so that no transaction holds the write lock (and, inline, the loop) long,
while every scan is still counted exactly once."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from scanlet.actors.analytics.actor import ROWS_PER_APPLY, rebuild
from scanlet.actors.analytics.projection import AnalyticsProjection
from scanlet.actors.follower import CATCH_UP
from scanlet.adapters.user_agents import describe_agent
from scanlet.assembly.analytics import CATCH_UP_DEBOUNCE
from scanlet.storage.errors import StorageUnavailable
from scanlet.storage.ports import AnalyticsWriter
from scanlet.storage.records import ScanFact
from scanlet.storage.rollups import RollupRows
from tests.conftest import AnyStorage

from .conftest import DESKTOP, PHONE, append, follower, rebuild_all, scan

START = datetime(2025, 1, 1, tzinfo=UTC)
COUNTRIES = ("DE", "FR", "US", "GB", "ES")


class RecordingWriter:
    """The storage's writer, recording each apply (and failing the ``fail_at``-th once)."""

    def __init__(self, writer: AnalyticsWriter, fail_at: int | None = None) -> None:
        self.writer = writer
        self.fail_at = fail_at
        #: (expected, position, rollup rows) of each apply that committed.
        self.applied: list[tuple[int, int, int]] = []
        self.calls = 0

    async def apply(
        self,
        name: str,
        expected: int,
        position: int,
        facts: Sequence[ScanFact],
        raw_cutoff: str | None,
    ) -> None:
        self.calls += 1
        if self.calls == self.fail_at:
            raise StorageUnavailable("the disk is full (a test)")
        await self.writer.apply(name, expected, position, facts, raw_cutoff)
        self.applied.append((expected, position, RollupRows().add(facts)))

    async def reset(self, name: str) -> None:
        await self.writer.reset(name)


async def spread_visits(storage: AnyStorage, count: int) -> None:
    """An import's visits: each in an hour of its own, from two agents and five countries."""
    await append(
        storage,
        [
            scan(
                "poster",
                START + timedelta(hours=i),
                visitor=f"v{i}",
                agent=(PHONE, DESKTOP)[i % 2],
                country=COUNTRIES[i % 5],
                source="import",
            )
            for i in range(count)
        ],
    )


async def read_models(storage: AnyStorage) -> tuple[object, ...]:
    raw = await storage.raw_scans(AnalyticsProjection(describe_agent).raw_scan).dump()
    return await storage.analytics.dump(), raw


async def test_visits_spread_over_many_hours_commit_in_parts_that_add_up_to_one_batch(
    storage: AnyStorage,
) -> None:
    await spread_visits(storage, 200)
    writer = RecordingWriter(storage.analytics)
    analytics = follower(storage, AnalyticsProjection(describe_agent))
    analytics.writer = writer
    analytics.position = await storage.positions.load("analytics")
    position = await analytics.on_message(CATCH_UP)
    assert not analytics.more
    # Several transactions, each starting where the last one left the position, the last
    # one at the end of the batch (200 events: one batch of the follower's 512).
    assert len(writer.applied) > 2, writer.applied
    assert [expected for expected, _, _ in writer.applied[1:]] == [
        moved for _, moved, _ in writer.applied[:-1]
    ]
    assert writer.applied[-1][1] == position == await storage.positions.load("analytics")
    # Each part stops at the first fold step that reaches the limit.
    for _, _, rows in writer.applied[:-1]:
        assert ROWS_PER_APPLY <= rows < 2 * ROWS_PER_APPLY
    hours = await storage.analytics.hours("poster", 0, 10**7)
    assert sum(row.humans for row in hours) == 200
    followed = await read_models(storage)
    # A rebuild applies the same events as one transaction a batch: the same read models.
    await rebuild_all(storage, AnalyticsProjection(describe_agent))
    assert await read_models(storage) == followed


async def test_a_failure_between_parts_leaves_a_position_from_which_each_scan_counts_once(
    storage: AnyStorage,
) -> None:
    await spread_visits(storage, 200)
    writer = RecordingWriter(storage.analytics, fail_at=2)
    analytics = follower(storage, AnalyticsProjection(describe_agent))
    analytics.writer = writer
    analytics.position = await storage.positions.load("analytics")
    stopped = await analytics.on_message(CATCH_UP)
    # The first part committed and the second did not: the follower stands where the first
    # left the stored position, and goes on from there at its next catch-up.
    assert len(writer.applied) == 1
    assert stopped == writer.applied[0][1] == await storage.positions.load("analytics")
    done = await analytics.on_message(CATCH_UP)
    assert writer.applied[1][0] == stopped
    assert done == await storage.positions.load("analytics") > stopped
    hours = await storage.analytics.hours("poster", 0, 10**7)
    assert sum(row.humans for row in hours) == 200
    assert len(await storage.raw_scans(AnalyticsProjection(describe_agent).raw_scan).dump()) == 200
    followed = await read_models(storage)
    await rebuild_all(storage, AnalyticsProjection(describe_agent))
    assert await read_models(storage) == followed


async def test_live_scans_of_one_hour_commit_as_one_transaction(storage: AnyStorage) -> None:
    # As many as a saturated server gathers between two catch-ups (10 ms at 40k a second):
    # each further transaction would cost the whole apply's fixed part again.
    gathered = round(CATCH_UP_DEBOUNCE * 40_000)
    await append(
        storage,
        [
            scan("menu", START, visitor=f"v{i}", agent=(PHONE, DESKTOP)[i % 2])
            for i in range(gathered)
        ],
    )
    writer = RecordingWriter(storage.analytics)
    analytics = follower(storage, AnalyticsProjection(describe_agent))
    analytics.writer = writer
    analytics.position = await storage.positions.load("analytics")
    await analytics.on_message(CATCH_UP)
    assert len(writer.applied) == 1


async def test_a_rebuild_applies_each_batch_as_one_transaction(storage: AnyStorage) -> None:
    # Nothing waits for a rebuild: its batches are not cut, whatever rows they touch.
    await spread_visits(storage, 200)
    writer = RecordingWriter(storage.analytics)
    await rebuild(storage.events, storage.positions, writer, AnalyticsProjection(describe_agent))
    assert len(writer.applied) == 1
    assert writer.applied[0][2] > ROWS_PER_APPLY
