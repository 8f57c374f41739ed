"""Type aliases and small enums shared by the runtime modules."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TypeVar

__all__ = ("ActorState", "Clock", "MsgT", "RandomFn")

#: The message type an actor accepts (`Actor[MsgT]`, `ActorRef[MsgT]`, `Envelope[MsgT]`).
MsgT = TypeVar("MsgT")

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
