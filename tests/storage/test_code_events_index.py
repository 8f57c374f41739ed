"""The code events of the log are read through their own partial index, on either backend:
a server looks for codes changed by another process twice a second, and each look must be
an index probe however many scans lie between."""

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from scanlet.actors.events import CODE_EVENT_TYPES
from scanlet.storage.records import NewEvent
from scanlet.storage.sqlite.eventlog import EventLog
from scanlet.storage.sqlite.migrations import available_migrations
from tests.conftest import AnyStorage

STAMP = "2026-12-01T00:00:00.000000Z"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _event(n: int, kind: str, slug: str) -> NewEvent:
    return NewEvent(f"e{n}", kind, slug, STAMP, b"{}")


async def test_code_events_come_back_past_any_number_of_scans(storage: AnyStorage) -> None:
    start = await storage.events.last_position()
    batch = [_event(1, "code.created", "menu")]
    batch += [_event(n, "scan.recorded", "menu") for n in range(2, 2002)]
    batch += [_event(2002, "code.updated", "menu"), _event(2003, "scan.orphaned", "x")]
    batch += [_event(2004, "code.deleted", "menu")]
    await storage.events.append(batch, NOW)
    found = await storage.events.read_after(start, 10, types=CODE_EVENT_TYPES)
    assert [e.type for e in found] == ["code.created", "code.updated", "code.deleted"]
    rest = await storage.events.read_after(found[0].position, 10, types=CODE_EVENT_TYPES)
    assert [e.id for e in rest] == ["e2002", "e2004"]
    scans = await storage.events.read_after(start, 3000, types=["scan.recorded"])
    assert len(scans) == 2000


def test_sqlite_reads_code_events_by_the_partial_index(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "plan.db")
    for migration in available_migrations():
        conn.executescript(migration.sql)
    sql, params = EventLog._query(0, 1000, CODE_EVENT_TYPES)
    plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
    assert "USING INDEX events_code_changes" in plan
    # Other types keep the plain primary-key range (the index holds no scans).
    sql, params = EventLog._query(0, 1000, ["scan.recorded"])
    plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
    assert "events_code_changes" not in plan
