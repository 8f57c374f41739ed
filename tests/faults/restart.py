"""Restart with a big log the read models have not applied: time to ready, and after kill -9.

The log gets ``events`` scans appended straight into the file while the server is stopped,
so analytics starts far behind. Readiness must not wait for it: the server is timed to
/readyz 200, redirects are timed while analytics catches up, it is SIGKILLed in the middle of
the catch-up, timed to ready again, and left to catch up before a SIGTERM.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.faults._clients import SLUG, create_code
from tests.faults._database import fill_log
from tests.faults._server import STOP_TIMEOUT, database, make_key, metric, start
from tests.processes import free_port

__all__ = ("RestartPlan", "RestartResult", "run_restart")

REDIRECTS = 20  # timed right after the first start, during the catch-up


@dataclass(frozen=True)
class RestartPlan:
    """How big a log, and the bounds."""

    events: int = 1_000_000
    #: The promise: each start is ready (/readyz 200) within this many seconds.
    ready_bound: float = 5.0
    #: How long to wait for analytics to catch up after the second start (not a promise).
    catch_up_limit: float = 120.0


@dataclass(frozen=True)
class RestartResult:
    """The figures of a restart run."""

    plan: RestartPlan
    server: str
    #: Seconds to append ``plan.events`` scans to the log.
    fill_seconds: float
    #: From starting the process to /readyz 200, with the whole log unapplied.
    first_ready_seconds: float
    #: Redirects timed right after the first start, in milliseconds.
    redirect_ms: tuple[float, ...]
    #: Events analytics was behind when the SIGKILL came.
    lag_before_kill: float
    #: From starting again after the SIGKILL to /readyz 200.
    second_ready_seconds: float
    #: Analytics' lag when the wait for its catch-up ended (0: caught up), and that wait.
    final_lag: float
    catch_up_seconds: float
    exit_code: int
    #: From the final SIGTERM to the exit.
    stop_seconds: float

    @property
    def redirect_max_ms(self) -> float:
        """The slowest of the timed redirects."""
        return max(self.redirect_ms)

    @property
    def redirect_median_ms(self) -> float:
        """The median of the timed redirects (the upper one of an even count)."""
        return sorted(self.redirect_ms)[len(self.redirect_ms) // 2]

    @property
    def passed(self) -> bool:
        """Both starts ready within the bound, exit 0 on SIGTERM."""
        return (
            self.first_ready_seconds <= self.plan.ready_bound
            and self.second_ready_seconds <= self.plan.ready_bound
            and self.exit_code == 0
        )


def _lag(base: str) -> float:
    return metric(base, "scanlet_projection_lag_events", projection="analytics")


def run_restart(
    folder: Path,
    plan: RestartPlan | None = None,
    *,
    server: str = "granian",
    core: str | None = None,
) -> RestartResult:
    """Time restarts over a big unapplied log in ``folder`` (empty, it holds the database and
    ``server.log``)."""
    plan = plan or RestartPlan()
    db = database(folder)
    token = make_key(folder)
    port = free_port()
    with start(folder, server=server, core=core, port=port) as running:
        create_code(running.base, token)
    loaded = fill_log(db, plan.events)
    began = time.monotonic()
    with start(folder, server=server, core=core, port=port) as running:
        first = time.monotonic() - began
        latencies = []
        with httpx.Client(timeout=10) as client:
            for _ in range(REDIRECTS):
                sent = time.perf_counter()
                status = client.get(f"{running.base}/{SLUG}").status_code
                if status != 302:
                    raise RuntimeError(f"a redirect during the catch-up answered {status}")
                latencies.append((time.perf_counter() - sent) * 1000)
        time.sleep(1.0)
        lag_before_kill = _lag(running.base)
        running.kill()
    began = time.monotonic()
    with start(folder, server=server, core=core, port=port) as running:
        second = time.monotonic() - began
        began = time.monotonic()
        lag = _lag(running.base)
        for _ in range(int(plan.catch_up_limit * 2)):
            if lag == 0:
                break
            time.sleep(0.5)
            lag = _lag(running.base)
        caught_up = time.monotonic() - began
        began = time.monotonic()
        code = running.terminate(STOP_TIMEOUT)
        stopped = time.monotonic() - began
    return RestartResult(
        plan=plan,
        server=server,
        fill_seconds=loaded,
        first_ready_seconds=first,
        redirect_ms=tuple(latencies),
        lag_before_kill=lag_before_kill,
        second_ready_seconds=second,
        final_lag=lag,
        catch_up_seconds=caught_up,
        exit_code=code,
        stop_seconds=stopped,
    )
