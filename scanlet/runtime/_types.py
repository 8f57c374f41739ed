"""Type aliases and small enums shared by the runtime modules."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ("ActorState", "Asks", "Clock", "MsgT", "RandomFn", "ReplyT")

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

    RESTARTING also covers the first start (on_start still running): "not running yet".
    """

    RUNNING = "running"
    RESTARTING = "restarting"
    STOPPED = "stopped"
    FAILED = "failed"
