"""Instructions a scan costs in-process, counted by callgrind: a figure noise cannot move.

Wall-clock benchmarks on this shared 2-core machine drift by 10-25 % between rounds, more
than most single changes are worth. Valgrind's callgrind counts the instructions a process
runs, whatever else the machine does, so an A/B of two checkouts compares exactly.

Each variant runs in two child processes under callgrind, both starting the same app and
sending it the same warm-up; one then sends ``--scans`` more. The difference between the
two counts, divided by ``--scans``, is one scan's instructions (set-up, imports and
warm-up cancel out). The variants, each straight into its ASGI app (no sockets, no HTTP
parsing; ``--concurrency`` at a time):
- "bare": bench/bare_app.py, a Starlette app redirecting from a dict (the baseline);
- "core": Scanlet's scan path alone (SCANLET_FEATURES=none), group commits included;
- "full": the whole product (analytics, webhooks, dashboard), the child waiting until the
  analytics projection has folded every scan, so its work is counted too.
What is left out is the same for all: the ASGI server's own work (granian's, in Rust) and
the kernel's (callgrind counts user-space instructions only; a commit's WAL writes are
system calls).

Both children of a variant run at once (not pinned): instruction counts do not depend on
what else runs. Ids and times differ from run to run, so counts move a little (two runs of
the same code agreed within 1.5 %; PYTHONHASHSEED is fixed for the children).
For an A/B, run each checkout's own copy of this script.
Run: python bench/instructions.py [--scans 3000] [--variants bare,core,full]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from counting import collected, counted_child
from scan_cost import SLUG, block_of, start

from scanlet.actors.analytics.actor import POSITION_NAME
from scanlet.http.app import ScanletApp

VARIANTS = ("bare", "core", "full")
FEATURES = {"core": "none", "full": "all"}
WARM_UP = 1000


async def _caught_up(app: ScanletApp) -> int:
    """Until the analytics projection has folded the whole log (at once without it); the
    log's newest position."""
    services = app.state.services
    newest: int = await services.storage.events.last_position()
    if "analytics" in services.features:
        # The projection's position is in the database, with nothing to wait on but itself.
        while await services.storage.positions.load(POSITION_NAME) < newest:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    return newest


async def child(variant: str, scans: int, concurrency: int) -> None:
    """Start the variant's app, warm it up, send ``scans`` scans, wait for its projection."""
    if variant == "bare":
        from bare_app import app as bare

        send = block_of(bare, SLUG, b"qr.bench")
        await send(WARM_UP, concurrency)
        if scans:
            await send(scans, concurrency)
        return
    with tempfile.TemporaryDirectory() as tmp:
        async with AsyncExitStack() as stack:
            app = await start(stack, Path(tmp), variant, features=FEATURES[variant])
            send = block_of(app, SLUG, b"qr.bench")
            await send(WARM_UP, concurrency)
            await _caught_up(app)
            if scans:
                await send(scans, concurrency)
            newest = await _caught_up(app)
            storage = app.state.services.storage
            stored = (await storage.scans.counts_for([SLUG]))[SLUG]
            folded = await storage.positions.load(POSITION_NAME)
            # For the test beside it: everything was stored, and folded where it is followed.
            print(f"log {newest} folded {folded} scans {stored}", flush=True)


def _count(variant: str, scans: int, concurrency: int) -> subprocess.Popen[str]:
    return counted_child(
        __file__, "--child", variant, "--scans", str(scans), "--concurrency", str(concurrency)
    )


def per_scan(variant: str, scans: int, concurrency: int) -> float:
    """Instructions one scan of ``variant`` costs: the two children's difference."""
    without = _count(variant, 0, concurrency)
    with_scans = _count(variant, scans, concurrency)
    base = collected(without, f"{variant}, warm-up only")
    total = collected(with_scans, f"{variant}, {scans} scans")
    return (total - base) / scans


def main() -> None:
    """Count each variant's instructions a scan; print them and their ratios to bare."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scans", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(args.child, args.scans, args.concurrency))
        return
    if args.scans < 1:
        parser.error("--scans must be at least 1")
    chosen = args.variants.split(",")
    unknown = set(chosen) - set(VARIANTS)
    if unknown or "bare" not in chosen:
        parser.error(f"variants are some of {', '.join(VARIANTS)}, bare among them")
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    counts = {name: per_scan(name, args.scans, args.concurrency) for name in chosen}
    for name, count in counts.items():
        print(f"{name:5} {count / 1000:8.1f}k instructions a scan ({args.scans} scans)")
    for name, count in counts.items():
        if name != "bare":
            print(f"ratio {name}/bare: {counts['bare'] / count:.3f} (as throughput: bare = 1)")


if __name__ == "__main__":
    main()
