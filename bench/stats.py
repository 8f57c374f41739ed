"""Stats query time against history size: the cost must follow buckets, not scans.

For each history size, scans with a fixed seed are spread over 90 days and 10 codes (one of
them gets half the traffic), turned into rollups by the projection's own write path
(``AnalyticsStore.apply``, in batches as the follower commits them; user-agent parsing is
skipped: the facts are generated already derived), then three queries are timed:

- a 30-day daily series in Europe/Berlin for the busiest code (with every breakdown),
- a 24-hour hourly series for the same code,
- the 30-day daily view across all codes (with top_codes).

It prints p50/p99 per query and size, and the p50 ratio of each size to the next smaller.
Usage: ``python bench/stats.py [--sizes 10000,100000,1000000] [--runs 40]``; the defaults keep it
under a minute on the shared 2-core box.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio

from scanlet.actors.analytics.stats import StatsQuery, compute_stats
from scanlet.storage.analytics import AnalyticsStore, ScanFact
from scanlet.storage.database import Database, open_database

NOW = datetime(2026, 6, 30, tzinfo=UTC)
DAYS = 90
CODES = [f"code{i}" for i in range(10)]
DEVICES = ["mobile", "mobile", "mobile", "desktop", "tablet", "bot"]
OSES = ["iOS", "Android", "Windows", "Mac OS X", "Linux", "Other"]
BROWSERS = ["Mobile Safari", "Chrome Mobile", "Chrome", "Firefox", "Samsung Internet", "Edge"]
REFERRERS = [None, None, "google.com", "t.co", "instagram.com", "facebook.com"] + [
    f"site{i}.example" for i in range(20)
]
COUNTRIES = ["DE", "FR", "NL", "US", "GB", "ES", "IT", "PL", "JP", None] + [
    f"C{i}" for i in range(20)
]
BATCH = 5000


def generate(count: int, seed: int) -> list[ScanFact]:
    """``count`` derived scan facts over the last ``DAYS`` days, in time order."""
    rng = random.Random(seed)
    start = int((NOW - timedelta(days=DAYS)).timestamp())
    span = DAYS * 86400
    moments = sorted(start + rng.randrange(span) for _ in range(count))
    facts = []
    for seq, ts in enumerate(moments, start=1):
        device = rng.choice(DEVICES)
        facts.append(
            ScanFact(
                seq=seq,
                id=f"e{seq}",
                slug=CODES[0] if rng.random() < 0.5 else rng.choice(CODES),
                orphan=False,
                occurred_at="",
                hour=ts // 3600,
                source=rng.choice(("qr", "qr", "link", "device")),
                ip=None,
                visitor=f"v{rng.randrange(count // 3 + 1)}",
                user_agent=None,
                referrer=None,
                referrer_host=rng.choice(REFERRERS),
                country=rng.choice(COUNTRIES),
                device=device,
                os=rng.choice(OSES),
                browser=rng.choice(BROWSERS),
                bot=device == "bot",
                device_id=None,
                data=None,
            )
        )
    return facts


async def load(db: Database, facts: list[ScanFact]) -> None:
    """Apply ``facts`` in follower-sized transactions."""
    for i in range(0, len(facts), BATCH):
        chunk = facts[i : i + BATCH]

        def apply(conn: sqlite3.Connection, chunk: list[ScanFact] = chunk) -> None:
            AnalyticsStore.apply(conn, chunk)

        await db.write(apply)


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
            facts = generate(size, seed=42)
            async with open_database(Path(tmp) / f"stats-{size}.db") as db:
                await load(db, facts)
                loaded = time.perf_counter() - began
                store = AnalyticsStore(db)
                results[size] = {name: await timed(store, q, runs) for name, q in QUERIES.items()}
            print(f"{size:>9} scans loaded in {loaded:5.1f} s")
            for name, (p50, p99) in results[size].items():
                print(f"{'':>9} {name:<22} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")
    ordered = sorted(sizes)
    for small, large in itertools.pairwise(ordered):
        for name in QUERIES:
            ratio = results[large][name][0] / results[small][name][0]
            print(f"growth {large}/{small} {name:<22} p50 x{ratio:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    anyio.run(main, [int(s) for s in args.sizes.split(",")], args.runs)
