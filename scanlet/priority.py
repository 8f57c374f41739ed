"""Background work yields the CPU to the server: a lower scheduling priority (``nice``).

An import beside a running server, and the server's own agent and projection workers, are
bulk work nobody waits for by the millisecond; redirects are. On one machine they share the
cores, and at equal priority the kernel shares them out evenly, so a redirect waited for its
turn behind them. Ten steps lower, the kernel gives a waiting server the core almost at once
and the background work what is left (with nothing else to run, it runs as fast as before).
Measured with ``bench/import.py`` (alternating runs, 2026-12-02): redirect p99 during a
Shlink import 13.4-14.0 ms at equal priority; 10.4 ms with the agent worker lowered, 9.9-10.0
with the import lowered, 8.0-8.4 with both (3.2 ms without an import).

A helper that holds no lock the server waits for (the agent worker) goes further, to Linux's
``SCHED_IDLE`` class. Merely nice, the server's write of a batch of agents to the worker's
pipe took 0.15-1.5 ms at the median and up to 7.6 ms (py-spy: 3 % of the loop during a
Shlink import in that ``write``), as if the woken worker took the core from it. A
``SCHED_IDLE`` process never preempts a normal one on waking: the server's own redirect p99
during that import was about 4.9-5.8 ms against 5.7-6.7 ms merely nice (alternating runs,
four undisturbed ones against five). Under a server that keeps its core busy, the worker
may answer late; past its deadline the loop parses the agents itself, as without a worker.
A lock holder must not (the import, the projection worker): the server would wait for its
commit while starving it.
"""

from __future__ import annotations

import contextlib
import os

__all__ = ("BACKGROUND_NICENESS", "idle_priority", "lower_priority")

#: How many steps background work lowers its priority (the largest niceness is 19).
BACKGROUND_NICENESS = 10


def lower_priority() -> None:
    """Lower this process's CPU priority by ``BACKGROUND_NICENESS`` steps (never raises:
    lowering is always allowed, and where ``nice`` does not exist nothing changes)."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(BACKGROUND_NICENESS)


def idle_priority() -> None:
    """``lower_priority``, and where Linux offers it, the ``SCHED_IDLE`` scheduling class:
    this process runs on a core only when nothing else of normal priority wants it, and
    never takes it from one on waking (never raises; elsewhere, only the niceness)."""
    lower_priority()
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
