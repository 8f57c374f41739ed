"""The scans' newest commits read from memory: the same events the log itself gives, in
every synchronous mode, whoever else appends in between."""

import inspect
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from scanlet.actors.analytics.actor import AnalyticsFollower
from scanlet.actors.events import ScanRecorded, decode_event, log_entry
from scanlet.assembly.analytics import CATCH_UP_DEBOUNCE
from scanlet.config import load_settings
from scanlet.http.log_tail import LogTail
from scanlet.storage.errors import StorageError
from scanlet.storage.opening import open_storage
from scanlet.storage.records import DeviceEntry, NewEvent, ScanBatch, StoredEvent
from scanlet.storage.sqlite.recent import RecentAppends
from scanlet.storage.sqlite.scans import ScanStore
from scanlet.storage.sqlite.storage import SqliteStorage

NOW = datetime(2026, 12, 4, 13, 0, tzinfo=UTC)


def entry(slug: str = "menu", event_id: str | None = None) -> NewEvent:
    event = ScanRecorded(
        id=event_id or str(uuid.uuid4()), occurred_at=NOW, slug=slug, source="qr", ip="203.0.113.0"
    )
    return log_entry(event, slug)


def seqs(events: list[StoredEvent]) -> list[int]:
    return [event.seq for event in events]


def test_memory_gives_runs_of_consecutive_seqs_only() -> None:
    recent = RecentAppends()
    first, second, third = [entry() for _ in range(3)], [entry() for _ in range(2)], [entry()]
    recent.add(3, first, "t1")  # seqs 1-3
    recent.add(5, second, "t2")  # seqs 4-5
    recent.add(8, third, "t3")  # seq 8: 6 and 7 were appended by somebody else
    assert seqs(recent.after(0, 10)) == [1, 2, 3, 4, 5]
    assert seqs(recent.after(2, 2)) == [3, 4]
    assert seqs(recent.after(4, 10)) == [5]
    assert recent.after(5, 10) == []  # 6 is not here: the log has it
    assert seqs(recent.after(7, 10)) == [8]
    assert recent.after(8, 10) == []  # the end
    assert recent.after(9, 10) == []
    four = recent.after(3, 1)[0]
    assert (four.seq, four.position, four.id, four.recorded_at) == (4, 4, second[0].id, "t2")
    assert (four.type, four.slug, four.payload) == ("scan.recorded", "menu", second[0].payload)


def test_memory_keeps_the_newest_commits_within_its_capacity() -> None:
    recent = RecentAppends(capacity=4)
    for last in range(2, 11, 2):  # five commits of two: seqs 1-10
        recent.add(last, [entry(), entry()], "t")
    assert recent.after(0, 10) == []  # the oldest commits are gone
    assert recent.after(5, 10) == []
    assert seqs(recent.after(6, 10)) == [7, 8, 9, 10]
    # One commit larger than the capacity is still kept whole (the newest is never dropped).
    recent.add(30, [entry() for _ in range(20)], "t")
    assert seqs(recent.after(10, 100)) == list(range(11, 31))


def test_memory_holds_what_the_followers_read_at_saturation_and_little_more() -> None:
    # Redirects at 40k a second, in group commits of 64 (a commit takes at most as many scans
    # as there are connections waiting, 64 under bench/redirect.py). Between two reads the
    # analytics follower lets 10 ms of them gather, the live tail (while a stream is open)
    # 20 ms: each finds all of them decoded in memory, none read back from the log.
    tail = inspect.signature(LogTail).parameters
    # Each follower's time between reads, and how many events it asks a read.
    reads = {
        "analytics": (CATCH_UP_DEBOUNCE, AnalyticsFollower.batch_size),
        "tail": (tail["debounce"].default, tail["batch"].default),
    }
    recent = RecentAppends()
    before = last = 1000
    for _ in range(0, 4096, 64):  # 100 ms of them
        last += 64
        recent.add(last, [entry() for _ in range(64)], "t")
    for follower, (seconds, limit) in reads.items():
        gathered = round(seconds * 40_000)
        read: list[StoredEvent] = []
        while len(read) < gathered:
            batch = recent.after(last - gathered + len(read), limit)
            assert batch, follower
            read += batch
        assert seqs(read) == list(range(last - gathered + 1, last + 1)), follower
        assert all(isinstance(event.event, ScanRecorded) for event in read), follower
    # And not much more (two of the analytics follower's batches and a commit): every object
    # kept is memory the next scans' objects wait for to come back into the cache.
    oldest_held = next(seq for seq in range(before + 1, last + 1) if recent.after(seq - 1, 1))
    assert last - oldest_held + 1 <= 2 * AnalyticsFollower.batch_size + 64


def _external_append(path: Path, new: NewEvent) -> None:
    """Another process's append (an import, say): straight into the file."""
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO events (id, type, slug, occurred_at, recorded_at, payload)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                new.id,
                new.type,
                new.slug,
                new.occurred_at,
                "2026-12-04T13:00:00.000000Z",
                new.payload,
            ),
        )


@pytest.mark.parametrize("synchronous", ["normal", "full"])
async def test_reads_from_memory_are_the_logs_own_events(tmp_path: Path, synchronous: str) -> None:
    path = tmp_path / "scanlet.db"
    settings = load_settings({"SCANLET_DB": str(path), "SCANLET_SYNCHRONOUS": synchronous})
    async with open_storage(settings) as storage:
        assert isinstance(storage, SqliteStorage)

        async def commit(size: int, *, device: bool = False) -> None:
            batch = ScanBatch()
            if device:
                batch.devices.append(
                    [DeviceEntry(e.id, "menu", e) for e in map(entry, ["menu"] * size)]
                )
            else:
                batch.entries.extend(entry() for _ in range(size))
            await storage.scans.record(batch, NOW)

        await commit(5)
        await storage.events.append([entry("code")], NOW)  # another store's append
        await commit(3)
        await commit(2, device=True)
        _external_append(path, entry("elsewhere"))
        await commit(4)
        await commit(1)

        # A commit that fails after its events were inserted: rolled back, and not in memory
        # either (the next commit's events take the same seqs).
        def fail(conn: sqlite3.Connection, increments: object) -> None:
            raise sqlite3.OperationalError("counters are broken")

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(ScanStore, "_add_to_counters", staticmethod(fail))
            with pytest.raises(StorageError):
                await commit(3)
        await commit(2)
        await commit(150)  # more rows than one INSERT takes (rows_insert.py)
        last = await storage.events.last_seq()
        assert last == 5 + 1 + 3 + 2 + 1 + 4 + 1 + 2 + 150
        served = 0
        for position in range(last + 2):
            remembered = storage.events._recent.after(position, 1)
            if remembered:
                served += 1
                # Handed over decoded: the followers of this process need not decode it.
                assert isinstance(remembered[0].event, ScanRecorded)
            for limit in (1, 2, 3, 7, 256):
                from_log = storage.events._read(position, limit, None)
                read = await storage.events.read_after(position, limit)
                assert [msgspec.structs.replace(e, event=None) for e in read] == from_log
                # What memory hands over decoded is what the log's payload decodes to.
                for event in read:
                    assert event.event is None or decode_event(event.payload) == event.event
        # Every seq the scans committed (1-5, 7-11, 13-169) came from memory; 6 (another
        # store's) and 12 (another process's) from the log.
        assert served == last - 2
