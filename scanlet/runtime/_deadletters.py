"""Dead letters: messages no actor handled, counted, kept (last N) and logged at a bounded rate."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import structlog

from ._types import Clock

__all__ = ("DeadLetter", "DeadLetters")

_log = structlog.get_logger(__package__)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One message that was not handled: where it went, why, and the error if any.

    `reason` is one of "stopped" (sent to a stopped actor), "shutdown" (refused or left over
    during shutdown), "failed" (its handler kept failing), "crashed" (queued when the actor
    crashed for good), "interrupted" (its handler was cancelled).
    """

    actor: str
    message: Any
    reason: str
    error: BaseException | None
    at: float


class DeadLetters:
    """Counter and ring buffer of dead letters, with a rate-limited log line."""

    def __init__(
        self, keep: int = 100, *, log_interval: float = 1.0, clock: Clock = time.monotonic
    ) -> None:
        self._recent: deque[DeadLetter] = deque(maxlen=keep)
        self._log_interval = log_interval
        self._clock = clock
        self._last_log = -float("inf")
        self._suppressed = 0
        self.count = 0

    def add(self, actor: str, message: Any, reason: str, error: BaseException | None) -> None:
        """Record one dead letter; logs at most one line per `log_interval` seconds."""
        self.count += 1
        self._recent.append(DeadLetter(actor, message, reason, error, time.time()))
        now = self._clock()
        if now - self._last_log < self._log_interval:
            # A flood of dead letters must not become a flood of log lines: count instead.
            self._suppressed += 1
            return
        self._last_log = now
        suppressed, self._suppressed = self._suppressed, 0
        _log.warning(
            "dead_letter",
            actor=actor,
            reason=reason,
            message_type=type(message).__name__,
            error=repr(error) if error is not None else None,
            suppressed=suppressed,
            total=self.count,
        )

    def recent(self) -> list[DeadLetter]:
        """The last dead letters kept, oldest first."""
        return list(self._recent)
