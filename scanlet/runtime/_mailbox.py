"""Bounded mailbox: a deque of envelopes plus one waiter future, and its counters.

Built for speed (see bench/runtime.py): one `collections.deque`, a single getter future for the
actor's task and a deque of putter futures for senders waiting for room. Control commands use a
separate unbounded lane that the receive loop checks before every user message. Metrics are
plain ints and bucket lists here, read by the Prometheus collector only at scrape time.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import enum
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic

from ._deadlines import Deadlines
from ._errors import ActorCrashed, ActorStopped, AskTimeout, MailboxFull
from ._metrics import LATENCY_BUCKETS
from ._types import MsgT

if TYPE_CHECKING:
    from opentelemetry.trace import SpanContext

    from ._deadletters import DeadLetters
    from ._trace import TraceContext

__all__ = ("Envelope", "Exit", "Lane", "Mailbox", "MailboxStatistics", "acting_cell", "expire_ask")

#: The cell whose task is running (None outside actors). During shutdown's drain phase only
#: actors may still send, so internal traffic can finish while outside intake is closed.
acting_cell: contextvars.ContextVar[object | None] = contextvars.ContextVar(
    "acting_cell", default=None
)


class Envelope(Generic[MsgT]):
    """One message in a mailbox with its sender's trace, enqueue time and reply slot."""

    # __slots__ keeps the per-message allocation to one small object (about 40% smaller and
    # measurably faster to build than a dict-backed instance).
    __slots__ = ("_attempts", "_future", "_span", "enqueued_at", "message", "trace")

    def __init__(
        self,
        message: MsgT,
        trace: TraceContext | None,
        future: asyncio.Future[Any] | None,
        enqueued_at: float,
    ) -> None:
        self.message = message
        self.trace = trace
        self.enqueued_at = enqueued_at
        self._future = future
        self._attempts = 0
        self._span: SpanContext | None = None

    @property
    def is_ask(self) -> bool:
        """True when a sender is waiting for a reply."""
        return self._future is not None

    def reply(self, value: Any) -> None:
        """Answer the asker with `value`; a no-op for tells and for askers that gave up."""
        fut = self._future
        if fut is not None and not fut.done():
            fut.set_result(value)

    def fail(self, exc: BaseException) -> None:
        """Raise `exc` in the asker; a no-op for tells and for askers that gave up."""
        fut = self._future
        if fut is not None and not fut.done():
            fut.set_exception(exc)

    def __repr__(self) -> str:
        kind = "ask" if self._future is not None else "tell"
        return f"Envelope({kind}, {self.message!r})"


@dataclass(frozen=True, slots=True)
class MailboxStatistics:
    """A snapshot of one actor's mailbox and counters."""

    depth: int
    capacity: int
    waiting_senders: int
    messages_handled: int
    failures: int
    refusals: int
    restarts: int
    dead_letters: int
    ask_timeouts: int


class Exit(enum.Enum):
    """Control commands, and how an incarnation ended when it did not fail."""

    HALTED = "halted"  # its supervisor stopped the instance; the mailbox is kept for a restart
    NORMAL = "normal"  # the actor called stop_self(): a normal exit, restarted if PERMANENT
    TERMINATED = "terminated"  # ref.stop() from the actor's own handler: stopped for good


class Lane(enum.Enum):
    """Who may put user messages into a mailbox."""

    OPEN = "open"
    DRAINING = "draining"  # shutdown phase 2: only actors (internal traffic) may still send
    CLOSED = "closed"


