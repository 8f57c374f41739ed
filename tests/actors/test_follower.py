"""Log followers apply each committed event once, in order, and resume after a restart."""

import sqlite3
from collections import Counter
from datetime import UTC, datetime

import anyio
import anyio.lowlevel
import pytest

from scanlet.actors.events import LogAppended, ScanRecorded, encode_event
from scanlet.actors.follower import CATCH_UP, CatchUp, LogFollower, start_doorbell
from scanlet.config import Settings
from scanlet.runtime import ActorRef, ChildSpec
from scanlet.runtime.testing import running_system
from scanlet.storage.postgres.database import Connection
from scanlet.storage.postgres.positions import PositionStore as PgPositions
from scanlet.storage.records import NewEvent, StoredEvent
from scanlet.storage.sqlite.positions import PositionStore as SqlitePositions
from scanlet.storage.sqlite.storage import SqliteStorage
from tests.conftest import AnyStorage, caught_up, nth_position
from tests.dbquery import query

NOW = datetime(2026, 11, 27, tzinfo=UTC)
UPSERT = (
    "INSERT INTO tally (slug, n) VALUES (?, ?)"
    " ON CONFLICT (slug) DO UPDATE SET n = tally.n + excluded.n"
)


async def save(
    storage: AnyStorage, name: str, expected: int, last: int, counts: Counter[str | None]
) -> None:
    """Add ``counts`` to the tally and move the position of ``name`` from ``expected`` to
    ``last`` in one transaction, with each adapter's own position helpers."""
    if isinstance(storage, SqliteStorage):

        def work(conn: sqlite3.Connection) -> None:
            conn.executemany(UPSERT, list(counts.items()))
            SqlitePositions.save(conn, name, last)

        await storage.db.write(work)
        return

    async def pg_work(conn: Connection) -> None:
        await conn.executemany(UPSERT.replace("?, ?", "$1, $2"), list(counts.items()))
        await PgPositions.claim(conn, name, expected)
        await PgPositions.save(conn, name, last)

    await storage.db.write(pg_work)


class Tally(LogFollower):
    """Counts scans per slug in a table of its own (a test double that writes SQL itself)."""

    position_name = "tally"
    types = ("scan.recorded",)
    batch_size = 3

    def __init__(self, storage: AnyStorage) -> None:
        super().__init__(storage.events, storage.positions)
        self.storage = storage

    async def commit(self, events: list[StoredEvent], last: int) -> None:
        counts = Counter(e.slug for e in events)
        await save(self.storage, self.position_name, self.position, last, counts)


@pytest.fixture
def db(storage: AnyStorage, db_settings: Settings) -> AnyStorage:
    """The test's storage, with the tally's table."""
    query(db_settings, "CREATE TABLE tally (slug TEXT PRIMARY KEY, n INT NOT NULL)")
    return storage


async def append(db: AnyStorage, *slugs: str, kind: str = "scan.recorded") -> None:
    events = []
    for i, slug in enumerate(slugs):
        event = ScanRecorded(id=f"{slug}-{i}-{kind}", occurred_at=NOW, slug=slug, source="link")
        events.append(NewEvent(event.id, kind, slug, "t", encode_event(event)))
    await db.events.append(events, NOW)


def tally(db_settings: Settings) -> dict[str, int]:
    return dict(query(db_settings, "SELECT slug, n FROM tally"))


async def test_a_follower_applies_everything_in_batches_once(
    db: AnyStorage, db_settings: Settings
) -> None:
    await append(db, "a", "b", "a", "a", "c", "b", "a")
    await append(db, "x", kind="scan.orphaned")
    async with running_system() as system:
        ref: ActorRef[CatchUp] = await system.spawn(ChildSpec("tally", lambda: Tally(db)))
        position = await caught_up(ref, db, 8)
        assert position == await nth_position(db, 8)
        assert tally(db_settings) == {"a": 4, "b": 2, "c": 1}
        assert await ref.ask(CATCH_UP) == position
        assert tally(db_settings) == {"a": 4, "b": 2, "c": 1}


async def test_a_restarted_follower_resumes_from_its_stored_position(
    db: AnyStorage, db_settings: Settings
) -> None:
    await append(db, "a", "b")
    async with running_system() as system:
        ref: ActorRef[CatchUp] = await system.spawn(ChildSpec("tally", lambda: Tally(db)))
        await caught_up(ref, db, 2)
    await append(db, "a")
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("tally", lambda: Tally(db)))
        assert await caught_up(ref, db, 3) == await nth_position(db, 3)
    assert tally(db_settings) == {"a": 2, "b": 1}


async def test_the_doorbell_wakes_the_follower_when_events_are_published(
    db: AnyStorage, db_settings: Settings
) -> None:
    async with running_system() as system, anyio.create_task_group() as tasks:
        ref: ActorRef[CatchUp] = await system.spawn(
            ChildSpec("tally", lambda: Tally(db), mailbox_capacity=2)
        )
        await ref.ask(CATCH_UP)
        start_doorbell(tasks, ref, system.bus, interval=3600)
        await append(db, "late")
        with anyio.fail_after(5):
            while tally(db_settings).get("late") != 1:
                # Rung until answered: on PostgreSQL a transaction elsewhere on the server
                # can hold the fence when the first ring is heard.
                system.bus.publish_nowait(LogAppended(last_seq=1))
                await system.wait_idle()
                await anyio.lowlevel.checkpoint()
        tasks.cancel_scope.cancel()


class Skipping(Tally):
    """A tally that may pass events over: ``now`` before reading, ``then`` in the commit."""

    def __init__(self, db: AnyStorage, *, now: bool, then: bool) -> None:
        super().__init__(db)
        self.now, self.then = now, then

    async def may_skip(self) -> bool:
        return self.now

    async def skip(self, last: int) -> bool:
        if self.then:
            await save(self.storage, self.position_name, self.position, last, Counter())
        return self.then


async def test_a_follower_with_nothing_to_do_moves_to_the_end_without_reading(
    db: AnyStorage, db_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await append(db, "a", "b", "a", "a", "c")
    fifth = await nth_position(db, 5)

    def unread(*args: object) -> list[StoredEvent]:
        raise AssertionError("the events were read")

    monkeypatch.setattr(type(db.events), "read_after", unread)
    async with running_system() as system:
        follower = Skipping(db, now=True, then=True)
        ref: ActorRef[CatchUp] = await system.spawn(ChildSpec("tally", lambda: follower))
        # The end of the log: on PostgreSQL the fence, at or past the last event.
        end = await ref.ask(CATCH_UP)
        assert end >= fifth
    assert tally(db_settings) == {}
    monkeypatch.undo()
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("tally", lambda: Tally(db)))
        # The skip was stored as the position (on PostgreSQL the fence may have moved on
        # since, and a stopping follower skips to it too): nothing before it is applied.
        assert await ref.ask(CATCH_UP) >= end
    assert tally(db_settings) == {}


async def test_work_that_appears_before_the_skip_commits_is_applied(
    db: AnyStorage, db_settings: Settings
) -> None:
    await append(db, "a", "b", "a", "a", "c")
    async with running_system() as system:
        follower = Skipping(db, now=True, then=False)
        ref: ActorRef[CatchUp] = await system.spawn(ChildSpec("tally", lambda: follower))
        assert await caught_up(ref, db, 5) == await nth_position(db, 5)
    assert tally(db_settings) == {"a": 3, "b": 1, "c": 1}
