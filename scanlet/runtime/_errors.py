"""Exceptions raised by the actor runtime: one small tree rooted at `ActorError`."""

from __future__ import annotations

__all__ = (
    "ActorCrashed",
    "ActorError",
    "ActorNameTaken",
    "ActorNotFound",
    "ActorStopped",
    "AskTimeout",
    "MailboxFull",
    "SupervisionFailed",
)


class ActorError(Exception):
    """Base class of every error the runtime raises itself."""


class ActorStopped(ActorError):
    """Raised when a message is sent to an actor that is stopped or no longer takes messages."""

    def __init__(self, actor: str, detail: str = "is stopped") -> None:
        self.actor = actor
        super().__init__(f"actor {actor!r} {detail}")


class MailboxFull(ActorError):
    """Raised when a non-waiting send finds the actor's mailbox full."""

    def __init__(self, actor: str, capacity: int, retry_after: float = 1.0) -> None:
        self.actor = actor
        self.capacity = capacity
        self.retry_after = retry_after
        super().__init__(f"mailbox of actor {actor!r} is full ({capacity} messages)")


class AskTimeout(ActorError, TimeoutError):
    """Raised when an ask gets no reply within its deadline."""

    def __init__(self, actor: str, timeout: float) -> None:
        self.actor = actor
        self.timeout = timeout
        super().__init__(f"actor {actor!r} did not reply within {timeout:g} s")


class ActorCrashed(ActorError):
    """Raised to an asker when the actor failed on its message, or when the message was
    queued and the actor crashed for good.

    `__cause__` is the failure, where it is known.
    """

    def __init__(self, actor: str, detail: str = "crashed before replying") -> None:
        self.actor = actor
        super().__init__(f"actor {actor!r} {detail}")


class ActorNotFound(ActorError, KeyError):
    """Raised when no actor is registered under the name looked up."""

    def __init__(self, actor: str) -> None:
        self.actor = actor
        super().__init__(actor)

    def __str__(self) -> str:
        return f"no actor named {self.actor!r}"


class ActorNameTaken(ActorError, ValueError):
    """Raised when spawning an actor or supervisor under a name that is already in use."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"name {name!r} is already taken by a live actor or supervisor")


class SupervisionFailed(ActorError):
    """Raised (or recorded as `ActorSystem.failure`) when a supervisor exceeded its restart
    intensity and gave up; `__cause__` is the last child failure."""

    def __init__(self, supervisor: str, restarts: int, within: float) -> None:
        self.supervisor = supervisor
        super().__init__(
            f"supervisor {supervisor!r} gave up after {restarts} restarts within {within:g} s"
        )
