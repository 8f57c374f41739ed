"""Several times the sustainable load: bounded mailboxes and memory, 503s, then recovery.

wrk measures the sustainable rate at 64 connections, then opens thousands for a while (RSS
sampled four times a second meanwhile), then the server must answer redirects and /readyz
200 again and serve at 64 connections without errors.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tests.faults._clients import SLUG, create_code
from tests.faults._server import STOP_TIMEOUT, make_key, metric, rss_mb, start, wait_recovered
from tests.wrk import WrkResult, run_wrk

__all__ = ("OverloadPlan", "OverloadResult", "run_overload")


@dataclass(frozen=True)
class OverloadPlan:
    """How heavy, for how long, with which scan queue, and the memory bound."""

    seconds: int = 20
    connections: int = 2000
    #: SCANLET_SCAN_QUEUE, the scans mailbox's bound.
    queue: int = 512
    #: The promise: peak RSS in MB stays at or under this.
    rss_bound: float = 250.0


@dataclass(frozen=True)
class OverloadResult:
    """The figures of an overload run."""

    plan: OverloadPlan
    server: str
    #: wrk for 5 s at 64 connections, before the overload.
    sustainable: WrkResult
    #: wrk for ``plan.seconds`` at ``plan.connections``.
    heavy: WrkResult
    #: 503 answers the server counted itself (its request metric), during all of the above.
    refused: int
    idle_rss_mb: float
    #: (seconds into the overload, RSS in MB), four samples a second.
    rss_samples: tuple[tuple[float, float], ...]
    #: From the overload's end to the first 302 with /readyz 200.
    recovery_seconds: float
    #: wrk for 3 s at 64 connections after the recovery.
    after: WrkResult
    after_rss_mb: float
    exit_code: int

    @property
    def peak_rss_mb(self) -> float:
        """The largest RSS sampled during the overload."""
        return max(rss for _, rss in self.rss_samples)

    @property
    def error_share(self) -> float:
        """The share of the overload's requests that were not 2xx/3xx or had no answer."""
        return self.heavy.errors / max(1, self.heavy.requests)

    @property
    def passed(self) -> bool:
        """Peak RSS within the bound, no error once recovered, exit 0 on SIGTERM."""
        return (
            self.peak_rss_mb <= self.plan.rss_bound
            and self.after.errors == 0
            and self.exit_code == 0
        )


def run_overload(
    folder: Path,
    plan: OverloadPlan | None = None,
    *,
    server: str = "granian",
    core: str | None = None,
) -> OverloadResult:
    """Overload a server in ``folder`` (empty, it holds the database and ``server.log``)
    with wrk (raises ``tests.wrk.WrkMissing`` without it)."""
    plan = plan or OverloadPlan()
    token = make_key(folder)
    env = {"SCANLET_SCAN_QUEUE": str(plan.queue)}
    samples: list[tuple[float, float]] = []
    with start(folder, server=server, core=core, env=env) as running:
        create_code(running.base, token)
        url = f"{running.base}/{SLUG}"
        pid = running.proc.pid
        idle_rss = rss_mb(pid)
        sustainable = run_wrk(url, seconds=5, connections=64)
        done = threading.Event()

        def sample() -> None:
            started = time.monotonic()
            for _ in range(int(plan.seconds * 4) + 400):  # bounded: 4 samples a second
                if done.is_set():
                    return
                samples.append((time.monotonic() - started, rss_mb(pid)))
                time.sleep(0.25)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            heavy = run_wrk(url, seconds=plan.seconds, connections=plan.connections)
        finally:
            done.set()
            sampler.join()
        refused = metric(running.base, "scanlet_http_request_duration_seconds_count", status="503")
        recovered = wait_recovered(running.base)
        after = run_wrk(url, seconds=3, connections=64)
        after_rss = rss_mb(pid)
        code = running.terminate(STOP_TIMEOUT)
    return OverloadResult(
        plan=plan,
        server=server,
        sustainable=sustainable,
        heavy=heavy,
        refused=round(refused),
        idle_rss_mb=idle_rss,
        rss_samples=tuple(samples),
        recovery_seconds=recovered,
        after=after,
        after_rss_mb=after_rss,
        exit_code=code,
    )
