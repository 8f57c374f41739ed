"""Type aliases and small enums shared by the runtime modules."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ("ActorState", "Asks", "Clock", "MsgT", "RandomFn", "ReplyT", "StopReason")

#: The message type an actor accepts (`Actor[MsgT]`, `ActorRef[MsgT]`, `Envelope[MsgT]`).
MsgT = TypeVar("MsgT")

#: The reply type of a message asked with `ActorRef.ask` (see `Asks`).
ReplyT = TypeVar("ReplyT")


class Asks(Generic[ReplyT]):
    """Mixin for a message that is asked and answered with a `ReplyT`.

    ``class CreateCode(msgspec.Struct, Asks[Code]): ...`` makes ``await ref.ask(CreateCode(...))``
    a ``Code`` to the type checker. It adds no field and no behaviour at run time.
    """

    __slots__ = ()


#: A monotonic clock in seconds, injectable for tests.
Clock = Callable[[], float]

#: A source of uniform floats in [0, 1), injectable to make backoff jitter deterministic.
RandomFn = Callable[[], float]


class ActorState(enum.StrEnum):
    """Lifecycle state of an actor as reported by `ActorSystem.health()`.

    STARTING: not running yet, whether for the first time (on_start still runs) or again
    (a restart is pending after a failure or a halt).
    """

    RUNNING = "running"
    STARTING = "starting"
    STOPPED = "stopped"
    FAILED = "failed"


class StopReason(enum.StrEnum):
    """Why an actor instance stops: the argument of `Actor.on_stop`."""

    SHUTDOWN = "shutdown"  # the system is shutting down; no restart follows
    FAILED = "failed"  # a handler raised; its supervisor decides whether to restart
    HALTED = "halted"  # its supervisor stopped it (to restart it or a sibling, or gave up)
    EXITED = "exited"  # it called stop_self(); restarted only if PERMANENT
    TERMINATED = "terminated"  # stopped for good with ref.stop() or by a temporary exit
