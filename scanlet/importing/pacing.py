"""Whether an import paces its commits: only while a server is using the same database.

Pacing (a pause after each commit as long as the commit took, commits shrunk to
``COMMIT_SECONDS``) leaves a server's group commits the write lock at least half the time,
so its redirects keep their p99; with no server it would only halve the import's rate. A
server started in the middle of an import must be noticed, so the answer is asked again
every ``CHECK_SECONDS`` (a cheap question: see ``scanlet.storage.serve_lock``), not once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ("CHECK_SECONDS", "Pacing")

#: How long an answer of ``server_running`` holds before it is asked again.
CHECK_SECONDS = 1.0


class Pacing:
    """Asks ``server_running()`` whether a server uses the import's database, at most once
    every ``every`` seconds of ``clock``; ``checks`` counts the questions asked."""

    def __init__(
        self,
        server_running: Callable[[], bool],
        *,
        every: float = CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._server_running = server_running
        self._every = every
        self._clock = clock
        self._answer = False
        self._asked_at: float | None = None
        self.checks = 0

    @classmethod
    def always(cls) -> Pacing:
        """Paced whatever runs (the safe default where nobody said)."""
        return cls(lambda: True)

    @classmethod
    def never(cls) -> Pacing:
        """Never paced (a database whose writers do not wait for an import's commits)."""
        return cls(lambda: False)

    def needed(self) -> bool:
        """Whether the next commit is to be paced."""
        now = self._clock()
        if self._asked_at is None or now - self._asked_at >= self._every:
            self._answer = self._server_running()
            self._asked_at = now
            self.checks += 1
        return self._answer
