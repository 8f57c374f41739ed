"""Numbered SQL migrations, applied in order, each in its own transaction.

Files are named ``NNNN_description.sql``; ``schema_version`` records what has been applied,
so ``scanlet migrate`` and ``scanlet serve`` can both run them safely on any database. Each
migration not recorded there is applied (see ``migration_files`` for why not "newer only").
"""

from __future__ import annotations

import re
import sqlite3

from scanlet.storage.migration_files import Migration, migrations_in

__all__ = ("Migration", "apply_migrations", "available_migrations")


def available_migrations() -> list[Migration]:
    """Every SQLite migration shipped with the package, in version order."""
    return migrations_in(__name__)


def current_version(conn: sqlite3.Connection) -> int:
    """The highest applied migration version (0 for an empty database)."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def _applied(conn: sqlite3.Connection, version: int) -> bool:
    row = conn.execute("SELECT 1 FROM schema_version WHERE version = ?", (version,)).fetchone()
    return row is not None


def apply_migrations(conn: sqlite3.Connection) -> list[Migration]:
    """Apply every migration the database has not recorded; return those applied."""
    applied: list[Migration] = []
    current_version(conn)
    for migration in available_migrations():
        # executescript would COMMIT on its own; run statements one by one inside our
        # transaction so a failing migration leaves nothing half-applied. The version is read
        # again under the write lock, so two processes migrating at once apply each step once.
        conn.execute("BEGIN IMMEDIATE")
        if _applied(conn, migration.version):
            conn.execute("COMMIT")
            continue
        try:
            for statement in _statements(migration.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (version, name, applied_at)"
                " VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                (migration.version, migration.name),
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        applied.append(migration)
    return applied


def _statements(sql: str) -> list[str]:
    """Split a migration on ``;`` at line ends (our migrations keep triggers out of it)."""
    parts = re.split(r";\s*(?:\n|$)", sql)
    return [part.strip() for part in parts if part.strip() and not _only_comments(part)]


def _only_comments(part: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in part.splitlines())
