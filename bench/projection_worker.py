"""The projection worker: what the whole product's server spends per redirect with the
analytics projection in a worker process, against the same server folding on its loop.

Two ``scanlet serve`` processes of the whole product (each on its own SQLite database),
``SCANLET_PROJECTION_WORKER=on`` and ``off``, pinned to one core (the worker inherits the
pinning: the one-core case) and driven alternately by wrk from the other. Throughput on a
shared machine drifts more than the effect, so the figure that matters is CPU time: each
run reads the CPU the server process and its children (the workers) used, from wrk's start
until the projection has caught up with every scan of the run, divided by the redirects
answered. The ratios are on/off from the same run. With ``--worker-core load`` the workers
are moved to the other core (the two-core case; wrk runs there too).
Run: python bench/projection_worker.py [--seconds 8] [--rounds 5] [--connections 64]
[--worker-core server|load]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import cpu_seconds, require_wrk, settle

from tests.processes import Served, served
from tests.wrk import LOAD_CORE, SERVER_CORE, run_wrk

MODES = ("off", "on")


def _cpu(pid: int) -> float:
    """Seconds of CPU ``pid`` used so far (0 for one that has ended)."""
    try:
        return cpu_seconds(pid)
    except (FileNotFoundError, ProcessLookupError):
        return 0.0


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        for child in map(int, children):
            found += [child, *_descendants(child)]
    return found


def cpu_of(pid: int) -> tuple[float, dict[int, float]]:
    """The server's CPU seconds, and each of its descendants'."""
    return _cpu(pid), {child: _cpu(child) for child in _descendants(pid)}


def lag(base: str) -> float:
    """The analytics projection's lag, in events."""
    for line in httpx.get(f"{base}/metrics", timeout=30).text.splitlines():
        if line.startswith('scanlet_projection_lag_events{projection="analytics"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def caught_up(base: str, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while lag(base) > 0:
        if time.monotonic() > deadline:
            raise SystemExit(f"{base}: the projection did not catch up in {timeout:g} s")
        time.sleep(0.1)


@dataclass
class Run:
    rps: float
    p99_ms: float
    server_us: float
    helpers_us: float

    @property
    def total_us(self) -> float:
        return self.server_us + self.helpers_us


def measure(running: Served, seconds: int, connections: int) -> Run:
    pid = running.proc.pid
    server_before, helpers_before = cpu_of(pid)
    result = run_wrk(f"{running.base}/live", seconds=seconds, connections=connections)
    caught_up(running.base)
    server_after, helpers_after = cpu_of(pid)
    helpers = sum(cpu - helpers_before.get(child, 0.0) for child, cpu in helpers_after.items())
    answered = max(result.requests - result.errors, 1)
    return Run(
        result.rps,
        result.p99_ms,
        (server_after - server_before) / answered * 1e6,
        helpers / answered * 1e6,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--worker-core", choices=("server", "load"), default="server")
    args = parser.parse_args()
    require_wrk()
    runs: dict[str, list[Run]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        servers: dict[str, Served] = {}
        for mode in MODES:
            folder = Path(tmp) / mode
            folder.mkdir()
            env = {"SCANLET_LOG_LEVEL": "warning", "SCANLET_PROJECTION_WORKER": mode}
            running = servers[mode] = stack.enter_context(served(folder, env=env, core=SERVER_CORE))
            running.create_code("live")
        for running in servers.values():
            # Not recorded: starts the workers, so that every recorded run has them.
            run_wrk(f"{running.base}/live", seconds=2, connections=args.connections)
            caught_up(running.base)
        for round_ in range(args.rounds):
            order = MODES if round_ % 2 == 0 else MODES[::-1]
            for mode in order:
                pids = [s.proc.pid for s in servers.values()]
                helpers = [c for pid in pids for c in _descendants(pid)]
                if args.worker_core == "load":
                    for helper in helpers:
                        os.sched_setaffinity(helper, {int(LOAD_CORE)})
                settle([*pids, *helpers])
                run = measure(servers[mode], args.seconds, args.connections)
                runs[mode].append(run)
                print(
                    f"round {round_ + 1} {mode:>3}: {run.rps:9.0f} req/s  p99 "
                    f"{run.p99_ms:6.2f} ms  server {run.server_us:6.1f} us  "
                    f"workers {run.helpers_us:5.1f} us a redirect",
                    flush=True,
                )

    def median(mode: str, what: str) -> float:
        return statistics.median(float(getattr(run, what)) for run in runs[mode])

    print()
    for mode in MODES:
        print(
            f"median {mode:>3}: {median(mode, 'rps'):9.0f} req/s  p99 {median(mode, 'p99_ms'):6.2f}"
            f" ms  server {median(mode, 'server_us'):6.1f} us  workers "
            f"{median(mode, 'helpers_us'):5.1f} us  total {median(mode, 'total_us'):6.1f} us"
        )
    for what, label in (
        ("rps", "redirects/s"),
        ("server_us", "server CPU a redirect"),
        ("total_us", "server + workers CPU a redirect"),
    ):
        paired = statistics.median(
            getattr(on, what) / getattr(off, what)
            for on, off in zip(runs["on"], runs["off"], strict=True)
        )
        print(
            f"ratio on/off, {label}: {median('on', what) / median('off', what):.3f}"
            f" (paired {paired:.3f})"
        )


if __name__ == "__main__":
    main()
