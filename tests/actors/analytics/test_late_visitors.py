"""Unique visitors of scans that arrive after their day left the visitor window: an import
brings years of each code's visits in turn, a replay brings an old day back. Each test
follows the log one event per batch (so the sets are pruned between batches, as a running
server's follower does) and checks that a rebuild in one pass gives the same read models."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from unittest import mock

from scanlet.actors.analytics.projection import AnalyticsProjection
from scanlet.actors.events import DomainEvent
from scanlet.actors.follower import CATCH_UP
from scanlet.adapters.user_agents import describe_agent
from scanlet.storage import rollups
from tests.conftest import AnyStorage, readable

from .conftest import append, follower, rebuild_all, scan

TODAY = datetime(2026, 6, 1, 12, tzinfo=UTC)


async def follow_one_by_one(storage: AnyStorage, events: Sequence[DomainEvent]) -> None:
    """Append ``events`` and apply them to the read models one batch each."""
    await append(storage, events)
    await readable(storage)
    analytics = follower(storage, AnalyticsProjection(describe_agent))
    analytics.batch_size = 1
    analytics.batches_per_message = 1
    analytics.position = await storage.positions.load("analytics")
    await analytics.on_message(CATCH_UP)
    while analytics.more:
        await analytics.on_message(CATCH_UP)


async def uniques_by_day(storage: AnyStorage, slug: str) -> dict[int, tuple[int, int]]:
    """Day -> (scans, unique visitors) of ``slug`` ("*": all codes)."""
    days: dict[int, tuple[int, int]] = {}
    for row in await storage.analytics.hours(slug, 0, 10**7):
        scans, uniques = days.get(row.hour // 24, (0, 0))
        days[row.hour // 24] = (scans + row.humans, uniques + row.uniques)
    return days


async def same_after_a_rebuild(storage: AnyStorage) -> None:
    followed = await storage.analytics.dump()
    await rebuild_all(storage, AnalyticsProjection(describe_agent))
    assert await storage.analytics.dump() == followed


def day_of(at: datetime) -> int:
    return int(at.timestamp()) // 86400


async def test_imported_codes_one_after_another_count_every_days_visitors(
    storage: AnyStorage,
) -> None:
    # Two codes' ten days of visits, one code after the other (as Shlink lists them), each
    # day by two visitors of whom one also visited the other code that day.
    days = [TODAY - timedelta(days=30 - n) for n in range(10)]
    events = [
        scan(slug, day, visitor=visitor, source="import")
        for slug in ("menu", "poster")
        for day in days
        for visitor in ("both", f"only-{slug}")
    ]
    await follow_one_by_one(storage, events)
    expected = {day_of(day): (2, 2) for day in days}
    assert await uniques_by_day(storage, "menu") == expected
    assert await uniques_by_day(storage, "poster") == expected
    assert await uniques_by_day(storage, "*") == {day_of(day): (4, 3) for day in days}
    await same_after_a_rebuild(storage)


async def test_old_visits_imported_after_todays_scans_count_their_visitors(
    storage: AnyStorage,
) -> None:
    old = TODAY - timedelta(days=60)
    events = [scan("menu", TODAY, visitor=f"today-{n}") for n in range(3)] + [
        scan("menu", old + timedelta(hours=n), visitor=f"then-{n % 4}", source="import")
        for n in range(10)
    ]
    await follow_one_by_one(storage, events)
    assert await uniques_by_day(storage, "menu") == {day_of(old): (10, 4), day_of(TODAY): (3, 3)}
    await same_after_a_rebuild(storage)


async def test_a_day_whose_set_was_dropped_never_counts_a_late_scan_as_a_new_visitor(
    storage: AnyStorage,
) -> None:
    # The day's set went when later days' scans moved the window past it: a visitor seen
    # that day cannot be told from a new one, so a late scan counts as a scan only.
    then = TODAY - timedelta(days=10)
    events = [
        scan("menu", then, visitor="v1"),
        scan("menu", TODAY, visitor="v1"),
        scan("menu", then, visitor="v1", source="import"),
        scan("menu", then, visitor="v2", source="import"),
    ]
    await follow_one_by_one(storage, events)
    assert await uniques_by_day(storage, "menu") == {day_of(then): (3, 1), day_of(TODAY): (1, 1)}
    await same_after_a_rebuild(storage)


async def test_an_imported_days_set_goes_once_enough_scans_came_after_its_last(
    storage: AnyStorage,
) -> None:
    then = TODAY - timedelta(days=20)
    imported = [scan("menu", then, visitor="v1", source="import")]
    live = [scan("menu", TODAY, visitor=f"live-{n}") for n in range(6)]
    again = [scan("menu", then, visitor=v, source="import") for v in ("v1", "v2")]
    with mock.patch.object(rollups, "KEPT_SCANS", 3):
        # Kept through three scans after its last imported one (two here), gone after four.
        await follow_one_by_one(storage, imported + live[:2] + again[:1])
        assert (await uniques_by_day(storage, "menu"))[day_of(then)] == (2, 1)
        await follow_one_by_one(storage, live[2:] + again[1:])
        assert (await uniques_by_day(storage, "menu"))[day_of(then)] == (3, 1)
        await same_after_a_rebuild(storage)
    # Its visitor set was dropped from the store, not only left out of the count.
    dumped = await storage.analytics.dump()
    assert {row[0] for row in dumped["analytics_visitors"]} == {day_of(TODAY)}
