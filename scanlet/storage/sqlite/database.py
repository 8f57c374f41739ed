"""The SQLite database: one writer connection, a small pool of aiosqlite readers, WAL mode.

SQLite allows one writer at a time, so every write goes through one connection, one
transaction at a time (``Database.write``). A transaction is a plain function of a
``sqlite3.Connection`` shipped whole to where it runs:

- with ``synchronous=normal`` it runs inline on the event loop. A WAL commit then costs no
  fsync (a group of 64 scans commits in well under a millisecond), while handing it to a
  thread costs a GIL hand-over: up to the interpreter's 5 ms switch interval per hop while
  the loop is busy, which measured as the redirect path's main bottleneck.
- with ``synchronous=full`` every commit waits for fsync. It runs inline too while the disk
  syncs quickly, and in a worker thread (the loop serving meanwhile) while it does not
  (``commit_placement.py``). A projection's batch (``write(..., derived=True)``), which
  the log can always give again, always commits inline with no fsync of its own, as under
  ``normal``: the next durable commit's fsync covers it.

Automatic checkpoints are off on the writer (they would fsync inside a commit); a background
task checkpoints from a connection of its own in a thread instead, four times a second, and
holds writes back to complete one whenever the WAL has grown past 16 MB, so that the WAL
starts over.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal, NamedTuple, TypeVar

import aiosqlite
import anyio
import anyio.lowlevel
import structlog

from scanlet.storage.errors import DatabaseMissing, StorageError, StorageUnavailable
from scanlet.storage.private_files import create_private_file, database_files
from scanlet.storage.sqlite.commit_placement import CommitPlacement
from scanlet.storage.sqlite.flush import flush_elsewhere
from scanlet.storage.sqlite.migrations import apply_migrations

__all__ = ("Database", "open_database", "require_database")

T = TypeVar("T")
#: A statement's parameters: by position, or by name.
Params = Sequence[object] | Mapping[str, object]
log = structlog.get_logger("scanlet.storage")

READ_BUSY_TIMEOUT_MS = 5000
# The inline writer runs on the event loop, so it never waits in SQLite's busy handler (which
# sleeps 1, 2, 5 ms ... with the loop standing still) for a lock another process holds (an
# import, a CLI command, a backup): BEGIN IMMEDIATE fails at once, and the write is tried
# again at each turn of the loop for SPIN_SECONDS, then after pauses, the loop serving on
# meanwhile, until WRITE_BUSY_SECONDS have passed.
# (Failing for good at the first 250 ms wait answered redirects 503 during an import here.
# With a 10 ms wait, py-spy put a tenth of the server's main thread in that sleep during
# bench/import.py's Shlink import, and its loop lag p99 was 4.0-4.5 ms in four alternating
# runs against 2.7-3.0 ms without the wait.)
INLINE_WRITE_BUSY_TIMEOUT_MS = 0
THREAD_WRITE_BUSY_TIMEOUT_MS = 5000
#: How long a write waits in all for a lock another process holds before it fails.
WRITE_BUSY_SECONDS = THREAD_WRITE_BUSY_TIMEOUT_MS / 1000
#: The first pause before a write is tried again, doubled up to the last: an import holds
#: the lock about 2 ms at a time, so the next try comes soon after it lets go (a failed
#: BEGIN costs microseconds).
_BUSY_PAUSES = (0.001, 0.002)
#: How long the inline writer first tries again at every turn of the loop (requests served
#: in between) before it pauses: an import holds the lock about 2 ms at a time, and a pause
#: (the loop's timer rounds it up to a whole millisecond) kept the scans waiting past its
#: release. bench/import.py's Shlink phase, four alternating runs each: the server's
#: redirect p99 ~3.22, 2.40, 2.16, 2.32 ms against ~4.29, 4.20, 3.33, 3.71 ms with pauses
#: alone, its scan commit p99 ~0.56-0.95 against ~0.75-1.57 ms.
SPIN_SECONDS = 0.005
#: Seconds between checkpoints (each copies what the interval committed).
CHECKPOINT_INTERVAL = 0.25
#: WAL frames (pages) past which a checkpoint holds writes back to let the WAL start over:
#: one segment of SQLite's WAL index, 16 MB of 4 KB pages.
WAL_RESTART_FRAMES = 4096
#: Bytes the WAL file is cut back to when it starts over (it keeps its largest size else).
WAL_SIZE_LIMIT = 64 * 1024 * 1024
# Primary SQLite result codes that mean "the database cannot be written right now" (busy or
# locked by another process, read-only, full, an I/O error), as opposed to a bug in a
# statement: these become StorageUnavailable (503 upstream) and mark writes unhealthy.
_UNAVAILABLE_CODES = frozenset({5, 6, 7, 8, 10, 13, 14, 15})


def _unavailable(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _UNAVAILABLE_CODES


#: How long a read may hold the event loop (``Database.fetch_all``) before it is
#: interrupted and handed to a reader's thread: well under a redirect's p99, and longer
#: than nearly every point lookup and short range the API asks for.
LOOP_READ_BUDGET = 0.001
#: SQLite VM steps between looks at the clock while a loop read runs (tens of microseconds).
_BUDGET_STEPS = 1000
#: Seconds a query text that ran past the budget goes straight to a thread, so that the
#: same long read asked over and over (a client polling a year of stats) costs the loop one
#: wasted budget a second, not one a request; and how many such texts are remembered.
OVERRAN_SECONDS = 1.0
_OVERRAN_LIMIT = 256
#: SQLITE_BUSY and SQLITE_LOCKED: another connection holds the lock.
_LOCK_HELD_CODES = frozenset({5, 6})
#: A loop read that ends with these goes to a thread: interrupted at the budget, or the lock
#: held (the loop reader's wait for a lock is short; a thread's may be long).
_MOVE_TO_THREAD_CODES = _LOCK_HELD_CODES | {sqlite3.SQLITE_INTERRUPT}


class _LockHeld(Exception):
    """``BEGIN IMMEDIATE`` found the write lock taken: nothing ran, so trying again is safe."""

    def __init__(self, error: sqlite3.Error) -> None:
        super().__init__(str(error))
        self.error = error


class _WriterMode(NamedTuple):
    """How the writer commits: its ``PRAGMA synchronous`` and busy timeout."""

    synchronous: str
    busy_ms: int


#: On the loop: no fsync, and never a wait for another process's lock inside SQLite (the
#: loop would wait with it; ``_run_when_unlocked`` tries again between its turns instead).
_INLINE = _WriterMode("NORMAL", INLINE_WRITE_BUSY_TIMEOUT_MS)
#: In a worker thread, each commit fsynced (``synchronous=full``).
_FSYNCED = _WriterMode("FULL", THREAD_WRITE_BUSY_TIMEOUT_MS)
#: On the loop, each commit fsynced (``synchronous=full`` while the disk syncs quickly).
_FSYNCED_INLINE = _WriterMode("FULL", INLINE_WRITE_BUSY_TIMEOUT_MS)


def _writer_connection(path: Path, mode: _WriterMode) -> sqlite3.Connection:
    # Room in the statement cache for the multi-row inserts (rows_insert.py: one statement
    # per number of rows, for the log, the raw scans, the visitors and the four rollup
    # tables' upserts) beside every other statement.
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, cached_statements=1024
    )
    # Opening may wait for another process: one closing the database last checkpoints it
    # under an exclusive lock, and the loop's writer (no busy timeout) failed to open then
    # ("database is locked", a CLI command started beside others). The mode's own timeout
    # is set once the schema is up to date (``Database._migrate``).
    conn.execute(f"PRAGMA busy_timeout = {THREAD_WRITE_BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {mode.synchronous}")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
    return conn


def _checkpoint_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {THREAD_WRITE_BUSY_TIMEOUT_MS}")
    return conn


def _loop_reader_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    # Short: it runs on the event loop (a writer holds no lock readers wait for in WAL mode).
    conn.execute("PRAGMA busy_timeout = 100")
    conn.execute("PRAGMA query_only = ON")
    return conn


async def _reader_connection(path: Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    conn.row_factory = sqlite3.Row
    await conn.execute(f"PRAGMA busy_timeout = {READ_BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA query_only = ON")
    return conn


class Database:
    """A writer connection and a pool of reader connections onto one SQLite file."""

    def __init__(
        self,
        path: Path,
        *,
        synchronous: Literal["normal", "full"] = "normal",
        readers: int = 2,
        busy_seconds: float | None = None,
    ) -> None:
        self.path = path
        self.busy_seconds = WRITE_BUSY_SECONDS if busy_seconds is None else busy_seconds
        self.synchronous = synchronous
        self.inline_writes = synchronous == "normal"
        #: What the writer connection is set to now.
        self._mode = _INLINE if self.inline_writes else _FSYNCED
        self._reader_count = readers
        self._writer: sqlite3.Connection | None = None
        self._loop_reader: sqlite3.Connection | None = None
        #: Query texts that ran past LOOP_READ_BUDGET, with when they may try the loop again.
        self._overran: dict[str, float] = {}
        #: Times checkpoints held writes back to let the WAL start over, and for how long in
        #: all: every scan commit waits meanwhile (``/metrics``).
        self.write_holds = 0
        self.write_hold_seconds = 0.0
        self._checkpointer: sqlite3.Connection | None = None
        self._readers: list[aiosqlite.Connection] = []
        self._free_readers: list[aiosqlite.Connection] = []
        self._reader_slots = anyio.Semaphore(readers)
        self._write_lock = anyio.Lock(fast_acquire=True)
        #: Where the durable commits of ``synchronous=full`` run, by how quickly they commit.
        self.placement = CommitPlacement()
        #: Why the last write failed (None after a successful one): readiness reports it.
        self.write_error: str | None = None
        #: Whether ``open`` made the file (a new database).
        self.created = False

    async def open(self) -> None:
        """Open the connections and bring the schema up to date."""
        # A new writer connection starts in the mode of the durable writes.
        self._mode = _INLINE if self.inline_writes else _FSYNCED
        try:
            self.created = not self.path.exists()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Before SQLite creates it with the umask's mode: its -wal and -shm copy this one.
            create_private_file(self.path)
            # Opening and migrating may wait for other processes: never on the loop.
            self._writer = await anyio.to_thread.run_sync(_writer_connection, self.path, self._mode)
            await anyio.to_thread.run_sync(self._migrate)
            self._checkpointer = _checkpoint_connection(self.path)
            self._loop_reader = _loop_reader_connection(self.path)
            for _ in range(self._reader_count):
                reader = await _reader_connection(self.path)
                self._readers.append(reader)
                self._free_readers.append(reader)
        except (sqlite3.Error, OSError) as exc:
            await self.close()
            raise StorageUnavailable(f"cannot open {self.path}: {exc}") from exc

    def _migrate(self) -> None:
        assert self._writer is not None
        apply_migrations(self._writer)
        self._writer.execute(f"PRAGMA busy_timeout = {self._mode.busy_ms}")

    async def close(self) -> None:
        """Checkpoint, then close every connection; safe to call twice."""
        with anyio.CancelScope(shield=True):
            for conn in self._readers:
                await conn.close()
            self._readers.clear()
            self._free_readers.clear()
            if self._checkpointer is not None:
                checkpointer, self._checkpointer = self._checkpointer, None
                checkpointer.close()
            if self._loop_reader is not None:
                loop_reader, self._loop_reader = self._loop_reader, None
                loop_reader.close()
            if self._writer is not None:
                writer, self._writer = self._writer, None
                try:
                    writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except sqlite3.Error as exc:
                    log.warning("final checkpoint failed", error=str(exc))
                writer.close()

    async def write(
        self, transaction: Callable[[sqlite3.Connection], T], *, derived: bool = False
    ) -> T:
        """Run ``transaction(conn)`` inside ``BEGIN IMMEDIATE`` ... ``COMMIT``, one at a time.

        ``derived``: the transaction writes only what the log determines (a projection and
        its position), so with ``synchronous=full`` its commit need not wait for an fsync
        of its own: it runs inline as under ``normal``, and the next durable commit's fsync
        covers its WAL frames too (the WAL is one file, written in order). A power cut
        before that loses the batch and its position together; the follower then applies it
        again from the log, exactly once.

        Raises whatever the function raises (after a rollback), but a ``sqlite3.Error``
        becomes ``StorageUnavailable`` when the database is closed or cannot be written
        (locked, read-only, full, I/O error), which also sets ``write_error`` until a later
        write succeeds, and ``StorageError`` otherwise.
        """
        async with self._write_lock:
            try:
                result = await self._run_when_unlocked(transaction, derived)
            except sqlite3.Error as exc:
                if not _unavailable(exc):
                    # No driver exception leaves the adapter: the contexts above know
                    # storage errors only (a missing table, a violated constraint).
                    raise StorageError(f"{self.path.name}: {exc}") from exc
                if self.write_error is None:
                    log.error("database write failed", db=str(self.path), error=str(exc))
                self.write_error = str(exc)
                raise StorageUnavailable(f"cannot write {self.path.name}: {exc}") from exc
            if self.write_error is not None:
                log.info("database writes resumed", db=str(self.path))
                self.write_error = None
            return result

    async def _run_when_unlocked(
        self, transaction: Callable[[sqlite3.Connection], T], derived: bool
    ) -> T:
        """``_run(transaction)`` inline or in a thread, tried again while another process
        holds the write lock (at each turn of the loop for ``SPIN_SECONDS``, then after
        growing pauses), for ``busy_seconds`` in all (then the lock error is raised)."""
        deadline: float | None = None
        spin_until = 0.0
        pause, longest = _BUSY_PAUSES
        inline = self.inline_writes or derived
        while True:
            try:
                if inline:
                    self._writer_mode(_INLINE)
                    return self._run(transaction)
                if self.placement.inline():
                    self._writer_mode(_FSYNCED_INLINE)
                    return self._run(transaction, self.placement.timed)
                self._writer_mode(_FSYNCED)
                return await anyio.to_thread.run_sync(self._run, transaction)
            except _LockHeld as held:
                now = anyio.current_time()
                if deadline is None:
                    deadline = now + self.busy_seconds
                    spin_until = now + SPIN_SECONDS
                if now >= deadline:
                    raise held.error from None
                if now < spin_until:
                    await anyio.lowlevel.checkpoint()
                    continue
                await anyio.sleep(min(pause, deadline - now))
                pause = min(2 * pause, longest)

    async def probe_write(self) -> None:
        """Commit one tiny row (readiness, while writes fail): StorageUnavailable if it fails."""

        def touch(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO write_probe (id, n) VALUES (1, 1)"
                " ON CONFLICT (id) DO UPDATE SET n = n + 1"
            )

        await self.write(touch)

    def _writer_mode(self, mode: _WriterMode) -> None:
        """Set the writer's sync and busy timeout for its next transaction (a statement
        each, only when it changes: with ``synchronous=normal`` neither ever does; under
        ``full`` on a quick disk only the sync, between a projection's batch and a scan
        commit, both on the loop)."""
        conn = self._writer
        if conn is None or mode is self._mode:
            return
        if mode.synchronous != self._mode.synchronous:
            conn.execute(f"PRAGMA synchronous = {mode.synchronous}")
        if mode.busy_ms != self._mode.busy_ms:
            conn.execute(f"PRAGMA busy_timeout = {mode.busy_ms}")
        self._mode = mode

    def _run(
        self,
        transaction: Callable[[sqlite3.Connection], T],
        timed: Callable[[float], None] | None = None,
    ) -> T:
        """The transaction between ``BEGIN IMMEDIATE`` and ``COMMIT``; ``timed`` is told how
        long the ``COMMIT`` took."""
        conn = self._writer
        if conn is None:
            raise StorageUnavailable("the database is not open")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            code = getattr(exc, "sqlite_errorcode", None)
            if code is not None and code & 0xFF in _LOCK_HELD_CODES:
                raise _LockHeld(exc) from exc
            raise
        try:
            result = transaction(conn)
        except BaseException:
            # SQLite rolls back by itself after some errors (a full disk, an I/O error).
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        started = time.perf_counter() if timed is not None else 0.0
        try:
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if timed is not None:
            timed(time.perf_counter() - started)
        return result

    def read_now(self, query: Callable[[sqlite3.Connection], T]) -> T:
        """Run a short synchronous read on the loop, on a read-only connection of its own.

        For followers reading the log's newest rows (in SQLite's cache, microseconds): an
        aiosqlite reader would cost a thread hop that waits for the GIL while the loop is
        busy, which profiled as a fifth of the server's time under redirect load. It used to
        run on the writer connection; with ``synchronous=full`` a write may run on that
        connection in a worker thread meanwhile (while the disk syncs slowly), so a
        follower could see rows of a transaction that then rolled back. A connection of
        its own reads committed rows only (each statement outside a transaction sees the
        latest commit). Keep it short: the loop waits for it.
        """
        conn = self._loop_reader
        if conn is None:
            raise StorageUnavailable("the database is not open")
        return query(conn)

    async def checkpoint(self, restart_at: int = WAL_RESTART_FRAMES) -> int:
        """Copy committed WAL pages into the database file, from a thread; returns how many
        frames the WAL held.

        Run beside a stream of commits, a checkpoint never caught up with the end of the
        WAL, so the WAL never started over: it grew by every commit for as long as the load
        lasted (300 MB after 15 s of redirects, and each page lookup slowed as the WAL
        index grew). So once the WAL holds ``restart_at`` frames, the checkpoint finishes
        with writes held back (asynchronously: the loop goes on serving), and the next
        write starts the WAL again from its beginning.
        """
        # The bulk while writes go on; then, past the threshold, what they appended meanwhile
        # with writes held. The held part is short in frames but waits for the fsyncs (the
        # WAL before copying, the database after). Measured at full redirect load here:
        # held every checkpoint, 5 ms median four times a second; held past 4096 frames,
        # 9 ms median in 35 of 121 checkpoints, so writes wait half as long in all.
        frames = await anyio.to_thread.run_sync(self._checkpoint_now)
        if frames < restart_at:
            return frames
        # The held part waits for SQLite's sync of the database file, which it makes only in
        # a checkpoint reaching the WAL's end, so the files are flushed first, while writes
        # go on. From a child process: flushing from a descriptor of our own cut the wait
        # to about a third, and was a bug: POSIX locks belong to the process, and closing
        # any descriptor of the file dropped the shared lock SQLite holds on it, so the next
        # process to close its connection (an export, an import) took itself for the last
        # user and deleted the WAL this server was still committing to. Never open the
        # database file outside SQLite in a process that has it open.
        database, wal, _shm = database_files(self.path)
        await anyio.to_thread.run_sync(flush_elsewhere, [database, wal])
        async with self._write_lock:
            started = time.perf_counter()
            try:
                return await anyio.to_thread.run_sync(self._checkpoint_now)
            finally:
                self.write_holds += 1
                self.write_hold_seconds += time.perf_counter() - started

    def _checkpoint_now(self) -> int:
        conn = self._checkpointer
        if conn is None:
            raise StorageUnavailable("the database is not open")
        row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(row[1]) if row else 0

    async def run_checkpoints(self, interval: float = CHECKPOINT_INTERVAL) -> None:
        """Checkpoint every ``interval`` seconds until cancelled (a background task)."""
        failing: str | None = None
        while True:
            await anyio.sleep(interval)
            try:
                await self.checkpoint()
            except (sqlite3.Error, StorageUnavailable) as exc:
                # Once per kind of failure, not four times a second while a disk is full.
                if str(exc) != failing:
                    log.warning("checkpoint failed", error=str(exc))
                failing = str(exc)
            else:
                if failing is not None:
                    log.info("checkpoints resumed")
                failing = None

    def pool_state(self) -> dict[str, int]:
        """Reader connections open, idle and allowed (for ``/metrics``)."""
        return {
            "open": len(self._readers),
            "idle": len(self._free_readers),
            "max": self._reader_count,
        }

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[aiosqlite.Connection]:
        """Borrow a reader connection for the duration of a query."""
        if not self._readers:
            raise StorageUnavailable("the database is not open")
        async with self._reader_slots:
            conn = self._free_readers.pop()
            try:
                yield conn
            finally:
                self._free_readers.append(conn)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Every row of one query: on the loop when it is done within ``LOOP_READ_BUDGET``,
        else on a reader, in one trip to its thread.

        Every trip to a reader's thread and back waits for the loop: behind a saturating
        stream of redirects that is a few milliseconds a trip (``execute``, ``fetchall`` and
        closing the cursor were a trip each, so a stats answer of three queries took nine).
        Most reads (a key, a user, a day of stats) take tens of microseconds, less than one
        trip costs the loop; the few that run longer are interrupted at the budget and
        asked again on a thread, so no read holds the loop for more than about that long.
        """
        if self._overran.get(sql, 0.0) <= time.monotonic():
            rows = self._fetch_on_loop(sql, params)
            if rows is not None:
                return rows
        async with self.reader() as conn:
            return list(await conn.execute_fetchall(sql, params))

    def _fetch_on_loop(self, sql: str, params: Params) -> list[sqlite3.Row] | None:
        """The rows, read on the loop's own reader; None when the budget ran out (or the
        file was busy) first, and the query should go to a thread instead."""
        conn = self._loop_reader
        if conn is None:
            return None
        deadline = time.perf_counter() + LOOP_READ_BUDGET
        conn.set_progress_handler(lambda: time.perf_counter() > deadline, _BUDGET_STEPS)
        cursor = conn.cursor()
        cursor.row_factory = sqlite3.Row
        try:
            return cursor.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            code = getattr(exc, "sqlite_errorcode", None)
            if code is None or code & 0xFF not in _MOVE_TO_THREAD_CODES:
                raise
            if code == sqlite3.SQLITE_INTERRUPT:
                if len(self._overran) >= _OVERRAN_LIMIT:
                    self._overran.clear()
                self._overran[sql] = time.monotonic() + OVERRAN_SECONDS
            return None
        finally:
            cursor.close()
            conn.set_progress_handler(None, 0)

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """The first row of one query (None: no row), in one trip as ``fetch_all``."""
        found = await self.fetch_all(sql, params)
        return found[0] if found else None

    async def ping(self) -> None:
        """Check that the database answers a trivial query (for readiness)."""
        try:
            await self.fetch_one("SELECT 1")
        except sqlite3.Error as exc:
            raise StorageUnavailable(str(exc)) from exc


def require_database(path: Path) -> None:
    """Raise DatabaseMissing unless ``path`` exists.

    SQLite creates any file it is asked to open (and ``Database.open`` its directories), so
    a mistyped path would silently become a new, empty database; whatever only reads or
    changes existing data checks first. A directory or an unreadable file passes here and
    fails to open with its own error.
    """
    if not path.exists():
        raise DatabaseMissing(path)


@asynccontextmanager
async def open_database(
    path: Path,
    *,
    synchronous: Literal["normal", "full"] = "normal",
    readers: int = 2,
    create: bool = True,
) -> AsyncIterator[Database]:
    """Open (migrating if needed) and finally close a database; with ``create=False`` a
    missing one raises DatabaseMissing instead of being created."""
    if not create:
        require_database(path)
    db = Database(path, synchronous=synchronous, readers=readers)
    await db.open()
    try:
        yield db
    finally:
        await db.close()
