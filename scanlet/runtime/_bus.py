"""Typed in-process event bus: publish any object, subscribe by type, bounded per subscriber."""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections import deque
from types import TracebackType
from typing import Any

import anyio

__all__ = ("EventBus", "SlowPolicy", "Subscription")


class SlowPolicy(enum.Enum):
    """What a publisher does when a subscriber's buffer is full."""

    WAIT = "wait"  # `publish` waits for room (backpressure on the publisher)
    DROP = "drop"  # the event is dropped for that subscriber and counted


class Subscription:
    """A subscriber's bounded buffer: an async iterator and a (sync or async) context manager.

    Iteration ends once the subscription is closed and its buffer is empty.
    """

    def __init__(
        self, bus: EventBus, types: tuple[Any, ...], capacity: int, policy: SlowPolicy, name: str
    ) -> None:
        if capacity < 1:
            raise ValueError("subscription capacity must be at least 1")
        self.types = types
        self.capacity = capacity
        self.policy = policy
        self.name = name
        self.dropped = 0
        self.closed = False
        self._bus = bus
        self._buffer: deque[Any] = deque()
        self._getter: asyncio.Future[None] | None = None
        self._putters: deque[asyncio.Future[None]] = deque()

    def matches(self, event: object) -> bool:
        """True if `event` is an instance of any subscribed type (unions allowed)."""
        return isinstance(event, self.types)

    @property
    def depth(self) -> int:
        """Events buffered and not yet received."""
        return len(self._buffer)

    async def receive(self) -> Any:
        """Wait for the next event; anyio.EndOfStream once closed and drained."""
        while not self._buffer:
            if self.closed:
                raise anyio.EndOfStream
            getter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._getter = getter
            try:
                await getter
            finally:
                self._getter = None
        return self._pop()

    def receive_nowait(self) -> Any:
        """The next event without waiting: anyio.WouldBlock if none, EndOfStream if closed."""
        if self._buffer:
            return self._pop()
        if self.closed:
            raise anyio.EndOfStream
        raise anyio.WouldBlock

    def close(self) -> None:
        """Unsubscribe; buffered events can still be received, then iteration ends."""
        if self.closed:
            return
        self.closed = True
        self._bus._unsubscribe(self)
        self._wake_getter()
        while self._putters:
            putter = self._putters.popleft()
            if not putter.done():
                putter.set_result(None)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- the publisher's side -------------------------------------------------------------

    def _offer(self, event: object) -> bool:
        if len(self._buffer) >= self.capacity:
            return False
        self._buffer.append(event)
        self._wake_getter()
        return True

    async def _put_waiting(self, event: object) -> None:
        loop = asyncio.get_running_loop()
        while not self.closed and len(self._buffer) >= self.capacity:
            putter: asyncio.Future[None] = loop.create_future()
            self._putters.append(putter)
            try:
                await putter
            except BaseException:
                # Cancelled: pass on a wake-up we may have consumed, then re-raise.
                if putter.done() and not putter.cancelled():
                    self._wake_putter()
                else:
                    with contextlib.suppress(ValueError):
                        self._putters.remove(putter)
                raise
        if not self.closed:
            self._offer(event)

    def _pop(self) -> Any:
        event = self._buffer.popleft()
        if self._putters:
            self._wake_putter()
        return event

    def _wake_getter(self) -> None:
        getter = self._getter
        if getter is not None and not getter.done():
            getter.set_result(None)

    def _wake_putter(self) -> None:
        while self._putters:
            putter = self._putters.popleft()
            if not putter.done():
                putter.set_result(None)
                return

    def __repr__(self) -> str:
        return f"<Subscription {self.name} {self.policy.name} depth={self.depth}>"


class EventBus:
    """Fan-out of events to the subscriptions whose types match (isinstance)."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        # type(event) -> matching subscriptions; isinstance depends only on the type, so the
        # match is computed once per event type until the subscriptions change.
        self._routes: dict[type, tuple[Subscription, ...]] = {}
        self._dropped: dict[str, int] = {}

    def subscribe(
        self,
        *types: Any,
        capacity: int = 1024,
        policy: SlowPolicy = SlowPolicy.WAIT,
        name: str | None = None,
    ) -> Subscription:
        """Receive every published event that is an instance of one of `types`.

        `name` labels the subscriber in metrics (default: the type names joined by "|").
        """
        if not types:
            raise ValueError("subscribe() needs at least one event type")
        if name is None:
            name = "|".join(getattr(t, "__name__", repr(t)) for t in types)
        sub = Subscription(self, types, capacity, policy, name)
        self._subs.append(sub)
        self._routes.clear()
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        with contextlib.suppress(ValueError):
            self._subs.remove(sub)
        self._routes.clear()

    def _route(self, event: object) -> tuple[Subscription, ...]:
        kind = type(event)
        subs = self._routes.get(kind)
        if subs is None:
            subs = tuple(s for s in self._subs if s.matches(event))
            self._routes[kind] = subs
        return subs

    async def publish(self, event: object) -> None:
        """Deliver to every matching subscriber; waits for room at full WAIT subscribers."""
        for sub in self._route(event):
            if sub._offer(event):
                continue
            if sub.policy is SlowPolicy.DROP:
                self._drop(sub)
            else:
                await sub._put_waiting(event)

    def publish_nowait(self, event: object) -> None:
        """Deliver without waiting: a full subscriber loses the event (counted), WAIT or not."""
        for sub in self._route(event):
            if not sub._offer(event):
                self._drop(sub)

    def _drop(self, sub: Subscription) -> None:
        sub.dropped += 1
        self._dropped[sub.name] = self._dropped.get(sub.name, 0) + 1

    def dropped_by_subscriber(self) -> dict[str, int]:
        """Events dropped so far per subscriber name (closed subscribers included)."""
        return dict(self._dropped)

    def close(self) -> None:
        """Close every subscription (their iterators end once drained)."""
        for sub in list(self._subs):
            sub.close()
