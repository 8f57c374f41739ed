"""The event loop's thread comes first on the server's CPU: granian's threads run as
``SCHED_BATCH``.

Granian's Rust threads read requests and write responses; each response the loop hands
over wakes one of them, and Linux lets a woken thread preempt the one running. On a busy
core that preempted the loop every few requests (0.18 involuntary switches a request on
the loop's thread under wrk, the server pinned to one core), each switch costing the loop
its caches. A ``SCHED_BATCH`` thread never preempts on waking: it runs when the loop waits
for work, at the end of the loop's time slice, or on another idle CPU at once, so on a
machine with CPUs to spare nothing changes.

Python's own threads (database readers, checkpoints) keep the default policy: much of their
work runs in C without the GIL, and a checkpoint that writes are held for should not wait
for a busy loop's time slices. (Measured, it made no difference either way beyond the
noise: ``bench/import.py``'s ingest phase held writes 10.6-17.0 ms a second with every
thread but the loop's batched, with only granian's, and with none, two runs each.) Every
thread of the process that Python did not start is granian's (or another library's native
pool).

Linux only, and only for ``scanlet serve``: threads are found in ``/proc/self/task``, and
looked for again every few seconds, since the servers' pools start threads when they need
them. Where the call is refused or unknown, nothing changes.
"""

from __future__ import annotations

import contextlib
import os
import threading

import anyio

__all__ = ("BATCH_EVERY", "batch_other_threads", "keep_other_threads_batched")

#: Seconds between looks for threads started since the last one.
BATCH_EVERY = 2.0

_TASKS = "/proc/self/task"


def batch_other_threads(keep: int, done: set[int]) -> set[int]:
    """Make every thread of this process that Python did not start, but ``keep`` (a native
    thread id) and those in ``done``, run as SCHED_BATCH; the threads alive now, ``keep``
    and Python's aside (the next ``done``).

    A thread that ended meanwhile, or that the kernel will not change, is left as it is."""
    policy = getattr(os, "SCHED_BATCH", None)
    if policy is None:
        return done
    try:
        alive = {int(name) for name in os.listdir(_TASKS)}
    except OSError:
        return done
    alive.discard(keep)
    alive -= {thread.native_id for thread in threading.enumerate()}
    for tid in alive - done:
        # One that ended since the listing, or that may not be changed, keeps its policy.
        with contextlib.suppress(OSError):
            os.sched_setscheduler(tid, policy, os.sched_param(0))
    return alive


async def keep_other_threads_batched(every: float = BATCH_EVERY) -> None:
    """Run on the loop's thread until cancelled: ``batch_other_threads`` now and then
    every ``every`` seconds."""
    keep = threading.get_native_id()
    done: set[int] = set()
    while True:
        done = batch_other_threads(keep, done)
        await anyio.sleep(every)
