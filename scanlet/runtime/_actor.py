"""The `Actor` base class: lifecycle hooks and the helpers a handler may call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Generic

from ._types import MsgT, StopReason

if TYPE_CHECKING:
    from ._cell import Cell
    from ._mailbox import Envelope
    from ._ref import ActorRef
    from ._system import ActorSystem

__all__ = ("Actor",)


class Actor(Generic[MsgT]):
    """Base class of every actor: subclass it and override `on_message`.

    One instance handles one message at a time in the actor's own task. A restart builds a new
    instance from the child spec's factory, so state never leaks from a failed instance.
    `ref` and `system` are set by the runtime before `on_start` runs.
    """

    ref: ActorRef[MsgT]
    system: ActorSystem
    _cell: Cell

    #: Exception types a handler raises to *refuse* one request rather than to fail: the asker
    #: gets the exception, a refused tell becomes a dead letter, and the actor carries on with
    #: the next message (no failure counted, no restart). For answers such as "that slug is
    #: taken" or "storage is unavailable", which are not the actor's bug.
    refuses: ClassVar[tuple[type[Exception], ...]] = ()

    async def on_start(self) -> None:
        """Run in the actor's task before any message; raising counts as a failure to start."""

    async def on_message(self, message: MsgT) -> Any:
        """Handle one message; the return value is the reply to an ask (ignored for tells).

        Raising one of `refuses` answers the asker with it and goes on. Raising anything else
        is a failure: an asker gets ActorCrashed caused by the exception, a tell is tried up
        to the child spec's `max_attempts` times (once by default: no retry), and the
        supervisor restarts the actor per its strategy.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement on_message")

    async def on_stop(self, reason: StopReason) -> None:
        """Run in the actor's task when it stops, ``reason`` saying why (a shutdown, a failure
        before a possible restart, ...); exceptions are logged, bounded by the spec's
        ``stop_timeout``."""

    def take_queued(self, limit: int) -> list[Envelope[MsgT]]:
        """Pop up to `limit` messages already queued, without waiting (group handling).

        The caller answers each with `envelope.reply(value)` or `envelope.fail(exc)` (no-ops for
        tells); they count as handled. If the current handler then raises, taken asks that were
        not answered get the exception and taken tells are retried like the current message.
        """
        return self._cell.take_queued(limit)

    def stop_self(self) -> None:
        """Finish after the current message: a normal exit, restarted only if PERMANENT."""
        self._cell.request_exit()
