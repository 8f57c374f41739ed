"""The scans actor on its own: group commits, exact max_scans, refusals that fail alone."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import anyio
import pytest
from prometheus_client import CollectorRegistry

from scanlet.actors.events import LogAppended, ScanOrphaned, ScanRecorded, decode_event
from scanlet.actors.scans.activity import LiveScans
from scanlet.actors.scans.actor import ScansActor
from scanlet.actors.scans.messages import (
    DeviceScan,
    ImportedScan,
    ImportScans,
    IngestEvents,
    IngestResult,
    RecordOrphan,
    RecordScan,
    ScanRejected,
    ScansMessage,
)
from scanlet.actors.scans.metrics import ScanMetrics
from scanlet.clock import FixedClock
from scanlet.config import Settings
from scanlet.runtime import ActorRef, ChildSpec
from scanlet.runtime.testing import BusProbe, running_system
from scanlet.storage.errors import StorageUnavailable
from scanlet.storage.server_key import ServerKey
from tests.conftest import AnyStorage
from tests.dbquery import query

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
KEY = ServerKey(b"s" * 32)


def scan(slug: str = "s", max_scans: int | None = None) -> RecordScan:
    return RecordScan(slug, "link", NOW, "203.0.113.5", "UA", None, max_scans=max_scans)


def scans_spec(storage: AnyStorage, metrics: ScanMetrics | None = None) -> ChildSpec:
    """The scans actor on ``storage`` with a fixed clock (and its own metrics unless given)."""
    return ChildSpec(
        "scans",
        lambda: ScansActor(storage.scans, FixedClock(NOW), metrics or ScanMetrics(None), KEY),
    )


def sample_count(registry: CollectorRegistry, name: str) -> float:
    value = registry.get_sample_value(name)
    assert value is not None, name
    return value


async def test_concurrent_scans_share_transactions(
    storage: AnyStorage, db_settings: Settings
) -> None:
    registry = CollectorRegistry()
    metrics = ScanMetrics(registry)
    async with running_system() as system:
        ref: ActorRef[RecordScan] = await system.spawn(scans_spec(storage, metrics))
        with BusProbe(system.bus, LogAppended) as rings:
            results: list[object] = []

            async def one() -> None:
                results.append(await ref.ask(scan()))

            async with anyio.create_task_group() as tg:
                for _ in range(200):
                    tg.start_soon(one)
            assert results == [True] * 200
            # One doorbell per commit, the last one naming the last event.
            await system.wait_idle()
            doorbells = rings.events
            assert doorbells[-1].last_seq == await storage.events.last_seq()
            assert 1 <= len(doorbells) < 20
    commits = sample_count(registry, "scanlet_scan_batch_messages_count")
    messages = sample_count(registry, "scanlet_scan_batch_messages_sum")
    assert messages == 200
    # Two hundred asks queued at once must not cost two hundred commits.
    assert commits < 20, commits
    stored = query(db_settings, "SELECT COUNT(*) FROM events WHERE type='scan.recorded'")
    counter = query(db_settings, "SELECT scans FROM scan_counters WHERE slug='s'")
    assert stored == [(200,)]
    assert counter == [(200,)]


async def test_max_scans_is_exact_even_within_one_batch(storage: AnyStorage) -> None:
    async with running_system() as system:
        ref: ActorRef[RecordScan] = await system.spawn(scans_spec(storage))
        results: list[object] = []

        async def one() -> None:
            results.append(await ref.ask(scan("limited", max_scans=5)))

        async with anyio.create_task_group() as tg:
            for _ in range(12):
                tg.start_soon(one)
    assert sorted(results, key=bool) == [False] * 7 + [True] * 5


async def test_counts_survive_a_restart_of_the_actor(storage: AnyStorage) -> None:
    for expected in ([True, True], [True, False]):
        async with running_system() as system:
            ref: ActorRef[RecordScan] = await system.spawn(scans_spec(storage))
            got = [await ref.ask(scan("three", max_scans=3)) for _ in range(2)]
        assert got == expected


async def test_a_storage_fault_is_answered_not_crashed(
    storage: AnyStorage, db_settings: Settings
) -> None:
    async with running_system() as system:
        ref: ActorRef[RecordScan] = await system.spawn(scans_spec(storage))
        assert await ref.ask(scan()) is True
        query(db_settings, "DROP TABLE scan_counters")
        with pytest.raises(StorageUnavailable):
            await ref.ask(scan())
        assert system.health() == {"scans": "running"}
        stats = ref.statistics()
        assert (stats.failures, stats.restarts, stats.refusals) == (0, 0, 1)


# Before year 1 once converted to UTC: formatting it raises OverflowError. The HTTP edge
# refuses such times; the actor must still survive one that slips through.
BEFORE_YEAR_ONE = datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))


async def test_a_scan_that_cannot_become_an_event_fails_alone(
    storage: AnyStorage, db_settings: Settings
) -> None:
    # Each rejection is logged with its traceback, which structlog renders with rich (a test
    # dependency) and its locals: seconds for the six on a loaded machine, past the default
    # 5 s ask timeout. The timeout is not what this test is about.
    async with running_system(ask_timeout=60) as system:
        ref: ActorRef[ScansMessage] = await system.spawn(scans_spec(storage))
        bad_device = DeviceScan(
            type="scan", id=str(uuid.uuid4()), slug="s", occurred_at=BEFORE_YEAR_ONE
        )
        good_device = DeviceScan(type="scan", id=str(uuid.uuid4()), slug="s", occurred_at=NOW)
        outcomes: dict[str, object] = {}

        async def ask(name: str, message: ScansMessage) -> None:
            try:
                outcomes[name] = await ref.ask(message)
            except ScanRejected as exc:
                outcomes[name] = exc

        # Queued together, so one group commit holds the bad messages and the good ones.
        async with anyio.create_task_group() as tg:
            for round_ in range(5):
                tg.start_soon(ask, f"good{round_}", scan())
                bad = RecordScan(
                    "s", "link", BEFORE_YEAR_ONE, "203.0.113.5", "UA", None, max_scans=None
                )
                tg.start_soon(ask, f"bad{round_}", bad)
            tg.start_soon(ask, "bad-batch", IngestEvents([good_device, bad_device]))
            tg.start_soon(ask, "good-batch", IngestEvents([good_device]))
        assert [outcomes[f"good{n}"] for n in range(5)] == [True] * 5
        assert all(isinstance(outcomes[f"bad{n}"], ScanRejected) for n in range(5))
        # The batch with one bad event fails as a whole (nothing of it stored, its ids not
        # claimed), so the good event in it is still new to the next batch.
        assert isinstance(outcomes["bad-batch"], ScanRejected)
        assert outcomes["good-batch"] == [IngestResult(good_device.id, "accepted")]
        stats = ref.statistics()
        assert (stats.failures, stats.restarts) == (0, 0)
        assert system.failure is None
    assert query(db_settings, "SELECT COUNT(*) FROM events") == [(6,)]


async def test_each_commit_rings_the_log_doorbell_with_its_last_seq(
    storage: AnyStorage, db_settings: Settings
) -> None:
    async with running_system() as system:
        ref: ActorRef[RecordScan] = await system.spawn(scans_spec(storage))
        with BusProbe(system.bus, LogAppended) as rings:
            for _ in range(3):
                assert await ref.ask(scan()) is True
            rung = [ring.last_seq for ring in await rings.wait_for(3)]
    assert rung == [seq for (seq,) in query(db_settings, "SELECT seq FROM events ORDER BY seq")]


async def test_live_scans_are_marked_and_imported_visits_are_not(storage: AnyStorage) -> None:
    """``LiveScans`` learns of commits holding a redirect's or an orphan's scan; a commit
    of imported visits alone (an import through the server's door) leaves it as it was."""
    ticks = iter(range(1, 1000))
    live = LiveScans(clock=lambda: float(next(ticks)))
    spec = ChildSpec(
        "scans",
        lambda: ScansActor(storage.scans, FixedClock(NOW), ScanMetrics(None), KEY, live=live),
    )
    async with running_system() as system:
        ref: ActorRef[ScansMessage] = await system.spawn(spec)
        visit = ImportedScan(id=str(uuid.uuid4()), slug="s", occurred_at=NOW - timedelta(days=1))
        assert await ref.ask(ImportScans([visit])) == [True]
        assert not live.within(1000.0)  # never marked
        assert await ref.ask(scan()) is True
        assert live.within(1.5)  # marked at tick 1, asked at tick 2
        assert not live.within(1.0)


async def test_an_orphan_keeps_the_facts_a_recorded_scan_of_the_same_request_keeps(
    storage: AnyStorage,
) -> None:
    request = ("203.0.113.5", "Mozilla/5.0 (Linux)", "https://ref.example/p", "DE")
    async with running_system() as system:
        ref: ActorRef[ScansMessage] = await system.spawn(scans_spec(storage))
        assert await ref.ask(RecordScan("known", "qr", NOW, *request, max_scans=None)) is True
        await ref.ask(RecordOrphan("unknown", "qr", NOW, *request))
    recorded, orphaned = [
        decode_event(stored.payload) for stored in await storage.events.read_after(0, 10)
    ]
    assert isinstance(recorded, ScanRecorded)
    assert isinstance(orphaned, ScanOrphaned)
    shared = set(ScanOrphaned.__struct_fields__) - {"id", "slug"}
    assert {name: getattr(orphaned, name) for name in shared} == {
        name: getattr(recorded, name) for name in shared
    }
    # Every fact was kept, and the address anonymised as for any scan.
    assert (orphaned.user_agent, orphaned.referrer, orphaned.country) == request[1:]
    assert orphaned.ip == "203.0.113.0"
    assert orphaned.visitor is not None
    assert (orphaned.source, orphaned.occurred_at) == ("qr", NOW)
