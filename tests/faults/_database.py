"""What the database file holds after a fault, read with plain sqlite3; and a big log."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from scanlet.actors.events import ScanRecorded, encode_event
from scanlet.ids import new_event_id
from scanlet.storage.timefmt import format_time
from tests.faults._clients import SLUG

__all__ = ("Stored", "fill_log", "follower_lag", "stored")


@dataclass(frozen=True)
class Stored:
    """User agents of stored redirect scans, stored device event ids, integrity_check."""

    agents: frozenset[str]
    ids: frozenset[str]
    integrity: str


def stored(db: Path) -> Stored:
    """What ``db`` holds (read after the server stopped, or between kills)."""
    with sqlite3.connect(db) as conn:
        agents = frozenset(
            row[0]
            for row in conn.execute(
                "SELECT json_extract(CAST(payload AS TEXT), '$.user_agent') FROM events"
                " WHERE type = 'scan.recorded'"
            )
            if row[0]
        )
        ids = frozenset(row[0] for row in conn.execute("SELECT id FROM device_event_ids"))
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    conn.close()
    return Stored(agents, ids, integrity)


def follower_lag(db: Path) -> dict[str, int]:
    """Each log follower not at the log's end, with how many events it is behind."""
    with sqlite3.connect(db) as conn:
        last = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
        positions = dict(conn.execute("SELECT name, seq FROM follower_positions").fetchall())
    conn.close()
    return {name: last - seq for name, seq in positions.items() if seq != last}


def fill_log(db: Path, count: int) -> float:
    """Append ``count`` scan events straight into the log (the followers have not seen them);
    returns the seconds that took."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    at = format_time(now)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = NORMAL")
        for start in range(0, count, 50_000):
            rows = []
            for i in range(start, min(count, start + 50_000)):
                event = ScanRecorded(
                    id=new_event_id(),
                    occurred_at=now,
                    slug=SLUG,
                    source="qr",
                    ip="203.0.113.0",
                    visitor=f"v{i % 5000}",
                    user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)",
                )
                rows.append((event.id, "scan.recorded", SLUG, at, at, encode_event(event)))
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO events (id, type, slug, occurred_at, recorded_at, payload)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return time.perf_counter() - started
