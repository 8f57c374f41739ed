"""Batched ask deadlines: one timer per timeout value, bounded memory, exact expiry."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from scanlet.runtime import Actor, AskTimeout, ChildSpec
from scanlet.runtime._deadletters import DeadLetters
from scanlet.runtime._deadlines import Deadlines
from scanlet.runtime._mailbox import Mailbox
from scanlet.runtime.testing import running_system


class Never(Actor[str]):
    """Never answers."""

    async def on_message(self, message: str) -> None:
        await anyio.sleep_forever()


async def test_asks_with_different_timeouts_expire_independently() -> None:
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("never", Never, stop_timeout=0.01))
        errors: dict[float, AskTimeout] = {}

        async def ask(seconds: float) -> None:
            with pytest.raises(AskTimeout) as info:
                await ref.ask("x", timeout=seconds)
            errors[seconds] = info.value

        async with anyio.create_task_group() as tg:
            for seconds in (0.02, 0.01, 0.01):
                tg.start_soon(ask, seconds)
        assert {t: e.timeout for t, e in errors.items()} == {0.01: 0.01, 0.02: 0.02}
        assert ref.statistics().ask_timeouts == 3
        assert system.deadlines.pending() == 0
        await system.shutdown(deadline=0.01)  # the actor is wedged: do not drain for long


async def test_answered_asks_do_not_pile_up_behind_a_stuck_one() -> None:
    loop = asyncio.get_running_loop()
    mailbox = Mailbox("m", 1, DeadLetters(), ask_timeout=60, otel=False)
    deadlines = Deadlines()
    stuck: asyncio.Future[None] = loop.create_future()
    deadlines.add(60, stuck, mailbox)
    for _ in range(10_000):
        answered: asyncio.Future[None] = loop.create_future()
        deadlines.add(60, answered, mailbox)
        answered.set_result(None)
    [lane] = deadlines._lanes.values()
    assert len(lane.entries) <= 2048
    assert deadlines.pending() == 1
    deadlines.close()
    stuck.cancel()


async def test_a_lane_disappears_once_its_asks_are_settled() -> None:
    loop = asyncio.get_running_loop()
    mailbox = Mailbox("m", 1, DeadLetters(), ask_timeout=0.001, otel=False)
    deadlines = Deadlines()
    future: asyncio.Future[None] = loop.create_future()
    deadlines.add(0.001, future, mailbox)
    with pytest.raises(AskTimeout):
        await future
    assert deadlines._lanes == {}
    assert mailbox.ask_timeouts == 1
