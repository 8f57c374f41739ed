"""The code events of the log are read through their own partial index, on either backend:
a server looks for codes changed by another process twice a second, and each look must be
an index probe however many scans lie between."""

import sqlite3
import typing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scanlet.actors.events import CODE_EVENT_TYPES, AnyEvent
from scanlet.storage.records import NewEvent
from scanlet.storage.sqlite.eventlog import _HISTORY, EventLog, _family
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


def _migrated(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    for migration in available_migrations():
        conn.executescript(migration.sql)
    return conn


def test_sqlite_reads_code_events_by_the_partial_index(tmp_path: Path) -> None:
    conn = _migrated(tmp_path / "plan.db")
    sql, params = EventLog._query(0, 1000, CODE_EVENT_TYPES)
    plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
    assert "USING INDEX events_code_changes" in plan
    # Other types keep the plain primary-key range (the index holds no scans).
    sql, params = EventLog._query(0, 1000, ["scan.recorded"])
    plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
    assert "events_code_changes" not in plan


def test_sqlite_reads_a_code_history_by_its_partial_index(tmp_path: Path) -> None:
    conn = _migrated(tmp_path / "plan.db")
    plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + _HISTORY, ("m", 9, 5)))
    assert "USING INDEX events_code_history" in plan


#: The tables written for every scan or device event: the scan path's group commit, the
#: analytics projection, the webhook outbox.
PER_SCAN_TABLES = (
    "events",
    "device_event_ids",
    "scan_counters",
    "raw_scans",
    "analytics_hours",
    "analytics_days",
    "analytics_breakdown_hours",
    "analytics_breakdown_days",
    "analytics_visitors",
    "follower_positions",
    "webhook_outbox",
)


def test_no_insert_made_for_every_scan_builds_a_temporary_table(tmp_path: Path) -> None:
    # A predicate or a check such as "type IN ('a', 'b', 'c')" compiles to a temporary
    # table that SQLite fills again for every row inserted (about 30k instructions a scan
    # for the history index before 0018).
    conn = _migrated(tmp_path / "schema.db")
    built = {}
    for table in PER_SCAN_TABLES:
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
        assert columns, table
        sql = f"INSERT INTO {table} ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})"
        ops = [row[1] for row in conn.execute("EXPLAIN " + sql, [None] * len(columns))]
        built[table] = ops.count("OpenEphemeral")
    assert built == dict.fromkeys(PER_SCAN_TABLES, 0)


def test_the_code_family_is_exactly_the_code_event_types() -> None:
    # events_code_history and events_code_changes hold the types from "code." up to "code/"
    # (those beginning with "code."): the history
    # must find only code events, and every one of them.
    tags = {str(cls.__struct_config__.tag) for cls in typing.get_args(AnyEvent)}
    assert {tag for tag in tags if tag.startswith("code.")} == set(CODE_EVENT_TYPES)


@pytest.mark.parametrize("prefix", ["code.", "domain."])
def test_a_family_predicate_holds_exactly_the_types_that_begin_with_its_prefix(
    prefix: str,
) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (type TEXT NOT NULL)")
    stem = prefix[:-1]
    types = [
        stem,
        prefix,
        f"{prefix}created",
        f"{prefix}\U0001f600",
        f"{stem}/",
        f"{stem}x",
        f"{stem}-",
        stem.upper() + ".created",
        "scan.recorded",
        f"a{prefix}b",
        "",
    ]
    conn.executemany("INSERT INTO t (type) VALUES (?)", [(t,) for t in types])
    held = {row[0] for row in conn.execute(f"SELECT type FROM t WHERE {_family(prefix)}")}
    assert held == {t for t in types if t.startswith(prefix)}
