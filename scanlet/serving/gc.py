"""Garbage-collector settings for a long-running server process."""

from __future__ import annotations

import gc

__all__ = ("settle_garbage_collector",)

# Generation 0 collects after 10,000 new objects instead of 700: a request's objects die by
# reference counting long before that, so far fewer survive into older generations. Measured
# at 64 connections on the scan path: 2,400 young and 20 full collections in 6 s became 88
# and 1, p99 latency 9.8 -> 5.0 ms, throughput +7 %.
_GC_THRESHOLDS = (10_000, 10, 10)


def settle_garbage_collector() -> None:
    """Move everything alive after start-up out of the collector's reach.

    Measured under redirect load: CPython's full (generation 2) collections walked every
    object the imports created, 14 of them in 6 s at about 20 ms each, stalling whole group
    commits and setting the p99 latency. Frozen objects are never scanned again (they are
    modules, classes and tables that live as long as the process), so a full collection
    then walks only what the requests made (p99 20.5 -> 9.2 ms).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)
