"""Migrations that reshape tables keep the rows already stored."""

import sqlite3

from scanlet.storage.sqlite.migrations import _statements, apply_migrations, available_migrations


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
