"""``LogTail``: one reader of the log's newest events for every open stream in the process.

Each open stream used to read the log itself whenever a commit rang the doorbell: with 300
streams open, every group commit of the scan path cost 300 reads (and 300 hops to a reader
thread), and each of them encoded the same events again. The tail reads what is new once per
ring, keeps the newest events with their SSE frames already built, and wakes the streams;
a stream reads the log itself only to replay what the tail no longer holds (a resume by
``Last-Event-ID`` from long ago).

The log is only ever read, never taken from the bus: the doorbell says "read again". Seqs
are assigned in commit order by the one writer, so "everything after the head" is complete.

Waking the streams is the scan path's cost too: each woken stream sends on the loop that
answers redirects. Woken all at once, 300 streams held the loop about 20 ms after each
read of the tail, and a redirect that came meanwhile waited for all of them
(``bench/streams.py``). The tail wakes them ``WAKE_CHUNK`` at a time, one chunk for each
turn of the loop, so requests get in between the chunks.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections.abc import Callable

import anyio
import anyio.lowlevel
from anyio.abc import TaskStatus

from scanlet.actors.events import LogAppended
from scanlet.runtime import EventBus, SlowPolicy
from scanlet.storage.ports import EventLogReader
from scanlet.storage.records import StoredEvent

__all__ = ("WAKE_CHUNK", "LogTail", "TailEntry")

#: Streams woken at one turn of the loop.
WAKE_CHUNK = 16


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
    With no stream open it reads nothing, and wakes at most once a ``debounce``.
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
        #: Called once when the tail closes (a stream's send watchdog, to stop waiting on
        #: a client too slow to read).
        self._on_close: set[Callable[[], None]] = set()
        #: One future for each stream waiting, resolved when it is woken (each its own, so
        #: that they can be woken a chunk at a time).
        self._waiting: list[asyncio.Future[None]] = []
        #: Streams currently following the tail; none means nothing to read.
        self.followers = 0

    def entries_after(self, position: int) -> list[TailEntry] | None:
        """The held events past ``position`` (maybe none yet); None when the tail cannot
        tell (``position`` is older than what it holds): read the log instead."""
        if self._stale or position < self._covered_from:
            return None
        return self._entries[bisect_right(self._positions, position) :]

    async def wait_past(self, position: int, seconds: float) -> bool:
        """Wait until the head passes ``position``, the tail wakes its streams (after each
        read, and at least every ``poll`` seconds) or ``seconds`` pass: True (look
        again); False once the tail has closed."""
        if self._closed:
            return False
        if (not self._stale and self.head > position) or seconds <= 0:
            return True
        # A bare future and a timer rather than an anyio event in a cancel scope: anyio's
        # calls look the running library up each time, and with the scope's entry and exit
        # that was about half of what waking a stream cost (py-spy, 300 streams).
        loop = asyncio.get_running_loop()
        woken = loop.create_future()
        self._waiting.append(woken)
        timer = loop.call_later(seconds, _resolve, woken)
        try:
            await woken
        finally:
            timer.cancel()
        return not self._closed

    async def _wake(self) -> None:
        """Wake every waiting stream, ``WAKE_CHUNK`` at each turn of the loop."""
        waiting, self._waiting = self._waiting, []
        try:
            for start in range(0, len(waiting), WAKE_CHUNK):
                if start:
                    await anyio.lowlevel.checkpoint()
                for woken in waiting[start : start + WAKE_CHUNK]:
                    _resolve(woken)
        finally:
            # Cancelled between two chunks (the server stopping): the rest, at once.
            for woken in waiting:
                _resolve(woken)

    def _wake_all(self) -> None:
        waiting, self._waiting = self._waiting, []
        for woken in waiting:
            _resolve(woken)

    def close(self) -> None:
        """End every stream following the tail once it has caught up (``wait_past`` says
        False from now on), and any stream opened later as soon as it has. The server calls
        it when its drain starts: a stream otherwise lasts as long as its client, and held
        the drain until its timeout. Clients come back with ``Last-Event-ID`` and miss
        nothing."""
        self._closed = True
        self._wake_all()
        for callback in list(self._on_close):
            callback()

    def on_close(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` when the tail closes (at once if it has); returns what
        forgets it."""
        if self._closed:
            callback()
        self._on_close.add(callback)
        return lambda: self._on_close.discard(callback)

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
                    await self._wake()
                else:
                    # Nobody follows: forget rather than fall behind. The next follower makes
                    # the tail start again from the log's end, and reads anything older from
                    # the log itself.
                    self._stale = True
                # At most one read a ``debounce``, and with nobody following, one wake-up:
                # every group commit rings, about 500 a second under load, and each ring
                # that woke the tail to do nothing cost 6.6 us.
                await anyio.sleep(self._debounce)
        finally:
            doorbell.close()
            self.close()

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


def _resolve(woken: asyncio.Future[None]) -> None:
    """Wake the stream waiting on ``woken`` (unless its wait is over: woken by the other of
    its timer and the tail, or cancelled)."""
    if not woken.done():
        woken.set_result(None)
