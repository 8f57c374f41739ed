"""The projection worker: a backlog folded in another process gives the same read models,
exactly once, whichever side applies a batch and whenever the worker dies."""

import os
import signal
import sys
import textwrap
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal

import anyio
import msgspec
import pytest
from prometheus_client import CollectorRegistry

from scanlet.actors.analytics.actor import POSITION_NAME, REMOTE_MIN_EVENTS, AnalyticsFollower
from scanlet.actors.analytics.projection import AnalyticsProjection
from scanlet.actors.events import DomainEvent
from scanlet.actors.follower import CATCH_UP, CatchUp
from scanlet.adapters.user_agents import describe_agent
from scanlet.assembly.projection_worker import WORKER_BATCHES, ProjectionWorker
from scanlet.config import Settings
from scanlet.priority import BACKGROUND_NICENESS
from scanlet.runtime import ActorRef, ChildSpec
from scanlet.runtime.testing import running_system
from scanlet.storage.errors import StorageUnavailable
from scanlet.storage.timefmt import format_time
from tests.conftest import AnyStorage, caught_up, nth_position
from tests.processes import assert_child_ends_with_its_parent, niceness

from .conftest import append, follower, rebuild_all, scan

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
#: Raw scans before this are past the retention (the rollups keep them).
CUTOFF = format_time(NOW - timedelta(days=1))


def cutoff() -> str:
    return CUTOFF


def projection() -> AnalyticsProjection:
    return AnalyticsProjection(describe_agent, raw_cutoff=cutoff)


def visits(count: int) -> list[DomainEvent]:
    """An import's visits: agents never seen, a few bots, some past the retention."""
    tag = uuid.uuid4().hex
    events: list[DomainEvent] = []
    for i in range(count):
        agent = f"Mozilla/5.0 (iPhone; CPU iPhone OS 17_{i} like Mac OS X) {tag}"
        if i % 7 == 0:
            agent = f"Googlebot/2.{i} (+http://www.google.com/bot.html) {tag}"
        at = NOW - timedelta(days=3) if i % 5 == 0 else NOW - timedelta(minutes=i % 600)
        events.append(scan(f"code{i % 3}", at, visitor=f"v{i % 50}", agent=agent))
    return events


def sample(registry: CollectorRegistry, name: str) -> float:
    return registry.get_sample_value(name) or 0.0


def slices_and_failures(registry: CollectorRegistry) -> tuple[float, float]:
    return (
        sample(registry, "scanlet_projection_worker_slices_total"),
        sample(registry, "scanlet_projection_worker_failures_total"),
    )


async def follow(storage: AnyStorage, worker: ProjectionWorker | None, count: int) -> None:
    """Catch an analytics follower (with ``worker`` as its remote) up to ``count`` events."""
    remote = None if worker is None else worker.catch_up
    async with running_system() as system:
        ref: ActorRef[CatchUp] = await system.spawn(
            ChildSpec("analytics", lambda: follower(storage, projection(), remote=remote))
        )
        # A slice of new agents takes seconds on a loaded machine: longer than an ask's
        # default timeout.
        target = await nth_position(storage, count)
        with anyio.fail_after(120):
            # Another transaction on PostgreSQL: nothing to wait on but time.
            while await ref.ask(CATCH_UP, timeout=60) < target:  # noqa: ASYNC110
                await anyio.sleep(0.01)


async def same_as_a_rebuild(storage: AnyStorage) -> None:
    """The read models are what a rebuild without any worker makes of the log."""
    followed = await storage.analytics.dump()
    raw = await storage.raw_scans(projection().raw_scan).dump()
    await rebuild_all(storage, projection())
    assert await storage.analytics.dump() == followed
    assert await storage.raw_scans(projection().raw_scan).dump() == raw


