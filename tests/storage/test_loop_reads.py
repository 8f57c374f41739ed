"""``Database.fetch_all`` answers short reads on the loop and moves long or blocked ones to a
reader's thread, with the same rows either way."""

import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace

import aiosqlite
import pytest

from scanlet.storage.sqlite import database
from scanlet.storage.sqlite.database import Database, Params, open_database

#: A query whose answer takes far longer than the loop's budget (a million-row join).
_LONG = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)"
    " SELECT COUNT(*) AS rows, SUM(i) AS total FROM n"
)


def _count_thread_reads(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every borrowing of a reader's thread connection."""
    borrowed: list[str] = []
    original = db.reader

    @asynccontextmanager
    async def counting() -> AsyncIterator[aiosqlite.Connection]:
        borrowed.append("reader")
        async with original() as conn:
            yield conn

    monkeypatch.setattr(db, "reader", counting)
    return borrowed


@pytest.fixture
async def opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Database, list[str]]]:
    """An open database, and the list of its readers' threads borrowed so far."""
    async with open_database(tmp_path / "scanlet.db") as db:
        yield db, _count_thread_reads(db, monkeypatch)


def _squares(below: int) -> str:
    return (
        f"WITH RECURSIVE n(id) AS (SELECT 0 UNION ALL SELECT id + 1 FROM n WHERE id < {below - 1})"
        " SELECT id, id * id AS n FROM n"
    )


async def test_a_short_read_is_answered_on_the_loop(opened: tuple[Database, list[str]]) -> None:
    db, borrowed = opened
    rows = await db.fetch_all(f"SELECT * FROM ({_squares(50)}) WHERE id < ?", (3,))
    one = await db.fetch_one(f"SELECT n FROM ({_squares(50)}) WHERE id = ?", (7,))
    assert [tuple(row) for row in rows] == [(0, 0), (1, 1), (2, 4)]
    assert rows[2]["n"] == 4, "rows are addressable by name, as a reader's are"
    assert one is not None
    assert one["n"] == 49
    assert borrowed == []


async def test_a_read_past_the_budget_is_asked_again_on_a_thread(
    opened: tuple[Database, list[str]],
) -> None:
    db, borrowed = opened
    rows = await db.fetch_all(_LONG)
    assert [tuple(row) for row in rows] == [(1000000, 500000500000)]
    assert borrowed == ["reader"]


async def test_a_busy_file_moves_the_read_to_a_thread(
    opened: tuple[Database, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, borrowed = opened
    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorcode = sqlite3.SQLITE_BUSY
    _fail_loop_reads(db, monkeypatch, busy)
    row = await db.fetch_one("SELECT 41 + 1 AS answer")
    assert row is not None
    assert row["answer"] == 42
    assert borrowed == ["reader"]


async def test_a_broken_query_fails_on_the_loop_as_it_would_on_a_thread(
    opened: tuple[Database, list[str]],
) -> None:
    db, borrowed = opened
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        await db.fetch_all("SELECT * FROM no_such_table")
    # The connection is left without a handler: the next read (and read_now) is whole.
    assert db.read_now(lambda conn: conn.execute(_LONG).fetchone()) == (
        1000000,
        500000500000,
    )
    assert borrowed == []


def _fail_loop_reads(db: Database, monkeypatch: pytest.MonkeyPatch, error: sqlite3.Error) -> None:
    """Make the loop reader's next query raise ``error`` (as SQLite would)."""
    found = db._loop_reader
    assert found is not None
    real: sqlite3.Connection = found

    class Failing:
        row_factory: Callable[..., object] | None = None

        def execute(self, *_: object) -> "Failing":
            raise error

        def close(self) -> None:
            pass

    class Wrapper:
        def set_progress_handler(self, *args: object) -> None:
            pass

        def cursor(self) -> Failing:
            return Failing()

        def close(self) -> None:
            real.close()

    monkeypatch.setattr(db, "_loop_reader", Wrapper())


async def test_a_query_that_ran_past_the_budget_skips_the_loop_for_a_while(
    opened: tuple[Database, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, borrowed = opened
    tried: list[str] = []
    on_loop = db._fetch_on_loop

    def counting(sql: str, params: Params) -> list[sqlite3.Row] | None:
        tried.append(sql)
        return on_loop(sql, params)

    monkeypatch.setattr(db, "_fetch_on_loop", counting)
    now = [1000.0]
    # The module's clock only: the event loop keeps the real one.
    clock = SimpleNamespace(perf_counter=time.perf_counter, monotonic=lambda: now[0])
    monkeypatch.setattr("scanlet.storage.sqlite.database.time", clock)
    for _ in range(3):  # asked over and over: the loop pays for the first one only
        await db.fetch_all(_LONG)
    assert tried == [_LONG]
    assert borrowed == ["reader"] * 3
    # Other queries still run on the loop meanwhile; and once the while has passed, the
    # long one is tried there again.
    await db.fetch_one("SELECT 1")
    now[0] += database.OVERRAN_SECONDS
    await db.fetch_all(_LONG)
    assert tried == [_LONG, "SELECT 1", _LONG]
    assert borrowed == ["reader"] * 4
