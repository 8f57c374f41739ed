"""`ActorRef`: the only way to reach an actor (tell, ask, statistics, stop)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Generic, overload

import anyio

from ._errors import AskTimeout
from ._mailbox import Envelope, Lane, MailboxStatistics, expire_ask
from ._trace import capture_span_context, current_trace
from ._types import Asks, MsgT, ReplyT

if TYPE_CHECKING:
    from ._cell import Cell

__all__ = ("ActorRef",)

# Module-level aliases: the send paths run per message, and a global lookup of a bound C
# function is cheaper than two attribute lookups on a module.
_perf = time.perf_counter
_trace_get = current_trace.get
_running_loop = asyncio.get_running_loop


class ActorRef(Generic[MsgT]):
    """Address of one actor; stays valid across restarts (the mailbox outlives instances)."""

    __slots__ = ("_cell", "_mailbox", "name")

    def __init__(self, cell: Cell) -> None:
        self.name = cell.name
        self._cell = cell
        self._mailbox = cell.mailbox

    def tell_nowait(self, message: MsgT) -> None:
        """Send one way without waiting: MailboxFull if full, ActorStopped if stopped."""
        mb = self._mailbox
        env = Envelope(message, _trace_get(), None, _perf())
        if mb.otel:
            env._span = capture_span_context()
        if mb.open and len(mb.queue) < mb.capacity:
            mb.push(env)
        else:
            mb.push_checked(env)

    async def tell(self, message: MsgT) -> None:
        """Send one way, waiting for room when the mailbox is full (backpressure)."""
        mb = self._mailbox
        env = Envelope(message, _trace_get(), None, _perf())
        if mb.otel:
            env._span = capture_span_context()
        if mb.open and len(mb.queue) < mb.capacity:
            mb.push(env)
        else:
            await mb.push_waiting(env)

    @overload
    async def ask(
        self,
        message: Asks[ReplyT],
        *,
        timeout: float | None = None,  # noqa: ASYNC109
        wait: bool = True,
    ) -> ReplyT: ...

    @overload
    async def ask(
        self,
        message: MsgT,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
        wait: bool = True,
    ) -> Any: ...

    # The per-call timeout is the spec's contract (an ask always has a finite deadline), so
    # it is a parameter rather than the caller's cancel scope.
    async def ask(
        self,
        message: Any,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
        wait: bool = True,
    ) -> Any:
        """Send and wait for the reply (the handler's return value or its exception).

        A message that mixes in `Asks[R]` is typed to reply an `R`.

        `timeout` None means the system's default; it covers waiting for room as well.
        `wait=False` raises MailboxFull at once instead of waiting for room. AskTimeout when
        the deadline passes; the handler then skips the message if it has not started it.
        """
        mb = self._mailbox
        if timeout is None:
            timeout = mb.ask_timeout
        loop = mb.loop
        if loop is None:
            # Once per mailbox: asyncio.get_running_loop makes a getpid() system call every
            # time on Python 3.11, and a mailbox lives on its system's loop.
            loop = mb.loop = _running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        env = Envelope(message, _trace_get(), future, _perf())
        if mb.otel:
            env._span = capture_span_context()
        if mb.open and len(mb.queue) < mb.capacity:
            mb.push(env)
            # Batched deadline: no per-ask timer to create and cancel (see _deadlines.py).
            mb.deadlines.add(timeout, future, mb)
            return await future
        if not wait:
            mb.push_checked(env)
            mb.deadlines.add(timeout, future, mb)
            return await future
        # Slow path, waiting for room: the deadline covers the wait too.
        started = loop.time()
        try:
            with anyio.fail_after(timeout):
                await mb.push_waiting(env)
        except TimeoutError:
            mb.ask_timeouts += 1
            raise AskTimeout(self.name, timeout) from None
        remaining = timeout - (loop.time() - started)
        timer = loop.call_later(remaining, expire_ask, future, mb, timeout)
        try:
            return await future
        finally:
            timer.cancel()

    def statistics(self) -> MailboxStatistics:
        """Depth, capacity, waiting senders and the actor's counters."""
        return self._mailbox.statistics()

    @property
    def is_alive(self) -> bool:
        """True until the actor stopped for good (restarting and draining actors are alive)."""
        return self._mailbox.lane is not Lane.CLOSED

    async def stop(self) -> None:
        """Stop the actor for good (never restarted): queued tells become dead letters and
        queued asks fail with ActorStopped. From the actor's own handler it returns at once and
        the actor stops after the current message."""
        await self._cell.terminate()

    def __repr__(self) -> str:
        return f"<ActorRef {self.name}>"