class Mailbox:
    """The bounded queue of one actor; it outlives restarts of the actor instance."""

    def __init__(
        self,
        name: str,
        capacity: int,
        dead_letters: DeadLetters,
        *,
        ask_timeout: float,
        otel: bool,
        deadlines: Deadlines | None = None,
    ) -> None:
        if capacity < 1:
            raise ValueError("mailbox capacity must be at least 1")
        self.name = name
        self.capacity = capacity
        self.ask_timeout = ask_timeout
        self.otel = otel
        self.deadlines = deadlines if deadlines is not None else Deadlines()
        self.queue: deque[Envelope[Any]] = deque()
        self.control: deque[Exit] = deque()
        self.getter: asyncio.Future[None] | None = None
        #: The event loop of the system this mailbox belongs to (set by the first ask).
        self.loop: asyncio.AbstractEventLoop | None = None
        self.putters: deque[asyncio.Future[None]] = deque()
        # `open` is the single flag the send fast path reads; `lane` holds the detail.
        self.open = True
        self.lane = Lane.OPEN
        self._dead = dead_letters
        self.handled = 0
        self.failures = 0
        self.refusals = 0
        self.restarts = 0
        self.dead_letters = 0
        self.ask_timeouts = 0
        self.wait_counts = [0] * (len(LATENCY_BUCKETS) + 1)
        self.wait_sum = 0.0
        self.handle_counts = [0] * (len(LATENCY_BUCKETS) + 1)
        self.handle_sum = 0.0

    # --- senders -------------------------------------------------------------------------

    def push(self, env: Envelope[Any]) -> None:
        """Append without checks (the caller checked room) and wake the actor if it waits."""
        self.queue.append(env)
        getter = self.getter
        if getter is not None:
            self.getter = None
            if not getter.done():
                getter.set_result(None)

    def push_checked(self, env: Envelope[Any]) -> None:
        """Slow path of a non-waiting send: closed, draining or full."""
        self.check_lane(env)
        if len(self.queue) >= self.capacity:
            raise MailboxFull(self.name, self.capacity)
        self.push(env)

    async def push_waiting(self, env: Envelope[Any]) -> None:
        """Slow path of a waiting send: wait for room (backpressure), then append."""
        self.check_lane(env)
        loop = asyncio.get_running_loop()
        while len(self.queue) >= self.capacity:
            putter: asyncio.Future[None] = loop.create_future()
            self.putters.append(putter)
            try:
                await putter
            except BaseException:
                # Cancelled while waiting: give up the slot, and if we were already woken pass
                # the wake-up on so the room is not lost to the other waiters. Re-raised below.
                if putter.done() and not putter.cancelled():
                    self.wake_putter()
                else:
                    with contextlib.suppress(ValueError):
                        self.putters.remove(putter)
                raise
            self.check_lane(env)
        self.push(env)

    def check_lane(self, env: Envelope[Any]) -> None:
        """Refuse `env` (as a counted dead letter) unless the mailbox accepts it now."""
        lane = self.lane
        if lane is Lane.OPEN or (lane is Lane.DRAINING and acting_cell.get() is not None):
            return
        reason = "shutdown" if lane is Lane.DRAINING else "stopped"
        self.dead_letter(env.message, reason)
        raise ActorStopped(self.name, "is stopped" if lane is Lane.CLOSED else "is shutting down")

    def wake_putter(self) -> None:
        """Wake the first sender still waiting for room."""
        putters = self.putters
        while putters:
            putter = putters.popleft()
            if not putter.done():
                putter.set_result(None)
                return

    # --- the actor's side ----------------------------------------------------------------

    def put_control(self, command: Exit) -> None:
        """Queue a control command; it is seen before the next user message."""
        self.control.append(command)
        getter = self.getter
        if getter is not None:
            self.getter = None
            if not getter.done():
                getter.set_result(None)

    def take(self, limit: int) -> list[Envelope[Any]]:
        """Pop up to `limit` queued envelopes whose senders still wait (group handling)."""
        out: list[Envelope[Any]] = []
        queue = self.queue
        while queue and len(out) < limit:
            env = queue.popleft()
            fut = env._future
            if fut is None or not fut.done():
                out.append(env)
        for _ in range(min(len(out), len(self.putters))):
            self.wake_putter()  # one waiting sender per slot freed
        return out

    # --- lifecycle -----------------------------------------------------------------------

    def begin_drain(self) -> None:
        """Shutdown phase 1: refuse senders outside actors, keep internal traffic flowing."""
        if self.lane is Lane.OPEN:
            self.open = False
            self.lane = Lane.DRAINING
            self._wake_all_putters()

    def close(self, reason: str, error: BaseException | None = None) -> int:
        """Refuse all senders and settle every queued message; returns how many were settled.

        Queued asks fail (ActorCrashed with `error` as cause if given, else ActorStopped);
        queued tells become dead letters with `reason`.
        """
        self.open = False
        self.lane = Lane.CLOSED
        self._wake_all_putters()
        settled = 0
        queue = self.queue
        while queue:
            self.settle(queue.popleft(), reason, error)
            settled += 1
        getter = self.getter
        if getter is not None and not getter.done():
            getter.set_result(None)
        return settled

    def settle(self, env: Envelope[Any], reason: str, error: BaseException | None) -> None:
        """Give up on one envelope: fail its asker or dead-letter the tell."""
        fut = env._future
        if fut is None:
            self.dead_letter(env.message, reason, error)
        elif not fut.done():
            exc: Exception
            if error is not None:
                exc = ActorCrashed(self.name)
                exc.__cause__ = error
            else:
                exc = ActorStopped(self.name)
            fut.set_exception(exc)

    def dead_letter(self, message: Any, reason: str, error: BaseException | None = None) -> None:
        """Record `message` as a dead letter of this actor."""
        self.dead_letters += 1
        self._dead.add(self.name, message, reason, error)

    def _wake_all_putters(self) -> None:
        while self.putters:
            putter = self.putters.popleft()
            if not putter.done():
                putter.set_result(None)

    def statistics(self) -> MailboxStatistics:
        """Snapshot depth, capacity, waiting senders and counters."""
        return MailboxStatistics(
            depth=len(self.queue),
            capacity=self.capacity,
            waiting_senders=sum(1 for p in self.putters if not p.done()),
            messages_handled=self.handled,
            failures=self.failures,
            refusals=self.refusals,
            restarts=self.restarts,
            dead_letters=self.dead_letters,
            ask_timeouts=self.ask_timeouts,
        )


def expire_ask(future: asyncio.Future[Any], mailbox: Mailbox, timeout: float) -> None:
    """Timer callback of an ask: fail it with AskTimeout unless it was answered."""
    if not future.done():
        mailbox.ask_timeouts += 1
        future.set_exception(AskTimeout(mailbox.name, timeout))
