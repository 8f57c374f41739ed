"""Log followers apply each committed event once, in order, and resume after a restart."""

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from scanlet.actors.events import LogAppended, ScanRecorded, encode_event
from scanlet.actors.follower import CATCH_UP, CatchUp, LogFollower, start_doorbell
from scanlet.runtime import ActorRef, ChildSpec
from scanlet.runtime.testing import running_system
from scanlet.storage.records import NewEvent, StoredEvent
from scanlet.storage.sqlite.database import Database, open_database
from scanlet.storage.sqlite.eventlog import EventLog
from scanlet.storage.sqlite.positions import PositionStore

NOW = datetime(2026, 11, 27, tzinfo=UTC)


class Tally(LogFollower):
    """Counts scans per slug in a table of its own (a test double that writes SQL itself)."""

    position_name = "tally"
    types = ("scan.recorded",)
    batch_size = 3

    def __init__(self, db: Database) -> None:
        super().__init__(EventLog(db), PositionStore(db))
        self.db = db

    async def commit(self, events: list[StoredEvent], last: int) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute("CREATE TABLE IF NOT EXISTS tally (slug TEXT PRIMARY KEY, n INT)")
            conn.executemany(
                "INSERT INTO tally VALUES (?, 1) ON CONFLICT (slug) DO UPDATE SET n = n + 1",
                [(e.slug,) for e in events],
            )
            PositionStore.save(conn, self.position_name, last)

        await self.db.write(work)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with open_database(tmp_path / "f.db") as database:
        yield database


async def append(db: Database, *slugs: str, kind: str = "scan.recorded") -> None:
    events = []
    for i, slug in enumerate(slugs):
        event = ScanRecorded(id=f"{slug}-{i}-{kind}", occurred_at=NOW, slug=slug, source="link")
        events.append(NewEvent(event.id, kind, slug, "t", encode_event(event)))
    await db.write(lambda conn: EventLog.add(conn, events, "t"))


def tally(db: Database) -> dict[str, int]:
    with sqlite3.connect(db.path) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS tally (slug TEXT PRIMARY KEY, n INT)")
        return dict(conn.execute("SELECT slug, n FROM tally").fetchall())


async def test_a_follower_applies_everything_in_batches_once(db: Database) -> None:
    await append(db, "a", "b", "a", "a", "c", "b", "a")
    await append(db, "x", kind="scan.orphaned")
    async with running_system() as system:
        ref: ActorRef[CatchUp] = await system.spawn(ChildSpec("tally", lambda: Tally(db)))
        position = await ref.ask(CATCH_UP)
        assert position == 8
        assert tally(db) == {"a": 4, "b": 2, "c": 1}
        assert await ref.ask(CATCH_UP) == 8
        assert tally(db) == {"a": 4, "b": 2, "c": 1}


async def test_a_restarted_follower_resumes_from_its_stored_position(db: Database) -> None:
    await append(db, "a", "b")
    async with running_system() as system:
        ref: ActorRef[CatchUp] = await system.spawn(ChildSpec("tally", lambda: Tally(db)))
        await ref.ask(CATCH_UP)
    await append(db, "a")
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("tally", lambda: Tally(db)))
        assert await ref.ask(CATCH_UP) == 3
    assert tally(db) == {"a": 2, "b": 1}


async def test_the_doorbell_wakes_the_follower_when_events_are_published(db: Database) -> None:
    async with running_system() as system, anyio.create_task_group() as tasks:
        ref: ActorRef[CatchUp] = await system.spawn(
            ChildSpec("tally", lambda: Tally(db), mailbox_capacity=2)
        )
        await ref.ask(CATCH_UP)
        start_doorbell(tasks, ref, system.bus, interval=3600)
        await append(db, "late")
        system.bus.publish_nowait(LogAppended(last_seq=1))
        with anyio.fail_after(5):
            while tally(db).get("late") != 1:
                await system.wait_idle()
                await anyio.lowlevel.checkpoint()
        tasks.cancel_scope.cancel()


class Skipping(Tally):
    """A tally that may pass events over: ``now`` before reading, ``then`` in the commit."""

    def __init__(self, db: Database, *, now: bool, then: bool) -> None:
        super().__init__(db)
        self.now, self.then = now, then

    async def may_skip(self) -> bool:
        return self.now

    async def skip(self, last: int) -> bool:
        if self.then:
            await self.db.write(lambda conn: PositionStore.save(conn, self.position_name, last))
        return self.then


async def test_a_follower_with_nothing_to_do_moves_to_the_end_without_reading(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await append(db, "a", "b", "a", "a", "c")

    def unread(*args: object) -> list[StoredEvent]:
        raise AssertionError("the events were read")

    monkeypatch.setattr(EventLog, "read_after", unread)
    async with running_system() as system:
        follower = Skipping(db, now=True, then=True)
        ref: ActorRef[CatchUp] = await system.spawn(ChildSpec("tally", lambda: follower))
        assert await ref.ask(CATCH_UP) == 5
    assert tally(db) == {}
    monkeypatch.undo()
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("tally", lambda: Tally(db)))
        assert await ref.ask(CATCH_UP) == 5  # the skip was stored as the position
    assert tally(db) == {}


async def test_work_that_appears_before_the_skip_commits_is_applied(db: Database) -> None:
    await append(db, "a", "b", "a", "a", "c")
    async with running_system() as system:
        follower = Skipping(db, now=True, then=False)
        ref: ActorRef[CatchUp] = await system.spawn(ChildSpec("tally", lambda: follower))
        assert await ref.ask(CATCH_UP) == 5
    assert tally(db) == {"a": 3, "b": 1, "c": 1}
