"""Instructions the analytics catch-up costs a scan, against what recording it costs.

Under load the whole product's analytics follower wakes every 10 ms and folds the couple of
hundred scans committed meanwhile, read back from the log's memory (``RecentAppends``). Its
cost a scan is what the whole product pays on top of the scan path, but a wall-clock timing
of it swings by half on this shared machine, and ``bench/instructions.py``'s whole product
hands a backlog to the projection worker process, which callgrind does not follow. So this
one counts it alone, in process: three children under callgrind (user-space instructions)
start a SQLite store and a follower and warm them up; two then commit ``--rounds`` rounds of
``--scans`` scans (group commits of 54, as the scans actor made them under wrk), and one of
them has the follower catch up after each round. The differences, divided by the scans,
are a scan's recording and its catch-up, in one run. The scans are alike (one agent, one
visitor, one hour), as in bench/redirect.py, or with ``--varied`` as a crowd's: each from a
visitor of its own, on one of 16 phones, from one of 4 referrers and 5 countries (more
rollup rows a catch-up, and first sightings).
Run: python bench/catch_up.py [--rounds 60] [--scans 228] [--varied]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

# The crowd of --varied: the phones, referrers and countries of apply_parts.py's visits.
from apply_parts import COUNTRIES, PHONES, REFERRERS
from counting import collected, counted_child

from scanlet.actors.analytics.actor import AnalyticsFollower
from scanlet.actors.analytics.projection import AnalyticsProjection
from scanlet.actors.events import ScanRecorded, log_entry
from scanlet.actors.follower import CATCH_UP
from scanlet.adapters.user_agents import describe_agent
from scanlet.config import load_settings
from scanlet.ids import new_event_id
from scanlet.storage.opening import open_storage
from scanlet.storage.records import ScanBatch

AGENT = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148"
#: Scans a group commit held under wrk (scanlet_scan_batch_messages: 54 on average).
COMMIT = 54
WARM_UP = 5
STEPS = ("none", "record", "catch-up")


async def child(step: str, rounds: int, scans: int, *, varied: bool) -> None:
    """Warm up, then ``rounds`` rounds: record ``scans`` scans (unless ``step`` is none)
    and fold them (if it is catch-up)."""
    made = 0
    with tempfile.TemporaryDirectory() as tmp:
        async with AsyncExitStack() as stack:
            settings = load_settings({"SCANLET_DB": f"{tmp}/scanlet.db"}, isatty=False)
            storage = await stack.enter_async_context(open_storage(settings))
            follower = AnalyticsFollower(
                storage.events,
                storage.positions,
                storage.analytics,
                AnalyticsProjection(describe_agent),
            )
            follower.position = await storage.positions.load(follower.position_name)

            def scan(now: datetime) -> ScanRecorded:
                nonlocal made
                made += 1
                n = made if varied else 0
                agent = PHONES[n % len(PHONES)] if varied else AGENT
                return ScanRecorded(
                    id=new_event_id(),
                    occurred_at=now,
                    slug="bench",
                    source="qr",
                    ip="127.0.0.0",
                    visitor=f"{n:022x}",
                    # A new string each scan, as each request's header is (cheaply: joining
                    # its characters cost more than the recording it is measured beside).
                    user_agent=agent[:-1] + agent[-1],
                    referrer=REFERRERS[n % len(REFERRERS)] if varied else None,
                    country=COUNTRIES[n % len(COUNTRIES)] if varied else None,
                    target="https://example.com/landing",
                )

            async def record() -> None:
                now = datetime.now(UTC)
                entries = [log_entry(scan(now), "bench") for _ in range(scans)]
                for start in range(0, scans, COMMIT):
                    batch = ScanBatch()
                    batch.entries.extend(entries[start : start + COMMIT])
                    await storage.scans.record(batch, now)

            for _ in range(WARM_UP):
                await record()
                await follower.on_message(CATCH_UP)
            for _ in range(rounds if step != "none" else 0):
                await record()
                if step == "catch-up":
                    await follower.on_message(CATCH_UP)
            # For the test beside it: what was recorded, and how much of it folded.
            print(f"log {await storage.events.last_seq()} folded {follower.position}", flush=True)


def _count(step: str, rounds: int, scans: int, varied: bool) -> subprocess.Popen[str]:
    crowd = ["--varied"] if varied else []
    return counted_child(
        __file__, "--child", step, "--rounds", str(rounds), "--scans", str(scans), *crowd
    )


def main() -> None:
    """Count the three children; print a scan's recording and catch-up, and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--scans", type=int, default=228)
    parser.add_argument("--varied", action="store_true", help="a crowd's scans, not alike")
    parser.add_argument("--child", choices=STEPS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(args.child, args.rounds, args.scans, varied=args.varied))
        return
    if args.rounds < 1 or args.scans < 1:
        parser.error("--rounds and --scans must be at least 1")
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    running = {step: _count(step, args.rounds, args.scans, args.varied) for step in STEPS}
    counts = {step: collected(process, step) for step, process in running.items()}
    total = args.rounds * args.scans
    recording = (counts["record"] - counts["none"]) / total
    catching_up = (counts["catch-up"] - counts["record"]) / total
    print(f"recording {recording / 1000:8.1f}k instructions a scan")
    print(f"catch-up  {catching_up / 1000:8.1f}k instructions a scan")
    print(f"ratio catch-up/recording: {catching_up / recording:.3f}")


if __name__ == "__main__":
    main()
