"""Whether an import paces its commits: only while a server is using the same database.

Pacing (a pause after each commit as long as the commit took) leaves a server's commits the
database at least half the time, so its redirects keep their p99; with no server it would
only halve the import's rate. On SQLite paced commits are also shrunk to
``COMMIT_SECONDS``: a commit there holds the one write lock every scan waits for. A server
started in the middle of an import must be noticed, so the answer is asked again every
``CHECK_SECONDS`` (a cheap question: see ``scanlet.storage.serve_lock``), not once.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

__all__ = ("CHECK_SECONDS", "Pacing")

#: How long an answer of ``server_running`` holds before it is asked again.
CHECK_SECONDS = 1.0


class Pacing:
    """Asks ``server_running()`` whether a server uses the import's database, at most once
    every ``every`` seconds of ``clock``; ``checks`` counts the questions asked.

    ``fit_commits``: whether paced commits are shrunk to last ``COMMIT_SECONDS``. Where
    writers share one lock (SQLite) a commit's length is how long the server's scans wait.
    On PostgreSQL it is mostly the wait for the WAL's flush, which holds nobody up, and
    shrinking commits to fit it multiplied the flushes: 270-357 visits/s instead of
    1,760-2,125 with whole commits, for the same p99 (bench/import.py, two runs each).
    """

    def __init__(
        self,
        server_running: Callable[[], Awaitable[bool]],
        *,
        fit_commits: bool = True,
        every: float = CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._server_running = server_running
        self.fit_commits = fit_commits
        self._every = every
        self._clock = clock
        self._answer = False
        self._asked_at: float | None = None
        self.checks = 0

    @classmethod
    def always(cls, *, fit_commits: bool = True) -> Pacing:
        """Paced whatever runs (the safe default where nobody said)."""
        return cls(_answer(True), fit_commits=fit_commits)

    @classmethod
    def never(cls) -> Pacing:
        """Never paced (a database whose writers do not wait for an import's commits)."""
        return cls(_answer(False))

    async def needed(self) -> bool:
        """Whether the next commit is to be paced."""
        now = self._clock()
        if self._asked_at is None or now - self._asked_at >= self._every:
            self._answer = await self._server_running()
            self._asked_at = now
            self.checks += 1
        return self._answer


def _answer(value: bool) -> Callable[[], Awaitable[bool]]:
    async def answer() -> bool:
        return value

    return answer
