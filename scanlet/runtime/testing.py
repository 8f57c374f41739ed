"""Test kit: run a system inside a test, probe what actors were sent and what was published.

async with running_system() as system:
    probe = await spawn_probe(system, "audit")
    ...
    await system.wait_idle()
    assert probe.messages == [...]
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any

import anyio
from prometheus_client import CollectorRegistry

from ._actor import Actor
from ._bus import EventBus, SlowPolicy, Subscription
from ._supervisor import ChildSpec
from ._system import ActorSystem
from ._trace import TraceContext, current_trace

__all__ = ("BusProbe", "Probe", "running_system", "spawn_probe")


@asynccontextmanager
async def running_system(
    *, registry: CollectorRegistry | None = None, **kwargs: Any
) -> AsyncIterator[ActorSystem]:
    """Run an ActorSystem for the block, with a fresh metrics registry unless one is given."""
    system = ActorSystem(
        registry=registry if registry is not None else CollectorRegistry(), **kwargs
    )
    async with system:
        yield system


class Probe(Actor[Any]):
    """An actor that records every message (and the trace it arrived with).

    `reply` computes the answer to asks from the message (default: None).
    """

    def __init__(self, reply: Callable[[Any], Any] | None = None) -> None:
        self.messages: list[Any] = []
        self.traces: list[TraceContext | None] = []
        self._reply = reply
        self._waiters: list[tuple[int, anyio.Event]] = []

    async def on_message(self, message: Any) -> Any:
        """Record the message, wake waiters, answer with `reply(message)`."""
        self.messages.append(message)
        self.traces.append(current_trace.get())
        count = len(self.messages)
        for entry in [w for w in self._waiters if w[0] <= count]:
            self._waiters.remove(entry)
            entry[1].set()
        return self._reply(message) if self._reply is not None else None

    # A test helper must fail rather than hang when the count never comes: built-in deadline.
    async def wait_for(self, count: int, *, timeout: float = 5.0) -> list[Any]:  # noqa: ASYNC109
        """Wait until at least `count` messages arrived; returns the first `count`."""
        if len(self.messages) < count:
            event = anyio.Event()
            self._waiters.append((count, event))
            with anyio.fail_after(timeout):
                await event.wait()
        return self.messages[:count]


async def spawn_probe(
    system: ActorSystem,
    name: str,
    *,
    reply: Callable[[Any], Any] | None = None,
    capacity: int = 1024,
) -> Probe:
    """Spawn a Probe under `name` (the same instance survives restarts); `probe.ref` reaches it."""
    probe = Probe(reply)
    await system.spawn(ChildSpec(name, lambda: probe, mailbox_capacity=capacity))
    return probe


class BusProbe:
    """Collects every published event of the given types (a subscription read on demand)."""

    def __init__(self, bus: EventBus, *types: Any, capacity: int = 10_000) -> None:
        self._sub: Subscription = bus.subscribe(
            *types, capacity=capacity, policy=SlowPolicy.DROP, name="bus-probe"
        )
        self._events: list[Any] = []

    @property
    def events(self) -> list[Any]:
        """Every matching event published so far, in order."""
        self._pull()
        return list(self._events)

    @property
    def dropped(self) -> int:
        """Events lost because the probe's buffer was full."""
        return self._sub.dropped

    # A test helper must fail rather than hang when the count never comes: built-in deadline.
    async def wait_for(self, count: int, *, timeout: float = 5.0) -> list[Any]:  # noqa: ASYNC109
        """Wait until at least `count` events arrived; returns the first `count`."""
        self._pull()
        with anyio.fail_after(timeout):
            while len(self._events) < count:
                self._events.append(await self._sub.receive())
        return self._events[:count]

    def _pull(self) -> None:
        while self._sub.depth:
            self._events.append(self._sub.receive_nowait())

    def close(self) -> None:
        """Stop collecting."""
        self._sub.close()

    def __enter__(self) -> BusProbe:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
