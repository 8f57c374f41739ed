"""Typed event bus: subscribe by type, bounded buffers, WAIT and DROP slow-subscriber policies."""

from __future__ import annotations

import anyio
import msgspec
import pytest
from anyio import wait_all_tasks_blocked

from scanlet.runtime import EventBus, SlowPolicy


class Scanned(msgspec.Struct, frozen=True):
    code: str


class CodeEvent(msgspec.Struct, frozen=True):
    code: str


class CodeCreated(CodeEvent, frozen=True):
    pass


class CodeDeleted(CodeEvent, frozen=True):
    pass


async def test_subscribers_get_only_the_types_they_asked_for() -> None:
    bus = EventBus()
    scans = bus.subscribe(Scanned)
    codes = bus.subscribe(CodeEvent)  # a base class matches its subclasses
    created = bus.subscribe(CodeCreated | Scanned)  # a union works too
    await bus.publish(Scanned("a"))
    await bus.publish(CodeCreated("b"))
    bus.publish_nowait(CodeDeleted("c"))
    await bus.publish("not an event anyone wants")
    assert [scans.receive_nowait()] == [Scanned("a")]
    assert [codes.receive_nowait(), codes.receive_nowait()] == [
        CodeCreated("b"),
        CodeDeleted("c"),
    ]
    assert [created.receive_nowait(), created.receive_nowait()] == [
        Scanned("a"),
        CodeCreated("b"),
    ]
    with pytest.raises(anyio.WouldBlock):
        scans.receive_nowait()


async def test_a_subscription_is_an_async_iterator_that_ends_when_closed() -> None:
    bus = EventBus()
    with bus.subscribe(Scanned) as sub:
        for code in "xyz":
            await bus.publish(Scanned(code))
        sub.close()
        assert [event.code async for event in sub] == ["x", "y", "z"]
    with pytest.raises(anyio.EndOfStream):
        await sub.receive()
    await bus.publish(Scanned("after close"))  # nobody listens: fine


async def test_receive_waits_for_the_next_event() -> None:
    bus = EventBus()
    sub = bus.subscribe(Scanned)
    got: list[Scanned] = []
    async with anyio.create_task_group() as tg:

        async def consume() -> None:
            got.append(await sub.receive())

        tg.start_soon(consume)
        await wait_all_tasks_blocked()
        await bus.publish(Scanned("q"))
    assert got == [Scanned("q")]


async def test_wait_policy_backpressures_the_publisher() -> None:
    bus = EventBus()
    sub = bus.subscribe(Scanned, capacity=2, policy=SlowPolicy.WAIT)
    published = anyio.Event()
    async with anyio.create_task_group() as tg:

        async def publish_three() -> None:
            for code in "abc":
                await bus.publish(Scanned(code))
            published.set()

        tg.start_soon(publish_three)
        await wait_all_tasks_blocked()
        assert sub.depth == 2
        assert not published.is_set()
        assert sub.receive_nowait() == Scanned("a")
        await published.wait()
    assert [sub.receive_nowait(), sub.receive_nowait()] == [Scanned("b"), Scanned("c")]
    assert sub.dropped == 0


async def test_drop_policy_drops_and_counts_without_blocking() -> None:
    bus = EventBus()
    sub = bus.subscribe(Scanned, capacity=2, policy=SlowPolicy.DROP, name="live-stream")
    for code in "abcde":
        await bus.publish(Scanned(code))
    assert sub.dropped == 3
    assert bus.dropped_by_subscriber() == {"live-stream": 3}
    assert [sub.receive_nowait(), sub.receive_nowait()] == [Scanned("a"), Scanned("b")]


async def test_publish_nowait_drops_for_full_wait_subscribers_too() -> None:
    bus = EventBus()
    sub = bus.subscribe(Scanned, capacity=1, policy=SlowPolicy.WAIT)
    bus.publish_nowait(Scanned("a"))
    bus.publish_nowait(Scanned("b"))
    assert sub.dropped == 1
    assert sub.receive_nowait() == Scanned("a")


async def test_closing_releases_a_waiting_publisher() -> None:
    bus = EventBus()
    sub = bus.subscribe(Scanned, capacity=1)
    await bus.publish(Scanned("a"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(bus.publish, Scanned("b"))
        await wait_all_tasks_blocked()
        sub.close()
    assert sub.receive_nowait() == Scanned("a")
    with pytest.raises(anyio.EndOfStream):
        sub.receive_nowait()


def test_subscribe_needs_a_type() -> None:
    with pytest.raises(ValueError, match="at least one"):
        EventBus().subscribe()


async def test_an_async_with_block_unsubscribes_on_exit() -> None:
    bus = EventBus()
    async with bus.subscribe(Scanned) as sub:
        await bus.publish(Scanned("in"))
    await bus.publish(Scanned("out"))
    assert sub.closed
    assert [event async for event in sub] == [Scanned("in")]
