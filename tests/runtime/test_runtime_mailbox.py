"""Bounded mailboxes: backpressure or refusal, statistics, the control lane, group handling."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest
from anyio import wait_all_tasks_blocked

from scanlet.runtime import Actor, ChildSpec, Envelope, MailboxFull
from scanlet.runtime._deadletters import DeadLetters
from scanlet.runtime._mailbox import Mailbox
from scanlet.runtime.testing import running_system, spawn_probe


class Gate(Actor[Any]):
    """Holds the first message until released, then echoes everything."""

    def __init__(self, entered: anyio.Event, release: anyio.Event) -> None:
        self.entered = entered
        self.release = release
        self.seen: list[Any] = []

    async def on_message(self, message: Any) -> Any:
        self.seen.append(message)
        self.entered.set()
        await self.release.wait()
        return message


async def test_non_waiting_senders_are_refused_when_full() -> None:
    entered, release = anyio.Event(), anyio.Event()
    gate = Gate(entered, release)
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("gate", lambda: gate, mailbox_capacity=2))
        ref.tell_nowait("in-flight")
        await entered.wait()
        ref.tell_nowait(1)
        ref.tell_nowait(2)
        with pytest.raises(MailboxFull) as info:
            ref.tell_nowait(3)
        assert info.value.actor == "gate"
        assert info.value.retry_after > 0
        with pytest.raises(MailboxFull):
            await ref.ask(4, wait=False)
        stats = ref.statistics()
        assert (stats.depth, stats.capacity, stats.waiting_senders) == (2, 2, 0)
        release.set()
        await system.wait_idle()
        assert gate.seen == ["in-flight", 1, 2]


async def test_waiting_senders_get_backpressure_until_there_is_room() -> None:
    entered, release = anyio.Event(), anyio.Event()
    gate = Gate(entered, release)
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("gate", lambda: gate, mailbox_capacity=1))
        await ref.tell("in-flight")
        await entered.wait()
        await ref.tell("queued")
        replies: list[Any] = []

        async def ask_when_room() -> None:
            replies.append(await ref.ask("asked"))

        async with anyio.create_task_group() as tg:
            tg.start_soon(ref.tell, "waiting")
            tg.start_soon(ask_when_room)
            await wait_all_tasks_blocked()
            stats = ref.statistics()
            assert stats.depth == 1
            assert stats.waiting_senders == 2
            release.set()
        await system.wait_idle()
        assert gate.seen == ["in-flight", "queued", "waiting", "asked"]
        assert replies == ["asked"]
        stats = ref.statistics()
        assert (stats.depth, stats.waiting_senders, stats.messages_handled) == (0, 0, 4)


async def test_a_cancelled_waiting_sender_leaves_the_queue_consistent() -> None:
    entered, release = anyio.Event(), anyio.Event()
    gate = Gate(entered, release)
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("gate", lambda: gate, mailbox_capacity=1))
        await ref.tell("in-flight")
        await entered.wait()
        await ref.tell("queued")
        async with anyio.create_task_group() as tg:
            tg.start_soon(ref.tell, "cancelled")
            await wait_all_tasks_blocked()
            tg.cancel_scope.cancel()
        assert ref.statistics().waiting_senders == 0
        release.set()
        await system.wait_idle()
        assert gate.seen == ["in-flight", "queued"]


async def test_waiting_for_room_counts_against_the_ask_deadline() -> None:
    entered, release = anyio.Event(), anyio.Event()
    async with running_system() as system:
        ref = await system.spawn(
            ChildSpec("gate", lambda: Gate(entered, release), mailbox_capacity=1)
        )
        await ref.tell("in-flight")
        await entered.wait()
        await ref.tell("queued")
        with pytest.raises(TimeoutError):
            await ref.ask("no room", timeout=0.01)
        assert ref.statistics().ask_timeouts == 1
        release.set()


async def test_stop_does_not_wait_behind_user_messages() -> None:
    entered, release = anyio.Event(), anyio.Event()
    gate = Gate(entered, release)
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("gate", lambda: gate, mailbox_capacity=3))
        await ref.tell("in-flight")
        await entered.wait()
        for i in range(3):
            ref.tell_nowait(i)  # the mailbox is now full
        async with anyio.create_task_group() as tg:
            tg.start_soon(ref.stop)
            await wait_all_tasks_blocked()
            release.set()
        # Only the in-flight message was handled; the queued ones became dead letters.
        assert gate.seen == ["in-flight"]
        assert [d.message for d in system.dead_letters.recent()] == [0, 1, 2]
        assert ref.statistics().dead_letters == 3


async def test_statistics_count_handled_messages() -> None:
    async with running_system() as system:
        probe = await spawn_probe(system, "probe", capacity=8)
        for i in range(5):
            await probe.ref.tell(i)
        await system.wait_idle()
        stats = probe.ref.statistics()
        assert stats.messages_handled == 5
        assert (stats.depth, stats.capacity, stats.failures, stats.restarts) == (0, 8, 0, 0)


class Batcher(Actor[int]):
    """Answers each ask with the size of the batch it was handled in (group commit)."""

    def __init__(self, entered: anyio.Event, release: anyio.Event) -> None:
        self.entered = entered
        self.release = release
        self.batches: list[list[int]] = []

    async def on_message(self, message: int) -> int:
        if message < 0:  # the blocker
            self.entered.set()
            await self.release.wait()
            return 0
        more: list[Envelope[int]] = self.take_queued(10)
        batch = [message, *(env.message for env in more)]
        self.batches.append(batch)
        for env in more:
            env.reply(len(batch))
        return len(batch)


async def test_take_queued_hands_over_queued_messages_for_group_handling() -> None:
    entered, release = anyio.Event(), anyio.Event()
    batcher = Batcher(entered, release)
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("batcher", lambda: batcher))
        await ref.tell(-1)
        await entered.wait()
        results: dict[int, int] = {}

        async def ask(i: int) -> None:
            results[i] = await ref.ask(i)

        async with anyio.create_task_group() as tg:
            for i in range(4):
                tg.start_soon(ask, i)
            await wait_all_tasks_blocked()
            await ref.tell(4)
            release.set()
        assert batcher.batches == [[0, 1, 2, 3, 4]]
        assert results == dict.fromkeys(range(4), 5)
        assert ref.statistics().messages_handled == 6


class Spinner(Actor[str]):
    """Keeps re-sending to itself without ever suspending."""

    async def on_message(self, message: str) -> None:
        if message == "spin":
            self.ref.tell_nowait("spin")


async def test_a_busy_actor_does_not_starve_the_others() -> None:
    async with running_system() as system:
        spinner = await system.spawn(ChildSpec("spinner", Spinner))
        probe = await spawn_probe(system, "probe", reply=lambda m: m * 2)
        await spinner.tell("spin")
        assert await probe.ref.ask(21) == 42
        await spinner.stop()
        assert spinner.statistics().messages_handled > 0


async def test_take_skips_given_up_asks_without_counting_them_towards_the_limit() -> None:
    loop = asyncio.get_running_loop()
    mailbox = Mailbox("m", 100, DeadLetters(), ask_timeout=60, otel=False)
    futures = [loop.create_future() for _ in range(9)]
    for index, future in enumerate(futures):
        mailbox.push(Envelope(index, None, future, 0.0))
    mailbox.push(Envelope("tell", None, None, 0.0))
    for given_up in (0, 1, 3, 4, 5):
        futures[given_up].cancel()
    first = mailbox.take(3)
    assert [env.message for env in first] == [2, 6, 7]
    rest = mailbox.take(10)
    assert [env.message for env in rest] == [8, "tell"]
    assert not mailbox.queue
    assert mailbox.take(5) == []