def worker_for(
    settings: Settings, registry: CollectorRegistry, **options: object
) -> ProjectionWorker:
    return ProjectionWorker(settings, cutoff, registry=registry, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("synchronous", ["normal", "full"])
async def test_a_backlog_folded_by_the_worker_gives_the_read_models_of_a_rebuild(
    storage: AnyStorage, db_settings: Settings, synchronous: Literal["normal", "full"]
) -> None:
    if synchronous == "full" and db_settings.postgres_url:
        pytest.skip("a SQLite setting")
    # More than one slice: the follower asks again while more is left.
    events = visits(WORKER_BATCHES * AnalyticsFollower.batch_size + REMOTE_MIN_EVENTS + 1)
    await append(storage, events)
    registry = CollectorRegistry()
    # With synchronous=full (on SQLite) the worker's batches, derived writes, commit on its
    # loop without an fsync of their own.
    worker = worker_for(msgspec.structs.replace(db_settings, synchronous=synchronous), registry)
    try:
        await follow(storage, worker, len(events))
        assert worker.pid is not None
        # It runs below the server's priority: folding waits for redirects.
        assert niceness(worker.pid) == min(19, os.nice(0) + BACKGROUND_NICENESS)
    finally:
        await worker.aclose()
    assert slices_and_failures(registry) == (2, 0)
    raw = await storage.raw_scans(projection().raw_scan).dump()
    # Those past the retention (the worker was told the cutoff) left no raw row.
    assert len(raw) == len([i for i in range(len(events)) if i % 5])
    rows = await storage.analytics.hours("code0", 0, 10**7)
    assert sum(r.humans + r.bots for r in rows) == len(events[0::3])
    assert sum(r.bots for r in rows) == len([i for i in range(0, len(events), 3) if i % 7 == 0])
    await same_as_a_rebuild(storage)


async def test_a_few_events_are_folded_on_the_loop_and_a_refusal_too(storage: AnyStorage) -> None:
    asked: list[int] = []

    async def refusing_remote() -> tuple[int, bool] | None:
        asked.append(1)
        return None

    events = visits(REMOTE_MIN_EVENTS - 1)
    await append(storage, events)
    async with running_system() as system:
        ref: ActorRef[CatchUp] = await system.spawn(
            ChildSpec("analytics", lambda: follower(storage, projection(), remote=refusing_remote))
        )
        await caught_up(ref, storage, len(events))
        assert asked == []
        more = visits(REMOTE_MIN_EVENTS)
        await append(storage, more)
        await caught_up(ref, storage, len(events) + len(more))
        assert asked == [1]
    await same_as_a_rebuild(storage)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


async def test_a_worker_that_cannot_start_or_dies_leaves_the_backlog_to_the_loop(
    storage: AnyStorage, db_settings: Settings
) -> None:
    count = 0
    # The real worker, told of a database that does not exist, exits with a message.
    missing = msgspec.structs.replace(
        db_settings, db=db_settings.db.with_name("missing.db"), postgres_url=None
    )
    for settings, command in (
        (db_settings, ["/nonexistent/projection-worker"]),
        (db_settings, python("import sys; sys.exit(3)")),
        (missing, None),
    ):
        events = visits(2 * REMOTE_MIN_EVENTS)
        await append(storage, events)
        count += len(events)
        registry = CollectorRegistry()
        worker = worker_for(settings, registry, command=command)
        try:
            await follow(storage, worker, count)
        finally:
            await worker.aclose()
        assert slices_and_failures(registry) == (0, 1)
    await same_as_a_rebuild(storage)


@pytest.mark.parametrize("synchronous", ["normal", "full"])
async def test_a_worker_killed_mid_slice_loses_and_doubles_nothing(
    storage: AnyStorage, db_settings: Settings, synchronous: Literal["normal", "full"]
) -> None:
    if synchronous == "full" and db_settings.postgres_url:
        pytest.skip("a SQLite setting")
    events = visits(3_000)
    await append(storage, events)
    registry = CollectorRegistry()
    worker = worker_for(msgspec.structs.replace(db_settings, synchronous=synchronous), registry)
    killed_at: list[int] = []

    async def kill_when_it_has_committed() -> None:
        with anyio.fail_after(60):
            # Another process's commit: nothing to wait on but time.
            while worker.pid is None or not await storage.positions.load(POSITION_NAME):  # noqa: ASYNC110
                await anyio.sleep(0.002)
        killed_at.append(await storage.positions.load(POSITION_NAME))
        os.kill(worker.pid, signal.SIGKILL)

    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(kill_when_it_has_committed)
            await follow(storage, worker, len(events))
    finally:
        await worker.aclose()
    last = (await storage.events.read_after(0, len(events)))[-1].position
    # Killed after some of its batches committed and before all of them did.
    assert 0 < killed_at[0] < last
    assert slices_and_failures(registry)[1] == 1
    await same_as_a_rebuild(storage)


async def test_the_worker_reloads_a_position_somebody_else_moved(
    storage: AnyStorage, db_settings: Settings
) -> None:
    registry = CollectorRegistry()
    worker = worker_for(db_settings, registry)
    count = 0

    async def add(number: int) -> Sequence[DomainEvent]:
        nonlocal count
        events = visits(number)
        await append(storage, events)
        count += number
        return events

    try:
        await add(REMOTE_MIN_EVENTS)
        await follow(storage, worker, count)
        # Folded on the loop meanwhile: the worker's own idea of the position is stale.
        await add(REMOTE_MIN_EVENTS - 1)
        await follow(storage, None, count)
        await add(REMOTE_MIN_EVENTS)
        await follow(storage, worker, count)
    finally:
        await worker.aclose()
    assert slices_and_failures(registry) == (2, 0)
    await same_as_a_rebuild(storage)


def test_the_worker_ends_when_its_server_is_killed(db_settings: Settings) -> None:
    env = {**os.environ, "SCANLET_DB": db_settings.postgres_url or str(db_settings.db)}
    assert_child_ends_with_its_parent(
        python(
            """
            import anyio
            from scanlet.assembly.projection_worker import ProjectionWorker
            from scanlet.config import load_settings
            from scanlet.storage.opening import open_storage

            async def main():
                settings = load_settings(isatty=False)
                async with open_storage(settings):
                    pass
                worker = ProjectionWorker(settings, lambda: None)
                assert await worker.catch_up() == (0, False)
                print("worker", worker.pid, flush=True)
                await anyio.sleep(120)

            anyio.run(main)
            """
        ),
        env,
    )


async def test_an_outage_while_weighing_the_backlog_leaves_the_catch_up_to_the_loop(
    storage: AnyStorage,
) -> None:
    asked: list[int] = []

    async def remote() -> tuple[int, bool] | None:
        asked.append(1)
        return None

    class Unavailable:
        """The log, but its lag cannot be read (a database that went away for a moment)."""

        def __getattr__(self, name: str) -> object:
            return getattr(storage.events, name)

        async def lag(self, position: int) -> int:
            raise StorageUnavailable("down for a moment")

    events = visits(REMOTE_MIN_EVENTS)
    await append(storage, events)
    analytics = AnalyticsFollower(
        Unavailable(),  # type: ignore[arg-type]
        storage.positions,
        storage.analytics,
        projection(),
        remote=remote,
    )
    target = await nth_position(storage, len(events))
    # Outside a system, as ``scanlet rebuild`` drives it: one slice per call.
    assert await analytics.on_message(CATCH_UP) == target
    assert asked == []
    await same_as_a_rebuild(storage)
