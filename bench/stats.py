"""Stats query time against history size: the cost must follow buckets, not scans.

For each history size, scan events with a fixed seed are spread over 90 days and 10 codes (one
of them gets half the traffic) and written straight through the event log path
(``EventLog.append``, the scans actor's own writer), then the analytics projection applies the
log in follower-sized batches exactly as the follower and ``scanlet rebuild`` do (user agents
parsed, bots detected, referrers reduced, visitor sets, rollups, raw-scan rows). Then three
queries are timed:

- a 30-day daily series in Europe/Berlin for the busiest code (with every breakdown),
- a 24-hour hourly series for the same code,
- the 30-day daily view across all codes (with top_codes).

It prints p50/p99 per query and size, and the growth of each p50 from the smallest size to
the largest. Usage: ``python bench/stats.py [--sizes 100000,1000000,10000000] [--runs 40]``
(10M takes several minutes to load on the 2-core development machine).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio

from scanlet.actors.analytics.projection import AnalyticsProjection
from scanlet.actors.analytics.stats import StatsQuery, compute_stats
from scanlet.actors.events import ScanRecorded, encode_event
from scanlet.adapters.user_agents import describe_agent
from scanlet.storage.records import NewEvent
from scanlet.storage.sqlite.analytics import AnalyticsStore
from scanlet.storage.sqlite.database import Database, open_database
from scanlet.storage.sqlite.eventlog import EventLog
from scanlet.storage.timefmt import format_time

NOW = datetime(2026, 6, 30, tzinfo=UTC)
DAYS = 90
CODES = [f"code{i}" for i in range(10)]
AGENTS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
]
REFERRERS = [None, None, "https://www.google.com/", "https://t.co/x", "https://instagram.com/"] + [
    f"https://site{i}.example/page" for i in range(20)
]
COUNTRIES = ["DE", "FR", "NL", "US", "GB", "ES", "IT", "PL", "JP", None]
CHUNK = 50_000
BATCH = 2000


def events(count: int, seed: int) -> Iterator[list[NewEvent]]:
    """``count`` scan events over the last ``DAYS`` days, in time order, in chunks."""
    rng = random.Random(seed)
    start = int((NOW - timedelta(days=DAYS)).timestamp() * 1000)
    step = DAYS * 86_400_000 / count
    for first in range(0, count, CHUNK):
        chunk = []
        for n in range(first, min(first + CHUNK, count)):
            at = datetime.fromtimestamp((start + int(n * step)) / 1000, UTC)
            scan = ScanRecorded(
                id=f"e{n}",
                occurred_at=at,
                slug=CODES[0] if rng.random() < 0.5 else rng.choice(CODES),
                source=rng.choice(("qr", "qr", "link")),
                ip="203.0.113.0",
                visitor=f"{rng.getrandbits(64):016x}",
                user_agent=rng.choice(AGENTS),
                referrer=rng.choice(REFERRERS),
                country=rng.choice(COUNTRIES),
            )
            chunk.append(
                NewEvent(scan.id, "scan.recorded", scan.slug, format_time(at), encode_event(scan))
            )
        yield chunk


async def load(db: Database, count: int) -> None:
    """Append ``count`` events through the log, then project them as the follower does."""
    for chunk in events(count, seed=42):

        def append(conn: sqlite3.Connection, chunk: list[NewEvent] = chunk) -> None:
            EventLog.add(conn, chunk, "2026-06-30T00:00:00.000000Z")

        await db.write(append)
        # The server checkpoints from a background task; without one the WAL here would
        # grow by every page ever written (tens of GB at 10M scans).
        await db.checkpoint()
    projection = AnalyticsProjection(describe_agent)
    log = EventLog(db)
    position = 0
    analytics = AnalyticsStore(db)
    while batch := await log.read_after(position, BATCH):
        facts = projection.fold(batch)
        await analytics.apply("bench", position, batch[-1].seq, facts, None)
        position = batch[-1].seq
        if position % CHUNK < BATCH:
            await db.checkpoint()


async def timed(store: AnalyticsStore, query: StatsQuery, runs: int) -> tuple[float, float]:
    """p50 and p99 in milliseconds of ``runs`` answers to ``query`` (after one warm-up)."""
    await compute_stats(store, query)
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        await compute_stats(store, query)
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


QUERIES = {
    "30d daily Berlin": StatsQuery(
        slug=CODES[0], start=NOW - timedelta(days=30), end=NOW, interval="day", tz="Europe/Berlin"
    ),
    "24h hourly": StatsQuery(
        slug=CODES[0], start=NOW - timedelta(hours=24), end=NOW, interval="hour", tz="UTC"
    ),
    "30d daily all codes": StatsQuery(
        slug=None, start=NOW - timedelta(days=30), end=NOW, interval="day", tz="UTC"
    ),
}


async def main(sizes: list[int], runs: int) -> None:
    """Load each size into a fresh database and time the queries."""
    results: dict[int, dict[str, tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            began = time.perf_counter()
            async with open_database(Path(tmp) / f"stats-{size}.db") as db:
                await load(db, size)
                loaded = time.perf_counter() - began
                store = AnalyticsStore(db)
                results[size] = {name: await timed(store, q, runs) for name, q in QUERIES.items()}
            print(f"{size:>9} scans loaded in {loaded:5.1f} s")
            for name, (p50, p99) in results[size].items():
                print(f"{'':>9} {name:<22} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")
    small, large = min(sizes), max(sizes)
    for name in QUERIES:
        ratio = results[large][name][0] / results[small][name][0]
        print(f"growth {large}/{small} {name:<22} p50 x{ratio:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    anyio.run(main, [int(s) for s in args.sizes.split(",")], args.runs)
