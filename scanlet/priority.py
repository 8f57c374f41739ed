"""Background work yields the CPU to the server: a lower scheduling priority (``nice``).

An import beside a running server, and the server's own agent and projection workers, are
bulk work nobody waits for by the millisecond; redirects are. On one machine they share the
cores, and at equal priority the kernel shares them out evenly, so a redirect waited for its
turn behind them. Ten steps lower, the kernel gives a waiting server the core almost at once
and the background work what is left (with nothing else to run, it runs as fast as before).
Measured with ``bench/import.py`` (alternating runs, 2026-12-02): redirect p99 during a
Shlink import 13.4-14.0 ms at equal priority; 10.4 ms with the agent worker lowered, 9.9-10.0
with the import lowered, 8.0-8.4 with both (3.2 ms without an import).
"""

from __future__ import annotations

import contextlib
import os

__all__ = ("BACKGROUND_NICENESS", "lower_priority")

#: How many steps background work lowers its priority (the largest niceness is 19).
BACKGROUND_NICENESS = 10


def lower_priority() -> None:
    """Lower this process's CPU priority by ``BACKGROUND_NICENESS`` steps (never raises:
    lowering is always allowed, and where ``nice`` does not exist nothing changes)."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(BACKGROUND_NICENESS)
