"""Waking delivery workers: by name now (``ring``) or after a delay (``WakeTimer``).

Workers sleep between retries without holding a handler open: a worker whose next delivery
is not due yet asks the timer to wake it and returns, so shutdown never waits for a retry.
"""

from __future__ import annotations

import contextlib
import heapq
import math
import time
from collections.abc import Callable

import anyio

from scanlet.runtime import ActorNotFound, ActorStopped, ActorSystem, MailboxFull

__all__ = ("WAKE", "Wake", "WakeTimer", "ring", "worker_name")


class Wake:
    """Tell a delivery worker to look at its endpoint's outbox."""

    __slots__ = ()


WAKE = Wake()


def worker_name(endpoint_id: str) -> str:
    """The registered name of an endpoint's delivery worker."""
    return f"webhook-{endpoint_id}"


def ring(system: ActorSystem, name: str) -> None:
    """Wake the worker ``name`` if it runs; a full mailbox already holds a wake-up."""
    with contextlib.suppress(ActorNotFound, ActorStopped, MailboxFull):
        system.lookup(name).tell_nowait(WAKE)


class WakeTimer:
    """Wakes workers at chosen times; ``run`` is a background task of the feature."""

    def __init__(self, system: ActorSystem, clock: Callable[[], float] = time.monotonic) -> None:
        self._system = system
        self._clock = clock
        self._due: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._changed = anyio.Event()

    def wake_in(self, name: str, delay: float) -> None:
        """Wake ``name`` after ``delay`` seconds (an earlier pending wake-up wins)."""
        due = self._clock() + max(0.0, delay)
        current = self._due.get(name)
        if current is not None and current <= due:
            return
        self._due[name] = due
        heapq.heappush(self._heap, (due, name))
        self._changed.set()

    def pending(self) -> dict[str, float]:
        """Name -> seconds until its wake-up (for tests and inspection)."""
        now = self._clock()
        return {name: due - now for name, due in self._due.items()}

    async def run(self) -> None:
        """Ring each worker when its time comes, until cancelled."""
        while True:
            now = self._clock()
            while self._heap and self._heap[0][0] <= now:
                due, name = heapq.heappop(self._heap)
                if self._due.get(name) == due:
                    del self._due[name]
                    ring(self._system, name)
            self._changed = anyio.Event()
            wait = self._heap[0][0] - now if self._heap else math.inf
            with anyio.move_on_after(wait):
                await self._changed.wait()
