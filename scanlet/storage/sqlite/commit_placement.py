"""Where a durable commit (``synchronous=full``) runs: on the event loop while the disk
syncs quickly, in a worker thread while it does not.

In a thread, the loop serves on during the fsync, but the thread then waits for the GIL to
finish the statement and hand the result back, for as long as the loop keeps it busy.
Measured here (fdatasync 0.11 ms median on this disk), the whole product under wrk with
``SCANLET_SYNCHRONOUS=full``: a group commit of about 32 scans took 1.43-1.59 ms in a
thread, and one of about 36 took 0.90-0.99 ms on the loop (its ``COMMIT`` 0.50-0.52 ms by
the median, 0.81-0.83 at the 90th percentile); the server answered 1.121-1.134 times the
redirects (three alternating pairs). A slow disk (an fsync of milliseconds, as on some
network volumes) would instead stall every request behind each commit. So every commit
made on the loop times its ``COMMIT`` (the WAL write and its fsync) into a running mean:
while that stays under ``INLINE_COMMIT_SECONDS`` commits stay on the loop; past it they go
to the thread, and one in ``PROBE_EVERY`` runs on the loop again to time the disk anew. One
stall of 16 times the limit moves them at once; the occasional slow commit among quick
ones does not.
"""

from __future__ import annotations

__all__ = ("INLINE_COMMIT_SECONDS", "PROBE_EVERY", "CommitPlacement")

#: The running mean of ``COMMIT`` times (fsync included) under which durable commits stay on
#: the loop: about what a redirect may wait behind each one.
INLINE_COMMIT_SECONDS = 0.001
#: While commits run in the thread, one in this many runs on the loop to time the disk again.
PROBE_EVERY = 64
#: How much each timed commit moves the running mean.
_WEIGHT = 1 / 16


class CommitPlacement:
    """Decides, commit by commit, whether a durable commit runs on the loop (``inline``),
    and learns from how long the ones that did took (``timed``)."""

    __slots__ = ("_mean", "_since_probe")

    def __init__(self) -> None:
        self._mean = 0.0
        self._since_probe = 0

    def inline(self) -> bool:
        """Whether the next durable commit runs on the loop."""
        if self._mean < INLINE_COMMIT_SECONDS:
            return True
        self._since_probe += 1
        if self._since_probe < PROBE_EVERY:
            return False
        self._since_probe = 0
        return True

    def timed(self, seconds: float) -> None:
        """A commit on the loop spent ``seconds`` in its ``COMMIT``."""
        self._mean += (seconds - self._mean) * _WEIGHT
