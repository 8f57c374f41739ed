"""Migrations: each applies once on either backend, however many instances start together;
on SQLite, those that reshape tables keep the rows already stored (PostgreSQL's schema has
not been reshaped since its first migration, so it has no such step to test)."""

import sqlite3
from pathlib import Path

import anyio
import pytest

from scanlet.config import load_settings
from scanlet.storage.migration_files import migrations_in
from scanlet.storage.opening import open_storage
from scanlet.storage.sqlite.eventlog import _HISTORY, _family
from scanlet.storage.sqlite.migrations import _statements, apply_migrations, available_migrations
from tests.dbquery import query
from tests.pg import PgDatabases

PACKAGES = {
    "sqlite": "scanlet.storage.sqlite.migrations",
    "postgresql": "scanlet.storage.postgres.migrations",
}


@pytest.fixture
def empty_db(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A database of the test's backend without Scanlet's tables."""
    if backend == "sqlite":
        return str(tmp_path / "new.db")
    databases: PgDatabases = request.getfixturevalue("pg_databases")
    return databases.create_empty()


async def test_each_migration_applies_once_across_restarts(backend: str, empty_db: str) -> None:
    settings = load_settings({"SCANLET_DB": empty_db}, isatty=False)
    async with open_storage(settings) as first:
        assert first.created
    async with open_storage(settings) as second:
        assert not second.created
        version = await second.schema_version()
    shipped = migrations_in(PACKAGES[backend])
    assert version == shipped[-1].version
    rows = query(settings, "SELECT version, name FROM schema_version ORDER BY version")
    assert rows == [(m.version, m.name) for m in shipped]


async def test_instances_starting_together_on_a_new_postgres_database_migrate_it_once(
    pg_databases: PgDatabases,
) -> None:
    # Several ``scanlet serve`` share one PostgreSQL database and may start at the same moment.
    settings = load_settings({"SCANLET_DB": pg_databases.create_empty()}, isatty=False)

    async def start() -> None:
        async with open_storage(settings) as opened:
            await opened.ping()

    async with anyio.create_task_group() as group:
        for _ in range(4):
            group.start_soon(start)
    shipped = migrations_in(PACKAGES["postgresql"])
    rows = query(settings, "SELECT version FROM schema_version ORDER BY version")
    assert rows == [(m.version,) for m in shipped]


def migrated_to(version: int) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL)"
    )
    for migration in available_migrations()[:version]:
        for statement in _statements(migration.sql):
            conn.execute(statement)
        conn.execute(
            "INSERT INTO schema_version VALUES (?, ?, 'then')", (migration.version, migration.name)
        )
    return conn


def test_narrowing_raw_scans_keeps_every_row_and_its_listing_keys() -> None:
    conn = migrated_to(6)
    conn.execute(
        "INSERT INTO raw_scans VALUES (7, 'e7', 'menu', 0, '2026-03-10T10:00:00.000000Z', 'qr',"
        " '1.2.3.0', 'v', 'agent', NULL, NULL, NULL, 'mobile', 'iOS', 'Safari', 0, NULL, NULL)"
    )
    conn.execute(
        "INSERT INTO raw_scans VALUES (9, 'e9', 'nope', 1, '2026-03-10T11:00:00.000000Z', 'link',"
        " NULL, NULL, NULL, NULL, NULL, NULL, 'bot', 'Other', 'Other', 1, NULL, NULL)"
    )
    applied = apply_migrations(conn)
    assert [m.name for m in applied][:1] == ["narrow_raw_scans"]
    rows = conn.execute("SELECT seq, slug, orphan, occurred_at FROM raw_scans ORDER BY seq")
    assert rows.fetchall() == [
        (7, "menu", 0, "2026-03-10T10:00:00.000000Z"),
        (9, "nope", 1, "2026-03-10T11:00:00.000000Z"),
    ]
    indexes = {row[1] for row in conn.execute("PRAGMA index_list(raw_scans)")}
    assert {"raw_scans_by_code", "raw_scans_orphans"} <= indexes


def test_the_history_index_rebuilt_by_0018_still_holds_every_code_event_and_no_scan() -> None:
    conn = migrated_to(17)
    rows = [
        (1, "code.created", "menu"),
        (2, "scan.recorded", "menu"),
        (3, "code.updated", "menu"),
        (4, "code.created", "other"),
        (5, "code.deleted", "menu"),
    ]
    conn.executemany(
        "INSERT INTO events (seq, id, type, slug, occurred_at, recorded_at, payload)"
        " VALUES (?, ?, ?, ?, 't', 't', x'7b7d')",
        [(seq, f"e{seq}", kind, slug) for seq, kind, slug in rows],
    )
    applied = apply_migrations(conn)
    assert [m.name for m in applied][:1] == ["code_history_predicate"]
    history = conn.execute(_HISTORY, ("menu", 2**63 - 1, 10)).fetchall()
    assert [(row[0], row[2]) for row in history] == [
        (5, "code.deleted"),
        (3, "code.updated"),
        (1, "code.created"),
    ]
    # Read through the rebuilt index itself, not the table (its predicate as 0020 wrote it).
    held = conn.execute(
        "SELECT slug, seq FROM events INDEXED BY events_code_history"
        f" WHERE {_family('code.')} ORDER BY slug, seq"
    ).fetchall()
    assert held == [("menu", 1), ("menu", 3), ("menu", 5), ("other", 4)]


def test_0020s_partial_indexes_hold_exactly_their_familys_events() -> None:
    conn = migrated_to(19)
    kinds = [
        "code.created",
        "scan.recorded",
        "domain.created",
        "scan.orphaned",
        "code.deleted",
        "domain.deleted",
        "webhook.disabled",
        "code.updated",
    ]
    conn.executemany(
        "INSERT INTO events (seq, id, type, slug, occurred_at, recorded_at, payload)"
        " VALUES (?, ?, ?, 'menu', 't', 't', x'7b7d')",
        [(seq, f"e{seq}", kind) for seq, kind in enumerate(kinds, start=1)],
    )
    applied = apply_migrations(conn)
    assert [m.name for m in applied][:1] == ["family_range_predicates"]
    held = {
        index: [
            row[0]
            for row in conn.execute(
                f"SELECT seq FROM events INDEXED BY {index} WHERE {_family(family)} ORDER BY seq"
            )
        ]
        for index, family in [
            ("events_code_history", "code."),
            ("events_code_changes", "code."),
            ("events_domain_changes", "domain."),
        ]
    }
    assert held == {
        "events_code_history": [1, 5, 8],
        "events_code_changes": [1, 5, 8],
        "events_domain_changes": [3, 6],
    }


def test_days_that_counted_unique_visitors_are_recorded_as_having_had_visitor_sets() -> None:
    conn = migrated_to(18)
    # Day 100 counted a person, day 101 an own scan, day 102 scans but no visitor (a device's
    # without an address), day 103 one code's person (the all-codes row is what is read).
    conn.executemany(
        "INSERT INTO analytics_days VALUES (?, ?, ?, 0, ?, 0, 1, ?)",
        [("*", 100, 1, 1, 0), ("*", 101, 0, 0, 1), ("*", 102, 2, 0, 0), ("menu", 103, 1, 1, 0)],
    )
    applied = apply_migrations(conn)
    assert [m.name for m in applied][:1] == ["visitor_days"]
    days = conn.execute("SELECT day, last, pruned FROM analytics_visitor_days ORDER BY day")
    assert days.fetchall() == [(100, None, 0), (101, None, 0)]


def test_the_dashboard_signing_key_is_deleted_and_the_salts_kept() -> None:
    conn = migrated_to(7)
    conn.executemany(
        "INSERT INTO server_secrets VALUES (?, ?, 't')",
        [("dashboard-session-key", b"k" * 32), ("visitor-salt:2026-03-10", b"s" * 32)],
    )
    applied = apply_migrations(conn)
    assert [m.name for m in applied][:1] == ["dashboard_sessions"]
    names = [row[0] for row in conn.execute("SELECT name FROM server_secrets")]
    assert names == ["visitor-salt:2026-03-10"]
    assert conn.execute("SELECT COUNT(*) FROM dashboard_sessions").fetchone() == (0,)
