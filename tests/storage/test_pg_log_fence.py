"""The PostgreSQL event log's fence, step by step: a reader waits for a transaction still
open below it instead of passing an event that will commit behind it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from scanlet.storage.postgres.eventlog import EventLog, join_position, split_position
from scanlet.storage.postgres.storage import PostgresStorage, open_postgres
from scanlet.storage.records import NewEvent
from tests.pg import PgDatabases

STAMP = "2026-12-01T00:00:00.000000Z"


def event(event_id: str) -> NewEvent:
    return NewEvent(event_id, "test.event", None, STAMP, b"{}")


@pytest.fixture
async def pg(pg_databases: PgDatabases) -> AsyncIterator[PostgresStorage]:
    async with open_postgres(pg_databases.create()) as storage:
        yield storage


async def test_a_reader_waits_for_an_older_transaction_then_reads_both_in_commit_order(
    pg: PostgresStorage,
) -> None:
    pool = pg.db.pool
    async with pool.acquire() as first, pool.acquire() as second:
        slow = first.transaction()
        await slow.start()
        first_seq = await EventLog.add(first, [event("slow")], STAMP)
        async with second.transaction():
            second_seq = await EventLog.add(second, [event("fast")], STAMP)
        assert first_seq < second_seq
        # "fast" is committed, but "slow" (a lower seq, an older transaction) may still
        # commit: the reader sees neither yet, where reading by seq would pass "slow".
        assert await pg.events.read_after(0, 10) == []
        assert await pg.events.last_seq() == second_seq
        await slow.commit()
    events = await pg.events.read_after(0, 10)
    assert [e.id for e in events] == ["slow", "fast"]
    assert events[0].position < events[1].position
    assert await pg.events.position_of(second_seq) == events[1].position
    assert await pg.events.read_after(events[0].position, 10) == events[1:]
    assert await pg.events.lag(events[0].position) == 1
    assert await pg.events.lag(events[1].position) == 0
    # A reader placed at the log's end has read everything before it.
    end = await pg.events.last_position()
    assert end > events[1].position
    assert await pg.events.read_after(end, 10) == []


async def test_a_rolled_back_transaction_leaves_no_event_and_does_not_hold_readers(
    pg: PostgresStorage,
) -> None:
    async with pg.db.pool.acquire() as conn:
        doomed = conn.transaction()
        await doomed.start()
        await EventLog.add(conn, [event("doomed")], STAMP)
        await pg.events.append([event("kept")], datetime.now(UTC))
        assert await pg.events.read_after(0, 10) == []
        await doomed.rollback()
    assert [e.id for e in await pg.events.read_after(0, 10)] == ["kept"]


def test_a_position_is_its_xid_and_seq() -> None:
    position = join_position(2**40 + 3, 2**50 + 7)
    assert split_position(position) == (2**40 + 3, 2**50 + 7)
    assert join_position(5, 1) > join_position(4, 10**15)


async def test_an_unknown_seq_has_no_position(pg: PostgresStorage) -> None:
    assert await pg.events.position_of(12345) is None


async def test_a_transaction_in_another_database_does_not_hold_the_reader(
    pg: PostgresStorage, pg_databases: PgDatabases
) -> None:
    # Another application's long transaction on the same PostgreSQL server: it has an xid
    # below this log's next events, but it cannot write here.
    elsewhere = await asyncpg.connect(pg_databases.create())
    try:
        await elsewhere.execute("CREATE TABLE t (n int)")
        stalled = elsewhere.transaction()
        await stalled.start()
        await elsewhere.execute("INSERT INTO t VALUES (1)")
        await pg.events.append([event("here")], datetime.now(UTC))
        assert [e.id for e in await pg.events.read_after(0, 10)] == ["here"]
        assert await pg.events.last_position() > (await pg.events.read_after(0, 1))[0].position
        await stalled.rollback()
    finally:
        await elsewhere.close()
