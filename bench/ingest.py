"""Device ingest throughput: events per second through POST /api/v1/events.

The baseline is raw sqlite3 ``executemany`` of the same rows into the same two tables (the
event log and the device id table, made by Scanlet's own migrations, so with the same
indexes), measured in the same run on the same disk, so the ratio shows what HTTP,
validation, dedupe, the actor hop and the counters cost on top of SQLite.

The baseline's tables also hold what the server's hold when it is measured: batches of 100
go first, then batches of 1000 go into the same tables, on both sides. Random ids make every
insert land somewhere in the id table's B-tree, so its size sets the cost: raw inserts into
tables of 100k rows took 28-30 us an event against 16-17 us into empty ones (a micro-benchmark,
three runs). Until 2026-12-03 the baseline began from empty tables for each batch size while
the server's already held the first pass; ``--empty-baseline`` still measures that way, for
comparison with the figures of before.
The server is pinned to one core and the client to the other. Two servers are measured:
"core" (SCANLET_FEATURES=none, the ingest path alone) and "full" (the default, with the
analytics projection and webhook outbox following the log in the same process).
Run: python bench/ingest.py [--events 100000]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanlet.storage.sqlite.migrations import apply_migrations
from tests.processes import served
from tests.wrk import LOAD_CORE, SERVER_CORE

SLUG = "gate"
CLIENTS = 4


def make_events(count: int) -> list[dict[str, object]]:
    """Distinct device scans of one code, a second apart."""
    return [
        {
            "type": "scan",
            "id": str(uuid.uuid4()),
            "slug": SLUG,
            "occurred_at": f"2026-11-01T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z",
            "device_id": f"door-{i % 7}",
        }
        for i in range(count)
    ]


def raw_database(path: Path) -> sqlite3.Connection:
    """A new database with Scanlet's schema, written as plain sqlite3 would (WAL, synchronous
    NORMAL, SQLite's own automatic checkpoints)."""
    for leftover in path.parent.glob(f"{path.name}*"):
        leftover.unlink()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    apply_migrations(conn)
    return conn


def raw_sqlite(conn: sqlite3.Connection, events: list[dict[str, object]], batch: int) -> float:
    """Events per second for executemany of the same rows, one transaction per batch."""
    encode = msgspec.json.encode
    started = time.perf_counter()
    for start in range(0, len(events), batch):
        chunk = events[start : start + batch]
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO device_event_ids (id) VALUES (?)", [(e["id"],) for e in chunk]
        )
        conn.executemany(
            "INSERT INTO events (id, type, slug, occurred_at, recorded_at, payload)"
            " VALUES (?, 'scan.recorded', ?, ?, ?, ?)",
            [(e["id"], SLUG, e["occurred_at"], e["occurred_at"], encode(e)) for e in chunk],
        )
        conn.execute("COMMIT")
    return len(events) / (time.perf_counter() - started)


def through_api(base: str, token: str, events: list[dict[str, object]], batch: int) -> float:
    """Events per second through the API, one batch per request, bodies encoded up front."""
    bodies = [
        msgspec.json.encode({"events": events[start : start + batch]})
        for start in range(0, len(events), batch)
    ]
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:

        def send(body: bytes) -> None:
            client.post("/api/v1/events", content=body).raise_for_status()

        # A few requests in flight, so the server never waits for the client to encode or
        # read: the figure is the server's, not the client's.
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            list(pool.map(send, bodies))
        elapsed = time.perf_counter() - started
        check = client.post("/api/v1/events", content=bodies[0]).json()["results"]
    if any(result["status"] != "duplicate" for result in check):
        sys.exit("a replayed batch was not reported as duplicates")
    return len(events) / elapsed


def main() -> None:
    """Measure raw SQLite and the API for batches of 100 and 1000; print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument(
        "--empty-baseline",
        action="store_true",
        help="start the baseline's tables empty for each batch size (as before 2026-12-03)",
    )
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(LOAD_CORE)})
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # "core": the scan path alone (SCANLET_FEATURES=none); "full": with analytics,
        # webhooks and the dashboard following the log in the same process (the default).
        for variant, features in (("core", "none"), ("full", "all")):
            (folder / variant).mkdir()
            env = {"SCANLET_LOG_LEVEL": "warning", "SCANLET_FEATURES": features}
            with served(folder / variant, env=env, core=SERVER_CORE) as running:
                base, token = running.base, running.key(name="bench")
                httpx.post(
                    f"{base}/api/v1/codes",
                    headers={"Authorization": f"Bearer {token}"},
                    json={"target": "https://example.com/", "slug": SLUG},
                ).raise_for_status()
                raw_conn: sqlite3.Connection | None = None
                for batch in (100, 1000):
                    events = make_events(args.events)
                    if raw_conn is None or args.empty_baseline:
                        if raw_conn is not None:
                            raw_conn.close()
                        raw_conn = raw_database(folder / f"raw-{variant}-{batch}.db")
                    raw = raw_sqlite(raw_conn, events, batch)
                    api = through_api(base, token, events, batch)
                    print(
                        f"{variant} batch {batch:5}: raw sqlite3 {raw:10.0f} events/s   "
                        f"API {api:9.0f} events/s   ratio {api / raw:.3f}",
                        flush=True,
                    )
                if raw_conn is not None:
                    raw_conn.close()


if __name__ == "__main__":
    main()
