"""The analytics follower's transactions on imported visits: cut into parts by the rollup
rows they touch (``ROWS_PER_APPLY``), against one transaction a batch (as a rebuild does).

With SQLite every apply holds the write lock, and with ``synchronous=normal`` it runs on the
event loop, so the longest one is what a redirect may wait for. Two SQLite files take the
same visits in the same batches (the follower's 256), alternately: the visits of an import,
one every 37 minutes over months, from 16 phones' agents, 4 referrers and 5 countries, and
then live scans (one hour, the same phones), which must not be cut. Prints, per kind of
batch, the median of each batch's longest transaction and of its transactions' total, and
their ratios (parts against whole).
Run: python bench/apply_parts.py [--batches 40]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanlet.actors.analytics.actor import AnalyticsFollower
from scanlet.actors.analytics.projection import AnalyticsProjection
from scanlet.actors.events import ScanRecorded, encode_event
from scanlet.actors.follower import CATCH_UP
from scanlet.adapters.user_agents import describe_agent
from scanlet.config import load_settings
from scanlet.storage.opening import open_storage
from scanlet.storage.ports import AnalyticsWriter, Storage
from scanlet.storage.records import NewEvent, ScanFact
from scanlet.storage.timefmt import format_time

BATCH = AnalyticsFollower.batch_size
PHONES = [
    f"Mozilla/5.0 (iPhone; CPU iPhone OS 17_{i} like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
    for i in range(8)
] + [
    f"Mozilla/5.0 (Linux; Android 14; Pixel {i}) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
    for i in range(8)
]
REFERRERS = [None, "https://www.google.com/", "https://t.co/x", "https://www.facebook.com/"]
COUNTRIES = ["DE", "FR", "US", "GB", "ES"]
START = datetime(2024, 10, 1, tzinfo=UTC)


class TimedWriter:
    """A writer timing each of its transactions (the batch's list, appended to)."""

    def __init__(self, writer: AnalyticsWriter) -> None:
        self.writer = writer
        self.batch: list[float] = []

    async def apply(
        self,
        name: str,
        expected: int,
        position: int,
        facts: Sequence[ScanFact],
        raw_cutoff: str | None,
    ) -> None:
        started = time.perf_counter()
        await self.writer.apply(name, expected, position, facts, raw_cutoff)
        self.batch.append(time.perf_counter() - started)

    async def reset(self, name: str) -> None:
        await self.writer.reset(name)


def visits(batch: int, *, spread: bool) -> list[NewEvent]:
    """One batch of scans: an import's (37 minutes apart) or live ones (within an hour)."""
    made = []
    for i in range(BATCH):
        n = batch * BATCH + i
        at = START + (timedelta(minutes=37 * n) if spread else timedelta(hours=10**5, seconds=i))
        event = ScanRecorded(
            id=f"e{n}-{spread}",
            occurred_at=at,
            slug=f"c{n // 300}" if spread else "live",
            source="import" if spread else "qr",
            ip=None,
            visitor=f"v{n}",
            user_agent=PHONES[n % len(PHONES)],
            referrer=REFERRERS[n % len(REFERRERS)],
            country=COUNTRIES[n % len(COUNTRIES)],
        )
        made.append(
            NewEvent(event.id, "scan.recorded", event.slug, format_time(at), encode_event(event))
        )
    return made


async def follower(
    stack: AsyncExitStack, path: Path, *, parts: bool
) -> tuple[Storage, AnalyticsFollower, TimedWriter]:
    storage = await stack.enter_async_context(
        open_storage(load_settings({"SCANLET_DB": str(path)}, isatty=False))
    )
    writer = TimedWriter(storage.analytics)
    analytics = AnalyticsFollower(
        storage.events, storage.positions, writer, AnalyticsProjection(describe_agent)
    )
    if not parts:
        analytics.rows_per_apply = None
    return storage, analytics, writer


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        async with AsyncExitStack() as stack:
            sides = {
                name: await follower(stack, Path(tmp) / f"{name}.db", parts=name == "parts")
                for name in ("parts", "whole")
            }
            for kind, spread in (("import", True), ("live", False)):
                longest: dict[str, list[float]] = {name: [] for name in sides}
                total: dict[str, list[float]] = {name: [] for name in sides}
                count: dict[str, list[int]] = {name: [] for name in sides}
                for batch in range(args.batches):
                    events = visits(batch, spread=spread)
                    order = list(sides) if batch % 2 else list(reversed(sides))
                    for name in order:
                        storage, analytics, writer = sides[name]
                        await storage.events.append(events, datetime.now(UTC))
                        writer.batch = []
                        await analytics.on_message(CATCH_UP)
                        if batch < 4:
                            continue  # warm-up: caches, agents parsed, the first pages
                        longest[name].append(max(writer.batch))
                        total[name].append(sum(writer.batch))
                        count[name].append(len(writer.batch))
                for name in sides:
                    print(
                        f"{kind:6} {name:5}: {statistics.mean(count[name]):4.1f} transactions a"
                        f" batch, longest {statistics.median(longest[name]) * 1000:6.2f} ms,"
                        f" all {statistics.median(total[name]) * 1000:6.2f} ms (medians)"
                    )
                ratio_longest = statistics.median(longest["parts"]) / statistics.median(
                    longest["whole"]
                )
                ratio_total = statistics.median(total["parts"]) / statistics.median(total["whole"])
                print(f"{kind:6} parts/whole: longest {ratio_longest:.3f}, all {ratio_total:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
