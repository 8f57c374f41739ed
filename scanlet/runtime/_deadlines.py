"""Ask deadlines in batches: one timer per distinct timeout value, not one timer per ask.

Asks with the same timeout expire in the order they were sent, so each timeout value gets a
FIFO lane and a single timer for its oldest pending ask. Answered asks are pruned from the head
as new ones arrive (and the lane is compacted if an old, stuck ask keeps the head), so memory
stays proportional to the asks in flight. Measured on uvloop this makes an ask round trip about
20% cheaper than `loop.call_later` + `cancel` per ask (bench/runtime.py).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any

from ._errors import AskTimeout

if TYPE_CHECKING:
    from ._mailbox import Mailbox

__all__ = ("Deadlines",)

_COMPACT_MIN = 1024  # below this a lane is never compacted: pruning at the head suffices


class _Lane:
    """Pending asks sharing one timeout, oldest first, with one timer for the oldest."""

    __slots__ = ("_compact_at", "_owner", "entries", "loop", "timeout", "timer")

    def __init__(self, owner: Deadlines, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self._owner = owner
        self.loop = loop
        self.timeout = timeout
        self.entries: deque[tuple[float, asyncio.Future[Any], Mailbox]] = deque()
        self.timer: asyncio.TimerHandle | None = None
        self._compact_at = _COMPACT_MIN

    def add(self, future: asyncio.Future[Any], mailbox: Mailbox) -> None:
        entries = self.entries
        while entries and entries[0][1].done():
            entries.popleft()
        entries.append((self.loop.time() + self.timeout, future, mailbox))
        if len(entries) > self._compact_at:
            self._compact()
        if self.timer is None:
            self.timer = self.loop.call_at(entries[0][0], self._fire)

    def _compact(self) -> None:
        # A stuck ask at the head keeps answered ones behind it alive: drop those. Doubling
        # the threshold keeps this amortised O(1) per ask.
        self.entries = deque(e for e in self.entries if not e[1].done())
        self._compact_at = max(_COMPACT_MIN, 2 * len(self.entries))

    def _fire(self) -> None:
        self.timer = None
        now = self.loop.time()
        entries = self.entries
        while entries:
            deadline, future, mailbox = entries[0]
            if not future.done():
                if deadline > now:
                    break
                mailbox.ask_timeouts += 1
                future.set_exception(AskTimeout(mailbox.name, self.timeout))
            entries.popleft()
        if entries:
            self.timer = self.loop.call_at(entries[0][0], self._fire)
        else:
            self._owner._drop(self)


class Deadlines:
    """Fails asks with AskTimeout when their deadline passes (one per event loop/system)."""

    def __init__(self) -> None:
        self._lanes: dict[float, _Lane] = {}

    def add(self, timeout: float, future: asyncio.Future[Any], mailbox: Mailbox) -> None:
        """Fail `future` with AskTimeout after `timeout` seconds unless it is done by then."""
        lane = self._lanes.get(timeout)
        if lane is None:
            lane = self._lanes[timeout] = _Lane(self, future.get_loop(), timeout)
        lane.add(future, mailbox)

    def _drop(self, lane: _Lane) -> None:
        if self._lanes.get(lane.timeout) is lane:
            del self._lanes[lane.timeout]

    def close(self) -> None:
        """Cancel the timers (at system exit; pending asks were settled by the shutdown)."""
        for lane in self._lanes.values():
            if lane.timer is not None:
                lane.timer.cancel()
        self._lanes.clear()

    def pending(self) -> int:
        """Asks tracked and not yet answered (for tests)."""
        return sum(1 for lane in self._lanes.values() for e in lane.entries if not e[1].done())
