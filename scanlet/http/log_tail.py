"""``LogTail``: one reader of the log's newest events for every open stream in the process.

Each open stream used to read the log itself whenever a commit rang the doorbell: with 300
streams open, every group commit of the scan path cost 300 reads (and 300 hops to a reader
thread), and each of them encoded the same events again. The tail reads what is new once per
ring, keeps the newest events with their SSE frames already built, and wakes the streams;
a stream reads the log itself only to replay what the tail no longer holds (a resume by
``Last-Event-ID`` from long ago).

The log is only ever read, never taken from the bus: the doorbell says "read again". Seqs
are assigned in commit order by the one writer, so "everything after the head" is complete.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

import anyio
from anyio.abc import TaskStatus

from scanlet.actors.events import LogAppended
from scanlet.runtime import EventBus, SlowPolicy
from scanlet.storage.ports import EventLogReader
from scanlet.storage.records import StoredEvent

__all__ = ("LogTail", "TailEntry")


class TailEntry:
    """One committed event as streams need it: where it is, what it is, its frame."""

    __slots__ = ("frame", "position", "slug", "type")

    def __init__(self, position: int, type_: str, slug: str | None, frame: bytes) -> None:
        self.position = position
        self.type = type_
        self.slug = slug
        self.frame = frame


class LogTail:
    """Keeps the newest ``keep`` events of the log in memory while streams are open.

    ``frame`` turns a stored event into its SSE message (built once, shared by every stream).
    With no stream open it reads nothing: the scan path's commits then cost it one ring each.
    """

    def __init__(
        self,
        log: EventLogReader,
        bus: EventBus,
        frame: Callable[[StoredEvent], bytes],
        *,
        keep: int = 2048,
        batch: int = 500,
        poll: float = 1.0,
        debounce: float = 0.02,
    ) -> None:
        self._log = log
        self._bus = bus
        self._frame = frame
        self._keep = keep
        self._batch = batch
        self._poll = poll
        self._debounce = debounce
        self._entries: list[TailEntry] = []
        self._positions: list[int] = []
        #: Every event past this position, up to ``head``, is in ``_entries`` (unless stale).
        self._covered_from = 0
        self.head = 0
        self._stale = True
        self._closed = False
        self._changed = anyio.Event()
        #: Streams currently following the tail; none means nothing to read.
        self.followers = 0

    def entries_after(self, position: int) -> list[TailEntry] | None:
        """The held events past ``position`` (maybe none yet); None when the tail cannot
        tell (``position`` is older than what it holds): read the log instead."""
        if self._stale or position < self._covered_from:
            return None
        return self._entries[bisect_right(self._positions, position) :]

    async def wait_past(self, position: int) -> bool:
        """Wait until the head passes ``position`` (True) or the tail closes (False)."""
        while not self._closed:
            if not self._stale and self.head > position:
                return True
            await self._changed.wait()
        return False

    def _notify(self) -> None:
        changed, self._changed = self._changed, anyio.Event()
        changed.set()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Follow the doorbell (and poll, for commits of other processes) until the bus closes."""
        doorbell = self._bus.subscribe(LogAppended, capacity=1, policy=SlowPolicy.DROP, name="tail")
        task_status.started()
        try:
            while True:
                with anyio.move_on_after(self._poll):
                    try:
                        await doorbell.receive()
                    except anyio.EndOfStream:
                        return
                if self.followers:
                    await self._read()
                    self._notify()
                    await anyio.sleep(self._debounce)
                else:
                    # Nobody follows: forget rather than fall behind. The next follower makes
                    # the tail start again from the log's end, and reads anything older from
                    # the log itself.
                    self._stale = True
        finally:
            doorbell.close()
            self._closed = True
            self._notify()

    async def _read(self) -> None:
        if self._stale:
            self.head = self._covered_from = await self._log.last_position()
            self._entries.clear()
            self._positions.clear()
            self._stale = False
        while True:
            events = await self._log.read_after(self.head, self._batch)
            for event in events:
                self._entries.append(
                    TailEntry(event.position, event.type, event.slug, self._frame(event))
                )
                self._positions.append(event.position)
            if events:
                self.head = events[-1].position
            overflow = len(self._entries) - self._keep
            if overflow > 0:
                self._covered_from = self._positions[overflow - 1]
                del self._entries[:overflow]
                del self._positions[:overflow]
            if len(events) < self._batch:
                return
