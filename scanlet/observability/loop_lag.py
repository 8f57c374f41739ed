"""How late the event loop runs what is due: ``scanlet_event_loop_lag_seconds``.

Every redirect, API request and actor message of a server takes its turns on one event
loop, so whatever holds the loop (a long fold, a transaction run inline, a parse) delays all
of them by as much before they even start. A probe sleeps a short interval over and over and
records how much later than due it woke: sampled a hundred times a second, the histogram is
the wait a request arriving at a random moment would have had for the loop. A server whose
p99 rose while this did not has a cause outside the loop (another process on its core,
the disk, the clients).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
from prometheus_client import CollectorRegistry

from scanlet.observability.histogram import LoopHistogram

__all__ = ("LAG_BUCKETS", "PROBE_INTERVAL", "loop_lag_histogram", "watch_loop_lag")

#: Seconds between probes: each costs a timer and a wake-up (microseconds).
PROBE_INTERVAL = 0.01
#: Fine below 10 ms, where a redirect's p99 lives.
LAG_BUCKETS = (
    0.00025,
    0.0005,
    0.001,
    0.002,
    0.003,
    0.005,
    0.0075,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)


def loop_lag_histogram(registry: CollectorRegistry | None) -> LoopHistogram:
    """The ``scanlet_event_loop_lag_seconds`` histogram (one per process)."""
    return LoopHistogram(
        "scanlet_event_loop_lag_seconds",
        "How much later than due the event loop ran a timer, sampled every 10 ms.",
        [],
        buckets=LAG_BUCKETS,
        registry=registry,
    )


async def watch_loop_lag(
    observe: Callable[[float], None], *, interval: float = PROBE_INTERVAL
) -> None:
    """Record the loop's lag every ``interval`` seconds until cancelled (a background task)."""
    clock = time.perf_counter
    while True:
        due = clock() + interval
        await anyio.sleep(interval)
        observe(max(0.0, clock() - due))
