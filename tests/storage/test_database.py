"""The database opens in WAL mode, migrates once, and serialises write transactions."""

import itertools
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Literal

import anyio
import anyio.from_thread
import anyio.lowlevel
import pytest
from structlog.testing import capture_logs

from scanlet.storage.errors import StorageError
from scanlet.storage.private_files import database_files
from scanlet.storage.records import NewEvent
from scanlet.storage.sqlite.commit_placement import CommitPlacement
from scanlet.storage.sqlite.database import Database, open_database
from scanlet.storage.sqlite.eventlog import EventLog
from scanlet.storage.sqlite.migrations import available_migrations, current_version


async def test_opening_creates_the_file_in_wal_mode_and_migrates(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "scanlet.db"
    async with open_database(path) as db:
        assert path.exists()
        async with db.reader() as conn, conn.execute("PRAGMA journal_mode") as cur:
            row = await cur.fetchone()
        assert row is not None
        assert row[0] == "wal"
        with sqlite3.connect(path) as check:
            assert current_version(check) == available_migrations()[-1].version


@pytest.mark.usefixtures("loose_umask")
async def test_the_database_and_its_wal_and_shm_are_private_whatever_the_umask(
    tmp_path: Path,
) -> None:
    path = tmp_path / "scanlet.db"
    async with open_database(path) as db:
        await db.probe_write()
        files = database_files(path)
        assert all(file.exists() for file in files)
        assert {file.name: stat.S_IMODE(file.stat().st_mode) for file in files} == {
            file.name: 0o600 for file in files
        }


async def test_opening_waits_for_a_lock_another_process_holds_briefly(tmp_path: Path) -> None:
    # As when the last other process closing the database checkpoints it under an exclusive
    # lock: the writer that writes on the loop, whose busy timeout is none, failed to open.
    path = tmp_path / "scanlet.db"
    async with open_database(path):
        pass
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE held (x)")
    holder.execute("COMMIT")  # the exclusive lock stays until the connection closes
    releasing = threading.Timer(0.3, holder.close)
    releasing.start()
    try:
        async with open_database(path) as db:
            assert db.inline_writes
            await db.probe_write()
            # Its writes on the loop still never wait inside SQLite: the test below.
    finally:
        releasing.join()


async def test_migrations_apply_once(tmp_path: Path) -> None:
    path = tmp_path / "scanlet.db"
    async with open_database(path):
        pass
    async with open_database(path) as db:
        async with db.reader() as conn, conn.execute("SELECT COUNT(*) FROM schema_version") as cur:
            row = await cur.fetchone()
        assert row is not None
        assert row[0] == len(available_migrations())


async def test_a_failed_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    async with open_database(tmp_path / "scanlet.db") as db:
        insert = "INSERT INTO server_secrets (name, value, created_at) VALUES ('a', x'00', 't')"

        def insert_twice(conn: sqlite3.Connection) -> None:
            conn.execute(insert)
            conn.execute(insert)

        with pytest.raises(StorageError) as failed:
            await db.write(insert_twice)
        assert isinstance(failed.value.__cause__, sqlite3.IntegrityError)
        async with db.reader() as conn, conn.execute("SELECT COUNT(*) FROM server_secrets") as cur:
            row = await cur.fetchone()
        assert row is not None
        assert row[0] == 0


@pytest.mark.parametrize("synchronous", ["normal", "full"])
async def test_a_write_on_the_loop_nobody_else_waits_for_commits_before_other_tasks_run(
    tmp_path: Path, synchronous: Literal["normal", "full"]
) -> None:
    # The scans' group commits and the catch-ups take the write lock hundreds of times a
    # second: a turn of the loop for each uncontended one cost a served redirect about 2 %
    # of its instructions. Under ``full`` a projection's (derived) write runs on the loop.
    async with open_database(tmp_path / "scanlet.db", synchronous=synchronous) as db:
        order: list[str] = []

        async def other() -> None:
            order.append("other task")

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(other)
            await db.write(lambda conn: order.append("write"), derived=synchronous == "full")
        assert order == ["write", "other task"]


@pytest.mark.parametrize("synchronous", ["normal", "full"])
async def test_writes_waiting_for_the_lock_take_it_in_turn(
    tmp_path: Path, synchronous: Literal["normal", "full"]
) -> None:
    async with open_database(tmp_path / "scanlet.db", synchronous=synchronous) as db:
        order: list[str] = []

        async def writer(name: str) -> None:
            await db.write(lambda conn: order.append(name))

        async with anyio.create_task_group() as tasks, db._write_lock:
            for name in ("first", "second", "third"):
                tasks.start_soon(writer, name)
                await anyio.wait_all_tasks_blocked()
            order.append("released")
        assert order == ["released", "first", "second", "third"]


class _PinnedPlacement(CommitPlacement):
    """Durable commits always on the loop, or always in the thread, whatever this shared
    machine's fsyncs take meanwhile (``CommitPlacement`` itself: test_commit_placement.py)."""

    def __init__(self, on_loop: bool) -> None:
        super().__init__()
        self.on_loop = on_loop

    def inline(self) -> bool:
        return self.on_loop

    def timed(self, seconds: float) -> None:
        pass


def _disk(db: Database, disk: Literal["quick", "slow"]) -> None:
    """Have ``db`` place its durable commits as for a quick disk (on the loop) or a slow
    one (in a worker thread)."""
    db.placement = _PinnedPlacement(on_loop=disk == "quick")


@pytest.mark.parametrize(
    ("synchronous", "disk", "sqlite_wait_ms"),
    [("normal", "quick", 0), ("full", "quick", 5000), ("full", "slow", 5000)],
)
async def test_a_write_on_the_loop_never_sleeps_in_sqlite_for_a_lock_another_process_holds(
    tmp_path: Path,
    synchronous: Literal["normal", "full"],
    disk: Literal["quick", "slow"],
    sqlite_wait_ms: int,
) -> None:
    """SQLite's busy handler sleeps with its thread standing still: for the inline writer
    (``synchronous=normal``, or ``full`` while the disk syncs quickly) that thread is the
    event loop's, so its own wait is none and the write is begun again after pauses in which
    the loop serves; a writer in a thread (``full`` on a slow disk) waits inside SQLite.
    Either way the write is stored once the lock goes."""
    path = tmp_path / "scanlet.db"
    async with open_database(path, synchronous=synchronous) as db:
        _disk(db, disk)
        # White-box: the wait is a setting of the writer's own connection.
        writer = db._writer
        assert writer is not None
        assert writer.execute("PRAGMA busy_timeout").fetchone()[0] == sqlite_wait_ms
        begun: list[str] = []

        def note_begin(sql: str) -> None:
            if sql.startswith("BEGIN"):
                begun.append(sql)

        writer.set_trace_callback(note_begin)
        blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            blocker.execute("BEGIN IMMEDIATE")
            async with anyio.create_task_group() as tg:
                tg.start_soon(db.probe_write)
                await anyio.sleep(0.2)
                blocker.execute("ROLLBACK")
        finally:
            blocker.close()
        writer.set_trace_callback(None)
        assert db.write_error is None
        assert db.read_now(lambda conn: conn.execute("SELECT n FROM write_probe").fetchall()) == [
            (1,)
        ]
        # Begun again while the lock was held (on the loop), or once, waiting inside SQLite
        # (in a thread).
        assert (len(begun) > 1) == (disk == "quick"), begun


@pytest.mark.parametrize(
    ("synchronous", "disk"), [("normal", "quick"), ("full", "quick"), ("full", "slow")]
)
async def test_a_derived_write_commits_on_the_loop_without_an_fsync_of_its_own(
    tmp_path: Path, synchronous: Literal["normal", "full"], disk: Literal["quick", "slow"]
) -> None:
    """A projection's batch (``derived``) commits on the loop with ``synchronous=normal``
    in either mode: under ``full`` the next durable commit's fsync covers its WAL frames.
    A durable write under ``full`` is fsynced: on the loop while the disk syncs quickly;
    on a slow disk in a thread, waiting for another process's lock inside SQLite. The
    writer switches back and forth as the writes come."""
    loop_thread = threading.get_ident()

    def seen(conn: sqlite3.Connection) -> tuple[bool, int, int]:
        conn.execute(
            "INSERT INTO write_probe (id, n) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = n + 1"
        )
        return (
            threading.get_ident() == loop_thread,
            conn.execute("PRAGMA synchronous").fetchone()[0],
            conn.execute("PRAGMA busy_timeout").fetchone()[0],
        )

    async with open_database(tmp_path / "scanlet.db", synchronous=synchronous) as db:
        _disk(db, disk)
        got = [
            await db.write(seen, derived=True),
            await db.write(seen),
            await db.write(seen, derived=True),
            await db.write(seen),
        ]
        rows = db.read_now(lambda conn: conn.execute("SELECT n FROM write_probe").fetchone())
    on_loop = (True, 1, 0)
    durable = {
        ("normal", "quick"): on_loop,
        ("full", "quick"): (True, 2, 0),
        ("full", "slow"): (False, 2, 5000),
    }[(synchronous, disk)]
    assert got == [on_loop, durable, on_loop, durable]
    assert rows == (4,)


async def test_the_inline_writer_tries_again_at_every_turn_of_the_loop_at_first(
    tmp_path: Path,
) -> None:
    """An import holds the lock for about 2 ms: the inline writer begins again at each turn
    of the loop (other tasks running in between), not after a timer's pause, which would
    keep its scans waiting past the lock's release."""
    path = tmp_path / "scanlet.db"
    turns = 0
    turns_at_begin: list[int] = []
    async with open_database(path) as db:
        writer = db._writer  # white-box, as above
        assert writer is not None
        writer.set_trace_callback(
            lambda sql: turns_at_begin.append(turns) if sql.startswith("BEGIN") else None
        )
        blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            blocker.execute("BEGIN IMMEDIATE")
            async with anyio.create_task_group() as tg:
                tg.start_soon(db.probe_write)
                with anyio.fail_after(5):
                    while len(turns_at_begin) < 4:
                        turns += 1
                        await anyio.lowlevel.checkpoint()
                blocker.execute("ROLLBACK")
        finally:
            blocker.close()
        writer.set_trace_callback(None)
        assert db.read_now(lambda conn: conn.execute("SELECT n FROM write_probe").fetchall()) == [
            (1,)
        ]
    # The first tries came one turn of this task apart (a pause would let it turn for a
    # millisecond between them).
    first = turns_at_begin[:4]
    assert [b - a for a, b in itertools.pairwise(first)] == [1, 1, 1], turns_at_begin


def test_migration_files_are_numbered_uniquely_in_order() -> None:
    versions = [m.version for m in available_migrations()]
    assert versions == sorted(set(versions))
    assert versions[0] == 1


async def test_checkpoints_amid_constant_writes_let_the_wal_start_over(tmp_path: Path) -> None:
    async with open_database(tmp_path / "scanlet.db") as db:
        done = anyio.Event()

        async def keep_writing() -> None:
            while not done.is_set():
                await db.probe_write()
                await anyio.lowlevel.checkpoint()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(keep_writing)
            for _ in range(5):
                await anyio.sleep(0.02)
                await db.checkpoint(restart_at=1)  # a real server waits for 4096 frames
            done.set()
        await db.probe_write()
        # The WAL holds only what came after the last checkpoint, not every write so far.
        assert await db.checkpoint() <= 4


async def test_writes_held_back_for_the_wal_are_counted_with_their_time(tmp_path: Path) -> None:
    async with open_database(tmp_path / "scanlet.db") as db:
        await db.probe_write()
        # Under the threshold: the checkpoint runs beside the writes, holding nothing.
        await db.checkpoint()
        assert (db.write_holds, db.write_hold_seconds) == (0, 0.0)
        for held in (1, 2):
            await db.probe_write()
            await db.checkpoint(restart_at=1)
            assert db.write_holds == held
        assert db.write_hold_seconds > 0.0


def _probes_seen_by_another_process(path: Path) -> int:
    """``write_probe``'s count as a new process reads it, after opening and closing its own
    connection (as ``scanlet export`` or an import beside a server do)."""
    script = (
        "import sqlite3, sys\n"
        "conn = sqlite3.connect(sys.argv[1])\n"
        "print(conn.execute('SELECT n FROM write_probe').fetchone()[0])\n"
        "conn.close()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, check=True, timeout=60
    )
    return int(done.stdout)


@pytest.mark.parametrize("synchronous", ["normal", "full"])
async def test_another_process_closing_the_database_never_takes_the_wal_from_a_server(
    tmp_path: Path, synchronous: Literal["normal", "full"]
) -> None:
    """POSIX locks belong to a process, and closing any descriptor of a file drops every lock
    the process holds on it. A server that opened and closed the database file itself (a
    flush before its checkpoints did) lost the shared lock its SQLite connections hold: the
    next process to close its last connection found the file unlocked, took itself for the
    last user and deleted the WAL the server was still committing to (an export beside an
    import read a malformed database; the server's later commits were lost to others)."""
    path = tmp_path / "scanlet.db"
    async with open_database(path, synchronous=synchronous) as db:
        for probes in range(1, 4):
            await db.probe_write()
            await db.checkpoint()
            await db.probe_write()
            await db.checkpoint(restart_at=1)  # held back: the WAL starts over
            await db.probe_write()
            assert _probes_seen_by_another_process(path) == 3 * probes
            assert (tmp_path / "scanlet.db-wal").exists()


async def test_a_failing_checkpoint_is_logged_once_until_it_works_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_database(tmp_path / "scanlet.db") as db:
        calls = 0
        real = db._checkpoint_now
        enough = anyio.Event()

        def flaky() -> int:
            nonlocal calls
            calls += 1
            if calls == 16:  # this runs in a worker thread
                anyio.from_thread.run_sync(enough.set)
            if calls <= 12:
                raise sqlite3.OperationalError("disk I/O error")
            return real()

        monkeypatch.setattr(db, "_checkpoint_now", flaky)
        with capture_logs() as logs:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(db.run_checkpoints, 0.001)
                await enough.wait()
                tasks.cancel_scope.cancel()
        events = [entry["event"] for entry in logs]
        assert events == ["checkpoint failed", "checkpoints resumed"]


@pytest.mark.parametrize(
    ("synchronous", "disk"), [("normal", "quick"), ("full", "quick"), ("full", "slow")]
)
async def test_loop_reads_never_see_a_write_that_has_not_committed(
    tmp_path: Path, synchronous: Literal["normal", "full"], disk: Literal["quick", "slow"]
) -> None:
    """Under ``full`` on a slow disk the write runs in a worker thread while the loop goes
    on: a follower's ``read_now`` or an API's ``fetch_one`` in between (both on the loop's
    own reader) must not see its rows, which are then rolled back."""
    async with open_database(tmp_path / "s.db", synchronous=synchronous) as db:
        _disk(db, disk)
        in_thread = disk == "slow"
        inside = anyio.Event()
        release = threading.Event()
        seen: list[int] = []

        def doomed(conn: sqlite3.Connection) -> None:
            entry = NewEvent("x", "scan.recorded", "s", "2026-01-01T00:00:00.000000Z", b"{}")
            EventLog.add(conn, [entry], "2026-01-01T00:00:00.000000Z")
            if not in_thread:
                # Inline writes block the loop: nothing else can read in between. Record
                # what a second connection sees, as the loop's reader would.
                seen.append(db.read_now(EventLog.newest_seq))
            else:
                anyio.from_thread.run_sync(inside.set)
                release.wait(5)
            raise RuntimeError("rolled back")

        async def write() -> None:
            with pytest.raises(RuntimeError):
                await db.write(doomed)

        async with anyio.create_task_group() as tg:
            tg.start_soon(write)
            if in_thread:
                await inside.wait()
                seen.append(db.read_now(EventLog.newest_seq))
                row = await db.fetch_one("SELECT COUNT(*) FROM events")
                assert row is not None
                seen.append(row[0])
                release.set()
        assert seen == ([0, 0] if in_thread else [0])
        assert db.read_now(EventLog.newest_seq) == 0
