"""Following the event log: apply committed events in order, exactly once, resumable.

A follower (a read model, the webhook outbox) reads the log from its stored position in
batches and applies each batch in one write transaction together with the new position, so
after a crash it resumes exactly where its last commit left it. It is woken by the
``LogAppended`` doorbell that writers publish after each commit (the log is the truth; the
bus only rings) and by a slow
timer, which also covers events written by another process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import anyio
import anyio.lowlevel
import structlog
from anyio.abc import TaskGroup

from scanlet.actors.events import LogAppended
from scanlet.runtime import (
    Actor,
    ActorRef,
    ActorStopped,
    EventBus,
    MailboxFull,
    SlowPolicy,
    StopReason,
)
from scanlet.storage.errors import StorageUnavailable
from scanlet.storage.ports import EventLogReader, FollowerPositions, PositionMoved
from scanlet.storage.records import StoredEvent

__all__ = ("CATCH_UP", "CatchUp", "LogFollower", "start_doorbell")

log = structlog.get_logger("scanlet.follower")


class CatchUp:
    """Tell a follower to apply everything committed since its position."""

    __slots__ = ()


CATCH_UP = CatchUp()


class LogFollower(Actor[CatchUp]):
    """Base of log followers: subclasses implement ``commit`` (and may narrow ``types``)."""

    #: The key of this follower's position; also its name in logs.
    position_name: str = "follower"
    #: Event types this follower needs (None: every type). The position still advances past
    #: the others, so a follower never re-reads what it skipped.
    types: Sequence[str] | None = None
    batch_size: int = 500
    #: Batches one message applies before the follower re-queues its catch-up: a long
    #: backlog (a restart behind a million events) then yields to a stop between slices,
    #: and subclasses can report progress (the lag gauge) as it shrinks.
    batches_per_message: int = 20

    def __init__(self, log: EventLogReader, positions: FollowerPositions) -> None:
        self.log_reader = log
        self.positions = positions
        self.position = 0
        #: Whether the last message stopped at the end of its slice with more to apply.
        self.more = False

    async def on_start(self) -> None:
        """Load the stored position and catch up."""
        self.position = await self.positions.load(self.position_name)
        # After a restart the mailbox (it outlives the instance) may already hold the
        # doorbell's catch-ups: one of them does the job. Raising here failed the start, and
        # every retry failed alike until the root supervisor gave up.
        with contextlib.suppress(MailboxFull):
            self.ref.tell_nowait(CATCH_UP)

    async def on_stop(self, reason: StopReason) -> None:
        """On shutdown, apply what the last commits appended (their doorbell may not have
        rung yet), so a clean stop leaves the read model at the log's end. At most one slice
        (``batches_per_message``): a longer backlog is applied on the next start."""
        if reason is StopReason.SHUTDOWN:
            await self.on_message(CATCH_UP)

    async def on_message(self, message: CatchUp) -> int:
        """Apply committed events past the position, one slice; returns the new position.

        When another follower of the same name moved the stored position meanwhile (a
        ``scanlet rebuild``, or another instance during a hand-over of leadership), nothing
        was committed: carry on from where it is."""
        while True:
            try:
                return await self._apply_slice()
            except PositionMoved:
                log.info("position moved by another writer; reloading", name=self.position_name)
                self.position = await self.positions.load(self.position_name)

    async def _apply_slice(self) -> int:
        self.more = False
        if await self.may_skip() and await self._skip_to_end():
            return self.position
        for _ in range(self.batches_per_message):
            events = await self.log_reader.read_after(self.position, self.batch_size)
            if not events:
                return self.position
            last = events[-1].position
            wanted = [e for e in events if self.types is None or e.type in self.types]
            try:
                await self.commit(wanted, last)
            except StorageUnavailable:
                # Nothing was applied (the transaction rolled back) and restarting would not
                # help: stay at the position and try again at the next doorbell or tick.
                return self.position
            self.position = last
            await self.applied(wanted)
            if len(events) < self.batch_size:
                return self.position
            # Each batch runs inline on the loop: let waiting requests (redirects) in
            # between batches, so a catch-up stalls them for one batch, not for a slice.
            await anyio.lowlevel.checkpoint()
        self.more_to_apply()
        return self.position

    def more_to_apply(self) -> None:
        """A slice stopped with more to apply: set ``more`` and queue the next slice behind
        whatever else arrived (a stop, during shutdown, comes first; a full mailbox already
        holds a catch-up). Used outside a system (``scanlet rebuild``), the caller loops
        while ``more`` instead."""
        self.more = True
        system = getattr(self, "system", None)
        if system is not None and not system.shutting_down:
            with contextlib.suppress(MailboxFull, ActorStopped):
                self.ref.tell_nowait(CATCH_UP)

    async def _skip_to_end(self) -> bool:
        """Move the position to the log's end without reading the events, if ``skip``
        agrees in the transaction that saves it; False if it does not (read them)."""
        last = await self.log_reader.last_position()
        if last <= self.position:
            return True
        try:
            skipped = await self.skip(last)
        except StorageUnavailable:
            return True  # nothing moved: try again at the next doorbell or tick
        if skipped:
            self.position = last
        return skipped

    async def may_skip(self) -> bool:
        """Whether the events past the position may need no work at all (a cheap check
        before reading them); ``skip`` confirms it in the transaction that moves the
        position. Default: never."""
        return False

    async def skip(self, last: int) -> bool:
        """Move the stored position from ``self.position`` to ``last`` if applying the
        events up to it would change nothing else, decided in the same transaction; whether
        it did (``PositionMoved`` if the stored position was not ``self.position``).
        Default: never."""
        return False

    async def commit(self, events: list[StoredEvent], last: int) -> None:
        """Apply ``events`` (in log order, maybe none) and move the stored position from
        ``self.position`` to ``last``, in one transaction, through the follower's own
        storage port (``PositionMoved``, nothing applied, if it was not at
        ``self.position``)."""
        raise NotImplementedError

    async def applied(self, events: list[StoredEvent]) -> None:
        """Called after a batch is committed (e.g. to wake delivery workers); default: no-op."""


def start_doorbell(
    tasks: TaskGroup,
    ref: ActorRef[CatchUp],
    bus: EventBus,
    interval: float = 1.0,
    debounce: float = 0.05,
) -> None:
    """Wake ``ref`` whenever a domain event is published, and every ``interval`` seconds.

    Give the follower a small mailbox (2 is plenty): a full one means a catch-up is queued.
    """
    subscription = bus.subscribe(
        LogAppended, capacity=1, policy=SlowPolicy.DROP, name=f"doorbell-{ref.name}"
    )

    def ring() -> bool:
        try:
            ref.tell_nowait(CATCH_UP)
        except MailboxFull:
            pass  # a catch-up is already queued: it will see this event too
        except ActorStopped:
            return False
        return True

    async def on_publish() -> None:
        async for _ in subscription:
            if not ring():
                return
            # At most one catch-up per ``debounce`` seconds: under load the follower then
            # applies large batches (its per-batch costs amortised) instead of one per scan
            # commit, and the scan path keeps the loop. A ring that arrives meanwhile waits in
            # the one-slot subscription and is answered after the pause.
            await anyio.sleep(debounce)

    async def on_timer() -> None:
        # Also catches events committed by another process (they are never published here).
        while True:
            await anyio.sleep(interval)
            if not ring():
                return

    tasks.start_soon(on_publish)
    tasks.start_soon(on_timer)
